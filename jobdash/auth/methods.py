"""httpx.Auth classes: a static token, an IAM password login, and AK/SK request signing.

None of them ever puts a password, token or secret key into repr(), an exception
message or a log line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from jobdash.api.errors import (
    BadResponseError,
    ConfigError,
    NetworkError,
)
from jobdash.api.http1 import DeadlineExceeded, UnusableAnswer
from jobdash.auth.aksk import (
    CONTENT_HASH_HEADER,
    DATE_FORMAT,
    DATE_HEADER,
    UNSIGNED_PAYLOAD,
    aksk_signature,
    authorization_value,
)
from jobdash.auth.iam_errors import login_error, unreachable_cause
from jobdash.auth.service_catalog import catalog_regions, endpoint_from_catalog
from jobdash.auth.token_cache import TokenCache, TokenInfo, identity_key, parse_iam_time
from jobdash.config import paths
from jobdash.config.checks import check_auth_url

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

#: A cached token is replaced this long before IAM says it expires (at most a tenth of
#: its lifetime: `TokenInfo.refresh_margin`).
REFRESH_MARGIN_SECONDS = 300.0
#: Assumed lifetime when IAM does not say (it normally does: 24 h).
FALLBACK_LIFETIME = timedelta(hours=1)
IAM_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


def utc_now() -> datetime:
    return datetime.now(UTC)


class TokenAuth(httpx.Auth):
    """Sends a token the user already has as `X-Auth-Token`."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ConfigError("the auth token is empty")
        self._token = token

    def __repr__(self) -> str:
        return "TokenAuth(token=<hidden>)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Auth-Token"] = self._token
        yield request


class AkSkAuth(httpx.Auth):
    """Signs every request with an access key pair (`SDK-HMAC-SHA256`)."""

    requires_request_body = True
    #: Headers signed when present. Only ones no proxy rewrites: a signature over
    #: Accept-Encoding or Connection would break behind the first load balancer.
    SIGNED_HEADERS = frozenset(
        {
            "host",
            "content-type",
            "x-sdk-date",
            "x-project-id",
            "x-domain-id",
            "x-security-token",
            CONTENT_HASH_HEADER.lower(),
        }
    )

    def __init__(
        self, access_key: str, secret_key: str, project_id: str, *, clock: Clock = utc_now
    ) -> None:
        if not access_key or not secret_key:
            raise ConfigError("the access key and secret key must both be set")
        self.access_key = access_key
        self._secret_key = secret_key
        self.project_id = project_id
        self._clock = clock

    def __repr__(self) -> str:
        return (
            f"AkSkAuth(access_key={self.access_key!r}, secret_key=<hidden>, "
            f"project_id={self.project_id!r})"
        )

    def sign(self, request: httpx.Request) -> None:
        headers = request.headers
        headers[DATE_HEADER] = self._clock().astimezone(UTC).strftime(DATE_FORMAT)
        if self.project_id:
            headers["X-Project-Id"] = self.project_id
        content_type = headers.get("Content-Type")
        if content_type and not content_type.startswith(("application/json", "application/bson")):
            headers[CONTENT_HASH_HEADER] = UNSIGNED_PAYLOAD
        header_map = {name.lower(): value for name, value in headers.items()}
        signed = sorted(name for name in header_map if name in self.SIGNED_HEADERS)
        path, _, query = request.url.raw_path.decode("ascii").partition("?")
        signature = aksk_signature(
            self._secret_key, request.method, path, query, header_map, signed, request.content
        )
        headers["Authorization"] = authorization_value(self.access_key, signed, signature)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request


def _normalise_auth_url(auth_url: str) -> str:
    """IAM's base URL ends with /v3; a bare host gets it added."""
    url = auth_url.strip().rstrip("/")
    if not check_auth_url(url).path:
        url += "/v3"
    return url


