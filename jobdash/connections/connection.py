"""From Settings to a ready connection: auth, a pooled httpx.AsyncClient, endpoint, project."""

from __future__ import annotations

import ipaddress
import logging
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from jobdash import __version__
from jobdash.api.client import DEFAULT_TIMEOUT, JobsClient
from jobdash.api.errors import ConfigError, InvalidIdError
from jobdash.api.http1 import ACCEPT_ENCODING, DEFAULT_DEADLINE, Http1Transport
from jobdash.api.ids import validate_id
from jobdash.api.proxied import LimitedClient
from jobdash.auth.methods import AkSkAuth, PasswordAuth, TokenAuth
from jobdash.auth.service_catalog import CATALOG_TYPES, service_origin
from jobdash.auth.token_cache import TokenInfo
from jobdash.config.checks import check_endpoint
from jobdash.config.regions import PROFILES, ecs_endpoint, fill_region, profile_auth_url
from jobdash.config.settings import Settings, require_complete
from jobdash.services.base import JobService, endpoint_for

log = logging.getLogger(__name__)

KEEPALIVE_EXPIRY_SECONDS = 30.0
USER_AGENT = f"jobdash/{__version__}"


#: Environment variables that send traffic through a proxy (httpx honours them, and NO_PROXY).
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")


def proxy_configured(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return any(env.get(name) or env.get(name.lower()) for name in PROXY_VARIABLES)


def http_pool(
    max_connections: int,
    verify: ssl.SSLContext | bool,
    timeout: httpx.Timeout | float | None = None,
    auth: httpx.Auth | None = None,
    *,
    deadline: float | None = None,
) -> tuple[httpx.AsyncClient, Http1Transport | None]:
    """One endpoint's keep-alive pool: jobdash's transport (job GETs go to it directly, see
    `JobsClient`) and an httpx client over it for everything else (IAM, servers). With a
    proxy configured in the environment, httpx's own transport, which goes through it,
    under the same limits. `deadline`: seconds a request may take in all (None: the
    default, `DEFAULT_DEADLINE`)."""
    timeout = timeout if timeout is not None else DEFAULT_TIMEOUT
    deadline = deadline if deadline is not None else DEFAULT_DEADLINE
    # Only what the transport can decompress within its size limit.
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING}
    if proxy_configured():
        limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
        )
        http: httpx.AsyncClient = LimitedClient(
            deadline=deadline,
            auth=auth,
            verify=verify,
            limits=limits,
            timeout=timeout,
            headers=headers,
        )
        return http, None
    transport = Http1Transport(
        max_connections,
        verify=verify,
        keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
        deadline=deadline,
    )
    http = httpx.AsyncClient(auth=auth, transport=transport, timeout=timeout, headers=headers)
    return http, transport


@dataclass
class Connection:
    settings: Settings = field(repr=False)
    endpoint: str
    project_id: str
    http: httpx.AsyncClient = field(repr=False)
    client: JobsClient = field(repr=False)
    #: The keep-alive pool under `http` (the job GETs go to it directly); None when a
    #: proxy is configured and httpx's own transport goes through it.
    transport: Http1Transport | None = field(repr=False)
    auth_method: str
    #: Safe to show: cloud, project and endpoint, never a secret.
    description: str
    #: Things the user should see (e.g. TLS verification is off).
    warnings: list[str] = field(default_factory=list)
    auth: httpx.Auth | None = field(default=None, repr=False)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def build_auth(settings: Settings) -> httpx.Auth:
    """The httpx.Auth for the settings' method, scoped to their project: a static token,
    an IAM password login (its token is for that project, cached per project) or AK/SK
    signing. Raises ConfigError saying what is missing when the settings are incomplete."""
    method = settings.auth_method
    if method == "token" and settings.token:
        return TokenAuth(settings.token)
    if method == "aksk" and settings.access_key and settings.secret_key:
        return AkSkAuth(settings.access_key, settings.secret_key, settings.project_id or "")
    if (
        method == "password"
        and settings.auth_url
        and settings.username
        and settings.password
        and (settings.user_domain_name or settings.user_domain_id)
    ):
        return PasswordAuth(
            settings.auth_url,
            settings.username,
            settings.password,
            settings.user_domain_name or "",
            project_id=settings.project_id,
            project_name=settings.project_name,
            user_domain_id=settings.user_domain_id,
        )
    require_complete(settings)
    raise ConfigError("the connection settings are incomplete")


