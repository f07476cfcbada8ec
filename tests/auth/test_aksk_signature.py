"""AK/SK signatures compared with huaweicloudsdkcore's Signer, the reference implementation."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest

from jobdash.auth.aksk import aksk_signature, parse_sdk_authorization
from jobdash.auth.methods import AkSkAuth

pytest.importorskip("huaweicloudsdkcore")

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

# The example of Huawei Cloud's API signing guide, with its published result.
EXAMPLE_AK = "QTWAOYTTINDUT2QVKYUC"
EXAMPLE_SK = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
EXAMPLE_SIGNATURE = "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
SDK_DATE = "20191115T033655Z"


def sdk_authorization(
    method: str,
    host: str,
    path: str,
    query: list[tuple[str, str]],
    headers: dict[str, str],
    body: bytes,
    ak: str = EXAMPLE_AK,
    sk: str = EXAMPLE_SK,
) -> str:
    request = SdkRequest(
        method=method,
        schema="https",
        host=host,
        resource_path=path,
        query_params=list(query),
        header_params=dict(headers),  # the signer rewrites values in place
        body=body,
    )
    signed = Signer(BasicCredentials(ak, sk)).sign(request)
    return signed.header_params["Authorization"]


def raw_query(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def test_published_example_matches_the_guide_and_the_sdk() -> None:
    headers = {
        "Content-Type": "application/json",
        "Host": "service.region.example.com",
        "X-Sdk-Date": SDK_DATE,
    }
    query = [("limit", "2"), ("marker", "13551d6b-755d-4757-b956-536f674975c0")]
    path = "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs"
    signed = ["content-type", "host", "x-sdk-date"]

    ours = aksk_signature(EXAMPLE_SK, "GET", path, raw_query(query), headers, signed, b"")

    assert ours == EXAMPLE_SIGNATURE
    expected = sdk_authorization("GET", "service.region.example.com", path, query, headers, b"")
    assert expected.endswith(f"Signature={ours}")
    assert parse_sdk_authorization(expected) == (EXAMPLE_AK, signed, EXAMPLE_SIGNATURE)


SEGMENTS = [
    "v1",
    "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "jobs",
    "ff80808288d41e1b018b3b7e1e6b0f4c",
    "with space",
    "ümlaut",
    "作业",
    "a+b",
    "tilde~ok",
    "semi;colon",
    "percent%sign",
    "dots.and-dashes_",
    "quote'\"",
    "emoji🙂",
]
QUERY_KEYS = ["limit", "marker", "name", "a", "Z", "key with space", "ключ", "x[]", "tag"]
QUERY_VALUES = ["", "2", "a b", "a+b", "x=y", "&amp", "ü", "~", "/path/", "*", "13551d6b", "中"]
CONTENT_TYPES = [
    None,
    "application/json",
    "application/json;charset=UTF-8",
    "text/plain",
    "application/octet-stream",
]


def random_case(
    rng: random.Random,
) -> tuple[str, str, list[tuple[str, str]], dict[str, str], bytes]:
    method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "get"])
    segments = [rng.choice(SEGMENTS) for _ in range(rng.randint(0, 5))]
    path = "/" + "/".join(segments)
    if segments and rng.random() < 0.3:
        path += "/"
    query = []
    for _ in range(rng.randint(0, 5)):
        key = rng.choice(QUERY_KEYS)
        query.append((key, rng.choice(QUERY_VALUES)))
        if rng.random() < 0.3:  # the same key again with another value
            query.append((key, rng.choice(QUERY_VALUES)))
    headers = {
        "Host": rng.choice(["ecs.eu-de.otc.t-systems.com", "127.0.0.1:8080", "[::1]:443"]),
        "X-Sdk-Date": SDK_DATE,
        "X-Project-Id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    }
    content_type = rng.choice(CONTENT_TYPES)
    if content_type:
        headers["Content-Type"] = content_type
        if not content_type.startswith("application/json"):
            headers["X-Sdk-Content-Sha256"] = "UNSIGNED-PAYLOAD"
    if rng.random() < 0.5:
        headers["X-Custom-Header"] = rng.choice(["  padded  ", "plain", "a,b", "Ünïcode"])
    if rng.random() < 0.3:
        headers["User-Agent"] = "jobdash-test/1.0"
    body = b""
    if method.upper() in ("POST", "PUT", "PATCH") and rng.random() < 0.8:
        body = rng.choice(
            [
                b'{"server": {"name": "web", "count": 3}}',
                '{"name": "ümlaut"}'.encode(),
                bytes(rng.randrange(256) for _ in range(64)),
            ]
        )
    return method, path, query, headers, body


@pytest.mark.parametrize("seed", range(40))
def test_generated_requests_match_the_sdk(seed: int) -> None:
    rng = random.Random(seed)
    method, path, query, headers, body = random_case(rng)
    sk = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(40))
    # Percent-encode the path the way it travels over the wire.
    wire_path = quote(path, safe="/")

    expected = sdk_authorization(method, headers["Host"], path, query, headers, body, sk=sk)
    parsed = parse_sdk_authorization(expected)
    assert parsed is not None
    _, sdk_signed, sdk_signature = parsed
    assert sdk_signed == sorted(name.lower() for name in headers)

    from_raw_query = aksk_signature(
        sk, method, wire_path, raw_query(query), headers, sdk_signed, body
    )
    from_pairs = aksk_signature(sk, method, path, query, headers, sdk_signed, body)
    assert from_raw_query == sdk_signature
    assert from_pairs == sdk_signature


@pytest.mark.parametrize("seed", range(10))
def test_auth_class_header_matches_the_sdk(seed: int) -> None:
    """AkSkAuth signs a real httpx request; the SDK signs the same signed headers."""
    rng = random.Random(1000 + seed)
    _, path, query, _, body = random_case(rng)
    method = "POST" if body else "GET"
    url = httpx.URL(f"https://ecs.eu-de.otc.t-systems.com{quote(path, safe='/')}")
    request = httpx.Request(
        method,
        url.copy_with(query=raw_query(query).encode() or None),
        content=body or None,
        headers={"Content-Type": "application/json"} if body else None,
    )
    clock = lambda: datetime(2019, 11, 15, 3, 36, 55, tzinfo=UTC)  # noqa: E731
    auth = AkSkAuth(EXAMPLE_AK, EXAMPLE_SK, "0f1e2d3c4b5a69788796a5b4c3d2e1f0", clock=clock)

    signed_request = next(auth.sync_auth_flow(request))

    assert signed_request.headers["X-Sdk-Date"] == SDK_DATE
    assert signed_request.headers["X-Project-Id"] == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    parsed = parse_sdk_authorization(signed_request.headers["Authorization"])
    assert parsed is not None
    access, signed_names, _ = parsed
    assert access == EXAMPLE_AK
    assert {"host", "x-sdk-date", "x-project-id"} <= set(signed_names)
    # Headers a proxy may rewrite are left out of the signature.
    assert not {"accept-encoding", "connection", "user-agent"} & set(signed_names)
    sdk_headers = {name: signed_request.headers[name] for name in signed_names}
    expected = sdk_authorization(method, url.netloc.decode(), path, query, sdk_headers, body)
    assert signed_request.headers["Authorization"] == expected


def test_non_json_body_is_sent_unsigned_like_the_sdk() -> None:
    clock = lambda: datetime(2019, 11, 15, 3, 36, 55, tzinfo=UTC)  # noqa: E731
    auth = AkSkAuth(EXAMPLE_AK, EXAMPLE_SK, "p" * 32, clock=clock)
    request = httpx.Request(
        "PUT",
        "https://obs.example.com/bucket/key",
        content=b"raw bytes",
        headers={"Content-Type": "application/octet-stream"},
    )
    signed_request = next(auth.sync_auth_flow(request))
    assert signed_request.headers["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    parsed = parse_sdk_authorization(signed_request.headers["Authorization"])
    assert parsed is not None
    names = parsed[1]
    sdk_headers = {name: signed_request.headers[name] for name in names}
    expected = sdk_authorization(
        "PUT", "obs.example.com", "/bucket/key", [], sdk_headers, b"raw bytes"
    )
    assert signed_request.headers["Authorization"] == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Bearer abc",
        "SDK-HMAC-SHA256",
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host",
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=, Signature=abc",
        "SDK-HMAC-SHA256 Access=AK SignedHeaders=host Signature=abc",
        "SDK-HMAC-SM3 Access=AK, SignedHeaders=host, Signature=abc",
    ],
)
def test_malformed_authorization_values_are_rejected(value: str) -> None:
    assert parse_sdk_authorization(value) is None


def test_authorization_parser_reads_the_three_parts() -> None:
    value = "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=00ff"
    assert parse_sdk_authorization(value) == ("AK1", ["host", "x-sdk-date"], "00ff")


def test_secret_key_stays_out_of_repr() -> None:
    auth = AkSkAuth("AK-visible", "SK-very-secret", "p" * 32)
    assert "SK-very-secret" not in repr(auth)
    assert "SK-very-secret" not in str(auth)
    assert "AK-visible" in repr(auth)
