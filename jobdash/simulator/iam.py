"""Identity for the simulator: IAM password tokens, the static token, AK/SK signatures."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jobdash.simulator.clock import format_iam_time
from jobdash.simulator.config import SimAccount, make_token, seeded_random

SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_CLOCK_SKEW = timedelta(minutes=15)

#: The id of the simulated user's domain (the same for every simulated user).
DOMAIN_ID = "0" * 31 + "1"


@dataclass(slots=True)
class IssuedToken:
    project_id: str
    issued_ms: int
    expires_ms: int
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a request authenticated as, or why it did not."""

    project_id: str | None
    problem: str | None = None  # shown after "Incorrect IAM authentication information: "

    @property
    def ok(self) -> bool:
        return self.problem is None


class TokenBook:
    """Tokens issued by `POST /v3/auth/tokens`. Caller holds a lock."""

    def __init__(self, *, seed: int, ttl: float, static_tokens: Mapping[str, str]) -> None:
        """`static_tokens`: each account's pre-issued token -> the project it is for."""
        self._rng = seeded_random("tokens", seed)
        self._ttl_ms = round(ttl * 1000)
        self._static_tokens = dict(static_tokens)
        self._tokens: dict[str, IssuedToken] = {}

    @property
    def issued(self) -> int:
        return len(self._tokens)

    def issued_by_project(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for record in self._tokens.values():
            counts[record.project_id] = counts.get(record.project_id, 0) + 1
        return counts

    def issue(self, now_ms: int, project_id: str) -> tuple[str, IssuedToken]:
        token = make_token(self._rng)
        record = IssuedToken(project_id, now_ms, now_ms + self._ttl_ms)
        self._tokens[token] = record
        return token, record

    def expire_all(self) -> None:
        """Every issued IAM token stops working; the static token stays valid."""
        for record in self._tokens.values():
            record.revoked = True

    def check(self, token: str, now_ms: int) -> Identity:
        for static, project_id in self._static_tokens.items():
            if hmac.compare_digest(token.encode(), static.encode()):
                return Identity(project_id)
        record = self._tokens.get(token)
        if record is None:
            return Identity(None, "decrypt token fail")
        if record.revoked or now_ms >= record.expires_ms:
            return Identity(None, "token expired")
        return Identity(record.project_id)


def password_auth(
    body: Any, accounts: Sequence[SimAccount]
) -> tuple[str | None, SimAccount | None, str]:
    """(why a Keystone-style password auth body is refused or None, the account, the
    project id the token is scoped to)."""
    if not isinstance(body, Mapping):
        return "malformed", None, ""
    auth = body.get("auth")
    identity = auth.get("identity") if isinstance(auth, Mapping) else None
    if not isinstance(identity, Mapping):
        return "malformed", None, ""
    methods = identity.get("methods")
    password = identity.get("password")
    if (
        not isinstance(methods, list)
        or "password" not in methods
        or not isinstance(password, Mapping)
    ):
        return "malformed", None, ""
    user = password.get("user")
    if not isinstance(user, Mapping):
        return "malformed", None, ""
    account = next((a for a in accounts if _user_matches(user, a)), None)
    if account is None:
        return "credentials", None, ""
    scope = auth.get("scope") if isinstance(auth, Mapping) else None
    project = scope.get("project") if isinstance(scope, Mapping) else None
    if not isinstance(project, Mapping):
        return "scope", account, ""
    if "id" in project:
        wanted = project.get("id")
        found = wanted if wanted in account.projects.values() else None
    else:
        found = account.projects.get(str(project.get("name")))
    return (None, account, found) if found else ("scope", account, "")


def _user_matches(user: Mapping[str, Any], account: SimAccount) -> bool:
    credentials = account.credentials
    domain = user.get("domain")
    domain = domain if isinstance(domain, Mapping) else {}
    # IAM accepts the user's domain by name or by id.
    domain_ok = (
        domain.get("id") == account.domain_id
        if "id" in domain
        else domain.get("name") == credentials.user_domain_name
    )
    given_password = user.get("password")
    return (
        user.get("name") == credentials.username
        and domain_ok
        and isinstance(given_password, str)
        and hmac.compare_digest(given_password.encode(), credentials.password.encode())
    )


def token_body(
    record: IssuedToken,
    *,
    account: SimAccount,
    project_id: str,
    region: str,
    base_url: str,
) -> dict[str, Any]:
    """The body IAM answers a password auth with, catalog included."""

    def service(kind: str, name: str, url: str) -> dict[str, Any]:
        endpoint = {
            "interface": "public",
            "region": region,
            "region_id": region,
            "url": url,
            "id": f"{name}-public",
        }
        return {"type": kind, "name": name, "id": f"{name}-service", "endpoints": [endpoint]}

    credentials = account.credentials
    project_name = next(name for name, pid in account.projects.items() if pid == project_id)
    domain = {"name": credentials.user_domain_name, "id": account.domain_id}
    return {
        "token": {
            "expires_at": format_iam_time(record.expires_ms),
            "issued_at": format_iam_time(record.issued_ms),
            "methods": ["password"],
            "project": {"id": project_id, "name": project_name, "domain": domain},
            "user": {
                "id": account.domain_id[::-1],
                "name": credentials.username,
                "domain": domain,
                "password_expires_at": "",
            },
            "roles": [{"id": "2" * 32, "name": "te_admin"}],
            "catalog": [
                service("ecs", "ecs", f"{base_url}/v1/{project_id}"),
                service("evs", "evs", f"{base_url}/v2/{project_id}"),
                service("identity", "iam", f"{base_url}/v3"),
            ],
        }
    }


def verify_aksk(
    *,
    authorization: str,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    accounts: Sequence[SimAccount],
    real_now: datetime | None = None,
) -> Identity:
    """Check an `SDK-HMAC-SHA256` request signature; headers are keyed in lower case."""
    # The client's own signing code is the reference; imported late to keep startup light.
    from jobdash.auth.aksk import aksk_signature, parse_sdk_authorization

    parsed = parse_sdk_authorization(authorization)
    if parsed is None:
        return Identity(None, "malformed Authorization header")
    access_key, signed_headers, signature = parsed
    account = next((a for a in accounts if a.credentials.access_key == access_key), None)
    if account is None:
        return Identity(None, "get secretkey error")
    credentials = account.credentials
    signed = [name.lower() for name in signed_headers]
    if "x-sdk-date" not in signed:
        return Identity(None, "X-Sdk-Date must be signed")
    if any(name not in headers for name in signed):
        return Identity(None, "a signed header is missing")
    try:
        sent = datetime.strptime(headers["x-sdk-date"], SDK_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return Identity(None, "malformed X-Sdk-Date")
    if abs((real_now or datetime.now(UTC)) - sent) > MAX_CLOCK_SKEW:
        return Identity(None, "the request has expired (X-Sdk-Date is too far from now)")
    expected = aksk_signature(credentials.secret_key, method, path, query, headers, signed, body)
    if not hmac.compare_digest(expected, signature.lower()):
        return Identity(None, "verify aksk signature fail")
    project_id = headers.get("x-project-id")
    if not project_id:
        return Identity(None, "X-Project-Id is required with AK/SK")
    if project_id not in account.projects.values():
        return Identity(None, "the project is not in the key's account")
    return Identity(project_id)
