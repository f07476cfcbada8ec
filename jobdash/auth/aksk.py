"""The `SDK-HMAC-SHA256` request signature used with access keys (AK/SK).

Client and server must build the same canonical request from the same HTTP
request; `aksk_signature` is used both to sign (auth.AkSkAuth) and to verify
(the simulator). The rules follow huaweicloudsdkcore, which the tests use as the
oracle:

- canonical URI: the path percent-decoded, split at "/", each segment encoded
  with everything except unreserved characters escaped, always ending in "/";
- canonical query: (name, value) pairs decoded, sorted, re-encoded the same way,
  "name=" for a missing value, joined with "&";
- canonical headers: "name:value" for each signed header, lower-case names,
  values stripped, one per line; signed header names joined with ";";
- payload: sha256 of the body ("" for no body), or the value of
  X-Sdk-Content-Sha256 when the request carries that header.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_HEADER = "X-Sdk-Date"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
CONTENT_HASH_HEADER = "X-Sdk-Content-Sha256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_BODY_HASH = hashlib.sha256(b"").hexdigest()

QueryInput = str | Sequence[tuple[str, str]]


def _encode(text: str) -> str:
    # RFC 3986 unreserved characters stay; everything else, "/" included, is escaped.
    return quote(text, safe="~")


def canonical_uri(path: str) -> str:
    """`/v1/abc/jobs` -> `/v1/abc/jobs/`; segments decoded then re-encoded."""
    encoded = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return encoded if encoded.endswith("/") else encoded + "/"


def query_pairs(query: str) -> list[tuple[str, str]]:
    """Decode a raw query string into (name, value) pairs; `a` alone means `a=`."""
    pairs: list[tuple[str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def canonical_query(query: QueryInput) -> str:
    pairs = query_pairs(query) if isinstance(query, str) else [(k, v) for k, v in query]
    return "&".join(f"{_encode(name)}={_encode(value)}" for name, value in sorted(pairs))


def _lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): str(value).strip() for name, value in headers.items()}


def payload_hash(body: bytes, headers: Mapping[str, str]) -> str:
    if not body:
        return EMPTY_BODY_HASH
    declared = _lower_keys(headers).get(CONTENT_HASH_HEADER.lower())
    if declared:
        return declared
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str,
    path: str,
    query: QueryInput,
    headers: Mapping[str, str],
    signed_headers: Iterable[str],
    body: bytes,
) -> str:
    """The text whose hash is signed. `signed_headers` keeps the order given."""
    lowered = _lower_keys(headers)
    names = [name.lower() for name in signed_headers]
    header_lines = "".join(f"{name}:{lowered.get(name, '')}\n" for name in names)
    return "\n".join(
        (
            method.upper(),
            canonical_uri(path or "/"),
            canonical_query(query),
            header_lines,
            ";".join(names),
            payload_hash(body, headers),
        )
    )


def string_to_sign(canonical: str, sdk_date: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def aksk_signature(
    secret_key: str,
    method: str,
    path: str,
    query: QueryInput,
    headers: Mapping[str, str],
    signed_headers: Iterable[str],
    body: bytes,
) -> str:
    """Hex HMAC-SHA256 signature of a request; the date comes from its X-Sdk-Date header."""
    canonical = canonical_request(method, path, query, headers, signed_headers, body)
    sdk_date = _lower_keys(headers).get(DATE_HEADER.lower(), "")
    message = string_to_sign(canonical, sdk_date).encode("utf-8")
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def authorization_value(access_key: str, signed_headers: Sequence[str], signature: str) -> str:
    return (
        f"{ALGORITHM} Access={access_key}, SignedHeaders={';'.join(signed_headers)}, "
        f"Signature={signature}"
    )


def parse_sdk_authorization(value: str) -> tuple[str, list[str], str] | None:
    """`SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex` -> (AK, [a, b], hex)."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme != ALGORITHM:
        return None
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, equals, field_value = part.strip().partition("=")
        if not equals:
            return None
        fields[name.strip()] = field_value.strip()
    access_key = fields.get("Access")
    signed = fields.get("SignedHeaders")
    signature = fields.get("Signature")
    if not access_key or not signed or not signature:
        return None
    names = [name for name in signed.split(";") if name]
    if not names:
        return None
    return access_key, names, signature
