"""Every watch entry fetched with the credentials of the connection it was added with.

A connection is a named cloud from clouds.yaml / secure.yaml, or the ambient one (flags,
`OS_*` environment, config.toml). An entry records which (the cloud's name, or for the
ambient one its auth method; never a secret). `Connections` rebuilds each entry's
connection on first need: its settings, then credentials scoped to the entry's project
(an IAM password login gets a token per project, cached per project), and sends through
one HTTP pool per endpoint. An entry whose connection cannot be rebuilt now is never
fetched with other credentials: `client_for` raises `NoCredentialsError`, which the
poller reports like any failed fetch, so the last snapshot stays and the views say why.
`rate_group` tells the poller which account each entry's requests are sent as, so
throttling is tracked per endpoint and account.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx

from jobdash.api.client import DEFAULT_TIMEOUT, JobsClient
from jobdash.api.errors import ApiError, ConfigError, NoCredentialsError
from jobdash.api.http1 import Http1Transport
from jobdash.auth.service_catalog import service_origin
from jobdash.config.clouds_yaml import load_clouds
from jobdash.config.settings import Settings, missing_settings, require_complete
from jobdash.config.sources import flag_value, load_settings
from jobdash.connections.connection import (
    Connection,
    build_auth,
    http_pool,
    open_connection,
    security_warnings,
    service_endpoint,
    tls_verify,
)
from jobdash.connections.groups import AMBIENT, cloud_name, connection_label
from jobdash.poll.ratelimit import RateGroup
from jobdash.services.base import JobService
from jobdash.services.registry import service as lookup_service
from jobdash.text.safe import one_line
from jobdash.watch.values import WatchEntry, WatchKey

if TYPE_CHECKING:
    from jobdash.config.config_file import Config

log = logging.getLogger(__name__)

_METHOD_NEEDS = {
    "token": "OS_AUTH_TOKEN",
    "password": "OS_AUTH_URL, OS_USERNAME, OS_PASSWORD and OS_USER_DOMAIN_NAME",
    "aksk": "OS_ACCESS_KEY and OS_SECRET_KEY",
}
_METHOD_NAMES = {"token": "a token", "password": "an IAM password", "aksk": "an access key pair"}
Source = tuple[str, ...]


# -- the registry ------------------------------------------------------------------------


class Connections:
    """Opens the connection of each entry lazily and hands the poller a client per key.

    `entry_for` says which entry a key is (the watchlist's); a key it does not know (ids
    given on the command line) and entries from before connections were recorded use the
    command's own connection (`current`).
    """

    def __init__(
        self,
        flags: argparse.Namespace | Mapping[str, Any] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        config: Config | None = None,
        entry_for: Callable[[WatchKey], WatchEntry | None] | None = None,
        max_connections: int = 20,
        timeout: httpx.Timeout | float | None = None,
    ) -> None:
        if config is None:
            from jobdash.config.config_file import load_config

            config = load_config()
        self._flags = flags
        self._env = dict(os.environ if env is None else env)
        self._config = config
        self.entry_for: Callable[[WatchKey], WatchEntry | None] = entry_for or (lambda _key: None)
        self._max_connections = max_connections
        self._timeout = timeout if timeout is not None else DEFAULT_TIMEOUT
        self._settings: dict[Source, Settings | ConfigError] = {}
        self._auths: dict[tuple[Source, str], httpx.Auth] = {}
        self._pools: dict[
            tuple[str, str | None, bool], tuple[httpx.AsyncClient, Http1Transport | None]
        ] = {}
        #: Notes for the user from each connection opened (cloud picked, TLS off, ...).
        self.notes: list[str] = []
        self._current: Connection | None = None

    # -- settings per source -------------------------------------------------------------

    def current(self) -> Settings:
        """The command's own settings (flags, environment, files); ConfigError when bad."""
        found = self._load(("current",))
        if isinstance(found, ConfigError):
            raise found
        return found

    async def open_current(self) -> Connection:
        """Open the command's own connection (logging in for password auth), for ids given
        on the command line and entries without a recorded connection. Raises ConfigError
        (exit 2) when its settings are incomplete, ApiError when IAM refuses."""
        if self._current is None:
            settings = self.current()
            require_complete(settings)
            self._current = await open_connection(
                settings,
                max_connections=self._max_connections,
                timeout=self._timeout,
                deadline=self._config.http.deadline,
            )
            for warning in self._current.warnings:
                self._note(warning)
        return self._current

    def _load(self, source: Source) -> Settings | ConfigError:
        if source not in self._settings:
            try:
                settings = self._read(source)
            except ConfigError as exc:
                self._settings[source] = exc
            else:
                self._settings[source] = settings
                for note in settings.notes:
                    self._note(note)
        return self._settings[source]

    def _read(self, source: Source) -> Settings:
        tls = {
            "ca_file": flag_value(self._flags, "ca_file"),
            "insecure": flag_value(self._flags, "insecure"),
        }
        if source[0] == "current":
            return load_settings(self._flags, self._env, loaded_config=self._config)
        if source[0] == "cloud":
            clouds = load_clouds(self._env)
            if source[1] not in clouds.clouds:
                files = ", ".join(str(path) for path in clouds.files) or "none found"
                raise ConfigError(f"cloud {source[1]!r} is no longer in clouds.yaml ({files})")
            flags = {"os_cloud": source[1], "region": source[2] or None, **tls}
            return load_settings(flags, self._env, loaded_config=self._config)
        env = {k: v for k, v in self._env.items() if k != "OS_CLOUD"}
        return load_settings(tls, env, loaded_config=self._config, clouds=False)

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)
            log.warning("%s", note)

    def source_of(self, entry: WatchEntry | None) -> Source:
        if entry is None or (entry.profile is None and entry.auth_method is None):
            return ("current",)
        if entry.profile:
            return ("cloud", entry.profile, entry.region or "")
        return ("ambient",)

    def settings_for(self, key: WatchKey, entry: WatchEntry | None) -> Settings:
        """The settings `key` is fetched with, scoped to its project and endpoint; raises
        NoCredentialsError (nothing is sent) when its connection cannot be rebuilt."""
        source = self.source_of(entry)
        where = connection_label(entry) if entry is not None else key.project_id
        found = self._load(source)
        if isinstance(found, ConfigError):
            fix = "define it again" if source[0] == "cloud" else "fix the settings"
            raise NoCredentialsError(
                f"no credentials for {where}: {one_line(found, 300)}; {fix}, or remove "
                "these jobs from the watchlist"
            )
        method = entry.auth_method if entry is not None else None
        if source[0] == "ambient" and method and found.auth_method != method:
            other = (
                f" ({_METHOD_NAMES[found.auth_method]} is, but it is not used for these jobs)"
                if found.auth_method
                else ""
            )
            raise NoCredentialsError(
                f"no credentials for {where}: it was added with "
                f"{_METHOD_NAMES.get(method, method)}, which is not set now{other}; set "
                f"{_METHOD_NEEDS.get(method, 'it')} again, or remove these jobs"
            )
        # The connection's own project, named as its settings name it (so a password
        # login reuses the token cached when the entry was added); any other project
        # of the account by the entry's id.
        own_project = (
            entry is not None
            and found.auth_method == "password"
            and found.project_name is not None
            and entry.project_name == found.project_name
            and found.project_id in (None, key.project_id)
        )
        scoped = replace(
            found,
            project_id=None if own_project else key.project_id,
            project_name=found.project_name if own_project else None,
            endpoint=key.endpoint,
            notes=(),
        )
        missing = missing_settings(scoped)
        if scoped.auth_method is None or missing:
            what = "none is set" if scoped.auth_method is None else f"missing {', '.join(missing)}"
            raise NoCredentialsError(
                f"no credentials for {where}: {what}; set "
                f"{_METHOD_NEEDS.get(method or '', 'OS_AUTH_TOKEN, a password login or AK/SK')}"
                + (f" or fill cloud {found.cloud!r} in clouds.yaml" if found.cloud else "")
            )
        return scoped

    # -- rate groups ---------------------------------------------------------------------

    def rate_group(self, key: WatchKey) -> RateGroup:
        """Which account `key`'s requests are sent as, for the poller's rate control: its
        endpoint, a short hash of the caller's identity (never a secret) and, to show, its
        connection's cloud name. Opens nothing; never raises."""
        entry = self.entry_for(key)
        source = self.source_of(entry)
        found = self._load(source)
        label = cloud_name(entry) if entry is not None else AMBIENT
        if entry is None and not isinstance(found, ConfigError) and found.cloud:
            label = found.cloud
        try:
            settings = self.settings_for(key, entry)
        except (ApiError, ConfigError):  # nothing is sent for it: a group of its own
            return RateGroup(key.endpoint, "none:" + _fingerprint(*source), label)
        return RateGroup(key.endpoint, account_of(settings, source), label)

    def service_endpoint(self, template: WatchEntry, service: JobService) -> str:
        """Where `service`'s jobs are asked for on `template`'s connection (its key's endpoint
        is ECS's): configured, else from the catalog of a login made already, else derived
        (`connection.service_endpoint`). Raises NoCredentialsError or ConfigError when the
        connection's settings cannot be had."""
        settings = self.settings_for(template.key, template)
        auth = self._auths.get((self.source_of(template), template.key.project_id))
        return service_endpoint(settings, template.key.endpoint, service, auth)

    # -- clients -------------------------------------------------------------------------

    def client_for(self, key: WatchKey) -> JobsClient:
        """A client with `key`'s own credentials, sharing the endpoint's pool."""
        entry = self.entry_for(key)
        settings = self.settings_for(key, entry)
        source = self.source_of(entry)
        opened = self._current
        if (
            source == ("current",)
            and opened is not None
            and opened.auth is not None
            and key.project_id == opened.project_id
        ):
            # The command's own connection is already logged in: reuse its credentials.
            self._auths.setdefault((source, key.project_id), opened.auth)
        auth = self._auth(source, settings, key.project_id)
        http, transport = self._pool(key.endpoint, settings)
        return JobsClient(
            http,
            key.endpoint,
            key.project_id,
            auth=auth,
            transport=transport,
            service=lookup_service(key.service),
        )

    def _auth(self, source: Source, settings: Settings, project_id: str) -> httpx.Auth:
        found = self._auths.get((source, project_id))
        if found is not None:
            return found
        # `settings` are scoped to the project: a password login gets a token per project.
        try:
            auth = build_auth(settings)
        except ConfigError:  # missing_settings() let it through: say so, send nothing
            raise NoCredentialsError(f"no credentials for project {project_id}") from None
        self._auths[(source, project_id)] = auth
        return auth

    def _pool(
        self, endpoint: str, settings: Settings
    ) -> tuple[httpx.AsyncClient, Http1Transport | None]:
        pool_key = (service_origin(endpoint), settings.ca_file, settings.insecure)
        pool = self._pools.get(pool_key)
        if pool is None:
            try:
                verify = tls_verify(settings)
            except ConfigError as exc:  # a CA file gone since: nothing can be sent safely
                raise ApiError(f"cannot connect to {endpoint}: {exc}") from None
            urls = [endpoint] + ([settings.auth_url] if settings.auth_url else [])
            for warning in security_warnings(settings, urls):
                self._note(warning)
            pool = self._pools[pool_key] = http_pool(
                self._max_connections, verify, self._timeout, deadline=self._config.http.deadline
            )
        return pool

    @property
    def pools(self) -> int:
        return len(self._pools)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for http, _transport in pools:
            await http.aclose()
        if self._current is not None:
            await self._current.aclose()
            self._current = None


def account_of(settings: Settings, source: Source) -> str:
    """Who requests with `settings` are sent as: an access key, an IAM user in its domain,
    or (a token tells nothing) the connection it came from; hashed, so no name or key
    ever shows in a log or a view."""
    if settings.auth_method == "aksk" and settings.access_key:
        return "aksk:" + _fingerprint(settings.access_key)
    if settings.auth_method == "password":
        iam = service_origin(settings.auth_url) if settings.auth_url else ""
        domain = settings.user_domain_id or settings.user_domain_name or ""
        return "user:" + _fingerprint(iam, domain, settings.username or "")
    return f"{settings.auth_method or 'none'}:" + _fingerprint(*source)


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]