def tls_verify(settings: Settings) -> ssl.SSLContext | bool:
    if settings.ca_file and not Path(settings.ca_file).is_file():
        # Also with --insecure: a CA file given but missing is a mistake to point out.
        also = (
            " (--insecure does not make a missing CA file acceptable)" if settings.insecure else ""
        )
        raise ConfigError(f"the CA file {settings.ca_file} does not exist{also}")
    if settings.insecure:
        return False
    if settings.ca_file:
        context = ssl.create_default_context()
        try:
            context.load_verify_locations(cafile=settings.ca_file)
        except FileNotFoundError:
            raise ConfigError(f"the CA file {settings.ca_file} does not exist") from None
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(
                f"the CA file {settings.ca_file} holds no usable certificate: {exc}"
            ) from None
        return context
    return True


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def security_warnings(settings: Settings, urls: list[str]) -> list[str]:
    notes = []
    if settings.insecure:
        notes.append(
            "TLS certificate verification is off (--insecure): anyone on the network path "
            "could read or change the traffic, credentials included."
        )
    plain = [u for u in urls if u.startswith("http://") and not _is_loopback(u)]
    if plain:
        notes.append(f"credentials go unencrypted over plain HTTP to {urlsplit(plain[0]).netloc}.")
    return notes


def describe(settings: Settings, project_id: str, project_name: str | None, endpoint: str) -> str:
    parts = []
    if settings.cloud:
        parts.append(settings.cloud)
    parts.append(f"project {project_name} ({project_id})" if project_name else project_id)
    parts.append(urlsplit(endpoint).netloc or endpoint)
    return " · ".join(parts)


async def open_connection(
    settings: Settings,
    *,
    max_connections: int = 20,
    timeout: httpx.Timeout | float | None = None,
    deadline: float | None = None,
) -> Connection:
    """Authenticate (logging in to IAM for password auth) and return a ready Connection.
    `deadline`: seconds each request (the login too) may take in all (see `http_pool`).

    Raises ConfigError for incomplete settings and ApiError when IAM refuses or cannot
    be reached.
    """
    require_complete(settings)
    auth = build_auth(settings)
    http, transport = http_pool(
        max_connections, tls_verify(settings), timeout, auth, deadline=deadline
    )
    try:
        project_id = settings.project_id
        project_name = settings.project_name
        token: TokenInfo | None = None
        if isinstance(auth, PasswordAuth):
            token = await auth.ensure_token(http)
            project_id = project_id or token.project_id
            project_name = project_name or token.project_name
        endpoint = _ecs_endpoint(settings, auth, token)
        if endpoint is None:
            raise ConfigError(
                "no ECS endpoint: the token's catalog has none; give --endpoint URL, "
                "JOBDASH_ENDPOINT or --region NAME"
            )
        if not project_id:
            raise ConfigError("no project id: give --project-id ID or OS_PROJECT_ID")
        try:
            project_id = validate_id(project_id, "project id")
        except InvalidIdError as exc:
            raise ConfigError(str(exc)) from None
        urls = [endpoint] + ([settings.auth_url] if isinstance(auth, PasswordAuth) else [])
        notes = [*settings.notes, *security_warnings(settings, [u for u in urls if u])]
        for note in notes:
            # Shown to the user through Connection.warnings (CLI and dashboard); a
            # WARNING record here would print it twice on a terminal without log setup.
            log.info("%s", note)
        return Connection(
            settings=settings,
            endpoint=endpoint,
            project_id=project_id,
            http=http,
            client=JobsClient(http, endpoint, project_id, transport=transport),
            transport=transport,
            auth_method=settings.auth_method or "",
            description=describe(settings, project_id, project_name, endpoint),
            warnings=notes,
            auth=auth,
        )
    except BaseException:
        await http.aclose()
        raise