class PasswordAuth(httpx.Auth):
    """Logs in to IAM with a password, caches the token and refreshes it when needed.

    The token is reused until REFRESH_MARGIN_SECONDS (or a tenth of its lifetime, when
    that is shorter) before it expires; a 401 from
    the API makes it log in again once and retry the request once.
    Works with httpx.AsyncClient only.
    """

    def __init__(
        self,
        auth_url: str,
        username: str,
        password: str,
        user_domain_name: str,
        project_id: str | None = None,
        project_name: str | None = None,
        *,
        user_domain_id: str | None = None,
        cache_dir: Path | None = None,
        clock: Clock = utc_now,
        use_cache: bool = True,
    ) -> None:
        if not project_id and not project_name:
            raise ConfigError("IAM password login needs a project id or a project name")
        if not user_domain_name and not user_domain_id:
            raise ConfigError("IAM password login needs the user's domain name or id")
        self.auth_url = _normalise_auth_url(auth_url)
        self.username = username
        self._password = password
        self.user_domain_name = user_domain_name
        # The domain id, when given, is what IAM is sent (it names the domain exactly).
        self.user_domain_id = user_domain_id
        self.project_id = project_id
        self.project_name = project_name
        self._cache_dir = cache_dir
        self._clock = clock
        self._use_cache = use_cache
        self._info: TokenInfo | None = None
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self.logins = 0  # successful IAM logins by this object, for diagnostics and tests

    def __repr__(self) -> str:
        return (
            f"PasswordAuth(auth_url={self.auth_url!r}, username={self.username!r}, "
            f"user_domain={self._domain_label()!r}, project={self._scope_label()!r}, "
            "password=<hidden>)"
        )

    def _domain_label(self) -> str:
        return self.user_domain_id or self.user_domain_name

    def _domain(self) -> dict[str, str]:
        return (
            {"id": self.user_domain_id} if self.user_domain_id else {"name": self.user_domain_name}
        )

    def _scope_label(self) -> str:
        return self.project_id or self.project_name or ""

    @property
    def token_info(self) -> TokenInfo | None:
        """The token in use, if any (no I/O)."""
        return self._info

    @property
    def cache(self) -> TokenCache:
        directory = self._cache_dir if self._cache_dir is not None else paths.token_cache_dir()
        key = identity_key(
            self.auth_url,
            self.username,
            self.user_domain_name,
            self.project_id,
            self.project_name,
            user_domain_id=self.user_domain_id,
        )
        return TokenCache(directory, key, secret=self._password)

    def _lock_for_loop(self) -> asyncio.Lock:
        # One lock per event loop: a lock that waited once is bound to its loop.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock = asyncio.Lock()
            self._lock_loop = loop
        return self._lock

    # -- the login request and its answer ---------------------------------------------

    def _login_body(self) -> dict[str, Any]:
        project: dict[str, Any]
        if self.project_id:
            project = {"id": self.project_id}
        else:
            project = {"name": self.project_name, "domain": self._domain()}
        return {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": self.username,
                            "password": self._password,
                            "domain": self._domain(),
                        }
                    },
                },
                "scope": {"project": project},
            }
        }

    def login_request(self, timeout: Mapping[str, Any] | None = None) -> httpx.Request:
        return httpx.Request(
            "POST",
            f"{self.auth_url}/auth/tokens",
            json=self._login_body(),
            headers={"Accept": "application/json"},
            extensions={"timeout": dict(timeout or IAM_TIMEOUT.as_dict())},
        )

    def _who(self) -> str:
        return f"user {self.username!r} (domain {self._domain_label()!r})"

    def _accept(self, response: httpx.Response) -> TokenInfo:
        if response.status_code not in (200, 201):
            raise login_error(response, self.auth_url, self._who(), self._scope_label())
        token = response.headers.get("X-Subject-Token")
        try:
            data = response.json()
        except (ValueError, UnicodeDecodeError, RecursionError):
            data = None
        body = data.get("token") if isinstance(data, dict) else None
        if not token or not isinstance(body, dict):
            raise BadResponseError(
                f"IAM at {self.auth_url} answered HTTP {response.status_code} without a token",
                http_status=response.status_code,
            )
        project = body.get("project") if isinstance(body.get("project"), dict) else {}
        catalog = body.get("catalog")
        now = self._clock()
        info = TokenInfo(
            token=token,
            expires_at=parse_iam_time(body.get("expires_at")) or now + FALLBACK_LIFETIME,
            issued_at=parse_iam_time(body.get("issued_at")) or now,
            project_id=_text(project.get("id")) or self.project_id,
            project_name=_text(project.get("name")) or self.project_name,
            catalog=[entry for entry in catalog if isinstance(entry, dict)]
            if isinstance(catalog, list)
            else [],
        )
        self._info = info
        self.logins += 1
        if self._use_cache:
            self.cache.save(info)
        log.debug("IAM token for %s valid until %s", self._who(), info.expires_at.isoformat())
        return info

    # -- token state ------------------------------------------------------------------

    def _usable_token(self) -> TokenInfo | None:
        """The in-memory or cached token when it is far enough from expiry; no network."""
        now = self._clock()
        if self._info is not None and self._info.usable_at(now, REFRESH_MARGIN_SECONDS):
            return self._info
        if self._use_cache:
            cached = self.cache.load()
            if cached is not None and cached.usable_at(now, REFRESH_MARGIN_SECONDS):
                self._info = cached
                return cached
        return None

    def _forget(self, token: str) -> None:
        """Drop a token the API refused, unless a newer one has already replaced it."""
        if self._info is not None and self._info.token == token:
            self._info = None
        if self._use_cache:
            cached = self.cache.load()
            if cached is not None and cached.token == token:
                self.cache.clear()

    async def ensure_token(self, http: httpx.AsyncClient) -> TokenInfo:
        """A usable token, logging in through `http` when there is none."""
        async with self._lock_for_loop():
            info = self._usable_token()
            if info is not None:
                return info
            request = self.login_request(http.timeout.as_dict())
            try:
                response = await http.send(request, auth=None)
            except DeadlineExceeded as exc:
                raise NetworkError(
                    f"timed out logging in to IAM at {self.auth_url}: {exc}"
                ) from None
            except httpx.TimeoutException as exc:
                raise NetworkError(
                    f"timed out logging in to IAM at {self.auth_url} ({type(exc).__name__})"
                ) from None
            except UnusableAnswer as exc:
                raise BadResponseError(
                    f"refused the answer of IAM at {self.auth_url}: {exc}"
                ) from None
            except httpx.TransportError as exc:
                raise NetworkError(
                    f"cannot reach IAM at {self.auth_url}: {unreachable_cause(exc)}"
                ) from None
            return self._accept(response)

    def remembered_token(self) -> TokenInfo | None:
        """The token of this identity's last login (in memory, else cached), expired or
        not; no network. Never sent: what it tells is which project the login named (its
        id) and where that project's services are (its catalog), and that outlives the token.
        """
        if self._info is not None:
            return self._info
        return self.cache.load() if self._use_cache else None

    def endpoint_from_catalog(
        self, service_type: str = "ecs", region: str | None = None, token: TokenInfo | None = None
    ) -> str | None:
        """The public base URL of a service from the token's catalog, without `/v1/<project>`;
        the token in use, or `token` (e.g. `remembered_token()`).

        The token is scoped to one project, which lives in one region: the catalog's entry
        for that region (named by the project, `eu-nl` or `eu-nl_team`), else for `region`
        (the connection's, which for another project given by id may be another region's),
        else the catalog's own. Never the region's default host when the catalog names one.
        """
        info = token or self._info
        if info is None:
            return None
        own = (info.project_name or "").partition("_")[0] or None
        for wanted in dict.fromkeys((own, region, None)):
            if (
                wanted is None
                and (own or region)
                and catalog_regions(info.catalog, service_type) > 1
            ):
                # Several regions and none of them this project's: no guess.
                return None
            found = endpoint_from_catalog(info.catalog, service_type, wanted)
            if found:
                return found
        return None

    # -- httpx ------------------------------------------------------------------------

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise TypeError("PasswordAuth works with httpx.AsyncClient only")
        yield request  # pragma: no cover - makes this a generator

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        timeout = request.extensions.get("timeout")
        async with self._lock_for_loop():
            info = self._usable_token()
            if info is None:
                login = yield self.login_request(timeout)
                await login.aread()
                info = self._accept(login)
        request.headers["X-Auth-Token"] = info.token
        response = yield request
        if response.status_code != 401:
            return
        # The token was refused before we expected it to expire: log in again, once.
        async with self._lock_for_loop():
            self._forget(info.token)
            fresh = self._usable_token()
            if fresh is None:
                login = yield self.login_request(timeout)
                await login.aread()
                fresh = self._accept(login)
        request.headers["X-Auth-Token"] = fresh.token
        yield request


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