def _ecs_endpoint(
    settings: Settings, auth: httpx.Auth, token: TokenInfo | None = None
) -> str | None:
    """Where ECS is for `settings`: the endpoint they give, else the catalog of a password
    login's `token`, else the region's host (never that while the catalog names one)."""
    if settings.endpoint:
        return service_origin(check_endpoint(settings.endpoint))
    if isinstance(auth, PasswordAuth) and token is not None:
        listed = auth.endpoint_from_catalog("ecs", settings.region, token=token)
        if listed:
            return listed
    return ecs_endpoint(settings.region) if settings.region else None


def service_endpoint(
    settings: Settings, ecs_endpoint: str, service: JobService, auth: httpx.Auth | None = None
) -> str:
    """Where `service`'s jobs are asked for, for a connection with `settings` whose ECS
    endpoint is `ecs_endpoint`: the endpoint configured for the service; else the one the
    token's catalog lists for it (with a password login that has happened: `auth`); else
    the one derived from ECS's (`endpoint_for`). Raises ConfigError for a configured
    endpoint that is not a URL."""
    configured = settings.endpoint_override(service.name)
    if configured:
        return service_origin(check_endpoint(configured))
    if isinstance(auth, PasswordAuth):
        for kind in CATALOG_TYPES.get(service.name, ()):
            listed = auth.endpoint_from_catalog(kind, settings.region)
            if listed:
                return listed
    return endpoint_for(ecs_endpoint, service)


def target_without_login(settings: Settings) -> tuple[str, str] | None:
    """(endpoint, project id) when they are known without a login, as open_connection
    would find them. Lets watchlist edits work offline.

    The settings decide them when they give the project id and the endpoint (or, for a
    token or an access key, the region). A password login takes what the settings leave
    open from the token: the project id of a project given by name, and the endpoint
    from the catalog; the last login of the same identity (its cached token, expired or
    not) tells both without asking IAM. None when only a new login can tell.
    """
    endpoint = service_origin(check_endpoint(settings.endpoint)) if settings.endpoint else None
    project_id = settings.project_id
    if settings.auth_method == "password" and not (endpoint and project_id):
        remembered = _remembered_target(settings)
        if remembered is None:
            return None
        endpoint, project_id = remembered
    elif endpoint is None and settings.region:
        endpoint = ecs_endpoint(settings.region)
    if not endpoint or not project_id:
        return None
    try:
        return endpoint, validate_id(project_id, "project id")
    except InvalidIdError as exc:
        raise ConfigError(str(exc)) from None


def _remembered_target(settings: Settings) -> tuple[str, str | None] | None:
    """(endpoint, project id) as the cached token of the settings' password login names
    them, picked as open_connection picks; None without a cached token."""
    try:
        auth = build_auth(settings)
    except ConfigError:  # incomplete: open_connection says what is missing
        return None
    if not isinstance(auth, PasswordAuth):
        return None
    token = auth.remembered_token()
    if token is None:
        return None
    endpoint = _ecs_endpoint(settings, auth, token)
    if endpoint is None:
        return None
    return endpoint, settings.project_id or token.project_id


def region_endpoint(settings: Settings) -> str | None:
    """The ECS endpoint of a password connection, certain without a login: its region's
    host when IAM is the region's own (Open Telekom Cloud's `iam.<region>` host, whose
    catalog names the region's ECS host). Any other IAM (Huawei Cloud, a private cloud)
    may name any host: None."""
    region, auth_url = settings.region, settings.auth_url
    if settings.auth_method != "password" or not (region and auth_url):
        return None
    own_iam = fill_region(profile_auth_url(PROFILES["otc"], region), region, "the otc profile")
    if (urlsplit(auth_url).hostname or "").lower() != urlsplit(own_iam).hostname:
        return None
    return ecs_endpoint(region)
