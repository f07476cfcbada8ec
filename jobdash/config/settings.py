"""Where to connect and how to authenticate.

Precedence, per field: command-line flags > environment > clouds.yaml (+ secure.yaml)
> the [connection] table of jobdash's config.toml. The highest source that gives
any credential decides the method: credentials of another kind from lower sources
are dropped, so an OS_AUTH_TOKEN in the shell is not mixed with a clouds.yaml password.
A project (id and name) and a user domain (name and id) come whole from one source.

A named cloud (--os-cloud, OS_CLOUD, `cloud` in config.toml, or the only cloud of
clouds.yaml when nothing else names a login) keeps its own login: the environment's
and config.toml's login settings are ignored, and a note says which; flags still win.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobdash.api.errors import ConfigError
from jobdash.config import paths
from jobdash.config.checks import check_auth_url, check_endpoint, check_secret_values
from jobdash.config.cloud_entry import resolve_cloud
from jobdash.config.cloud_login import choose_cloud, has_login, keep_own_login
from jobdash.config.cloud_profiles import ecs_endpoint, fill_region

if TYPE_CHECKING:
    from jobdash.config.config_file import Config

ENV_FIELDS: dict[str, str] = {
    "OS_AUTH_URL": "auth_url",
    "OS_USERNAME": "username",
    "OS_PASSWORD": "password",
    "OS_USER_DOMAIN_NAME": "user_domain_name",
    "OS_USER_DOMAIN_ID": "user_domain_id",
    "OS_PROJECT_ID": "project_id",
    "OS_PROJECT_NAME": "project_name",
    "OS_REGION_NAME": "region",
    "OS_AUTH_TOKEN": "token",
    "OS_ACCESS_KEY": "access_key",
    "OS_SECRET_KEY": "secret_key",
    "OS_CACERT": "ca_file",
    "JOBDASH_ENDPOINT": "endpoint",
}
FLAG_FIELDS: dict[str, str] = {
    "endpoint": "endpoint",
    "project_id": "project_id",
    "region": "region",
    "ca_file": "ca_file",
}
CREDENTIAL_KINDS: dict[str, tuple[str, ...]] = {
    "token": ("token",),
    "password": ("username", "password"),
    "aksk": ("access_key", "secret_key"),
}
# Fields that only make sense together: each group comes whole from one source.
FIELD_GROUPS = (("project_id", "project_name"), ("user_domain_name", "user_domain_id"))
_ENV_FALLBACKS = {"OS_DOMAIN_NAME": "user_domain_name", "OS_DOMAIN_ID": "user_domain_id"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Settings:
    cloud: str | None = None
    auth_url: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    user_domain_name: str | None = None
    user_domain_id: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    region: str | None = None
    token: str | None = field(default=None, repr=False)
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    endpoint: str | None = None
    ca_file: str | None = None
    insecure: bool = False
    #: Configuration files that were read, for messages.
    files: tuple[str, ...] = field(default=(), compare=False)
    #: One-line remarks for the user: which cloud was picked, what was ignored.
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def auth_method(self) -> str | None:
        """ "token", "password", "aksk", or None when no credential was given at all."""
        if self.token:
            return "token"
        if self.username or self.password:
            return "password"
        if self.access_key or self.secret_key:
            return "aksk"
        return None

    def __post_init__(self) -> None:
        # Whatever the source, a token or key that would break (or leak into) an HTTP
        # header is refused here, before anything is sent or stored.
        check_secret_values(self)

    @property
    def profile(self) -> str | None:
        """The clouds.yaml cloud these settings came from (watch entries remember it)."""
        return self.cloud


SETTING_NAMES = tuple(f.name for f in fields(Settings) if f.name not in ("files", "notes"))


def default_endpoint(region: str) -> str:
    """The ECS endpoint of an Open Telekom Cloud region."""
    return ecs_endpoint(region)


def add_connection_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--os-cloud", dest="os_cloud", metavar="NAME", help="cloud from clouds.yaml (OS_CLOUD)"
    )
    parser.add_argument(
        "--endpoint",
        dest="endpoint",
        metavar="URL",
        help="ECS endpoint, e.g. https://ecs.eu-de.otc.t-systems.com (JOBDASH_ENDPOINT)",
    )
    parser.add_argument("--project-id", dest="project_id", metavar="ID", help="(OS_PROJECT_ID)")
    parser.add_argument("--region", dest="region", metavar="NAME", help="(OS_REGION_NAME)")
    parser.add_argument(
        "--ca-file", dest="ca_file", metavar="PATH", help="extra CA certificate(s) to trust"
    )
    parser.add_argument(
        "--insecure",
        dest="insecure",
        action="store_true",
        default=None,
        help="do not verify TLS certificates (unsafe)",
    )


# -- config.toml -------------------------------------------------------------------------


def load_config_toml(path: Path | None = None) -> dict[str, Any]:
    """config.toml parsed, unchecked ({} when absent); `jobdash.config.config_file.load_config` checks it."""
    path = path or paths.config_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def connection_layer(config: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """The checked [connection] table of a parsed config.toml, as Settings fields."""
    table = config.get("connection", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [connection] must be a table")
    unknown = sorted(set(table) - set(SETTING_NAMES))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) in [connection]: {', '.join(unknown)}; "
            f"known keys: {', '.join(SETTING_NAMES)}"
        )
    layer: dict[str, Any] = {}
    for key, value in table.items():
        if key == "insecure":
            if not isinstance(value, bool):
                raise ConfigError(f"{path}: [connection] insecure must be true or false")
            layer[key] = value
        elif isinstance(value, (str, int)) and not isinstance(value, bool):
            if str(value).strip():
                layer[key] = str(value).strip()
        else:
            raise ConfigError(f"{path}: [connection] {key} must be a string")
    return layer


# -- the layers --------------------------------------------------------------------------


Flags = argparse.Namespace | Mapping[str, Any] | None


def _flag(flags: Flags, dest: str) -> Any:
    if flags is None:
        return None
    if isinstance(flags, Mapping):
        return flags.get(dest)
    return getattr(flags, dest, None)


def _flag_layer(flags: Flags) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for dest, name in FLAG_FIELDS.items():
        value = _flag(flags, dest)
        if isinstance(value, str) and value.strip():
            layer[name] = value.strip()
    if _flag(flags, "insecure"):
        layer["insecure"] = True
    return layer


def _env_layer(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The environment's settings, and for each field the variable that gave it."""
    layer: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for variable, name in [*ENV_FIELDS.items(), *_ENV_FALLBACKS.items()]:
        raw = env.get(variable) or ""
        # A password is taken as it is: leading or trailing spaces can be part of it.
        value = raw if name == "password" else raw.strip()
        if value and name not in layer:
            layer[name] = value
            sources[name] = variable
    insecure = (env.get("OS_INSECURE") or "").strip().lower()
    if insecure in _TRUE:
        layer["insecure"] = True
    elif insecure not in _FALSE:
        raise ConfigError(f"OS_INSECURE must be true or false, not {insecure!r}")
    return layer, sources


def _chosen_kind(layers: list[dict[str, Any]]) -> str | None:
    for layer in layers:
        for kind, names in CREDENTIAL_KINDS.items():
            if any(layer.get(name) for name in names):
                return kind
    return None


def _merge_layers(layers: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    grouped = {name for group in FIELD_GROUPS for name in group}
    for name in SETTING_NAMES:
        if name in grouped:
            continue
        value = next((layer[name] for layer in layers if layer.get(name) is not None), None)
        if value is not None:
            merged[name] = value
    for group in FIELD_GROUPS:
        source = next((layer for layer in layers if any(layer.get(n) for n in group)), {})
        merged.update({name: source[name] for name in group if source.get(name) is not None})
    kind = _chosen_kind(layers)
    for other, names in CREDENTIAL_KINDS.items():
        if other != kind:
            for name in names:
                merged.pop(name, None)
    return merged


def load_settings(
    flags: Flags = None,
    env: Mapping[str, str] | None = None,
    *,
    loaded_config: Config | None = None,
    clouds: bool = True,
) -> Settings:
    """Merge flags, environment, clouds.yaml and config.toml (`loaded_config`, loaded when
    not given). Raises ConfigError on bad files.

    `clouds=False` gives the ambient connection alone: no cloud is named or picked, and
    clouds.yaml is not read (how entries added without a cloud are fetched again)."""
    env = os.environ if env is None else env
    if loaded_config is None:
        from jobdash.config.config_file import load_config  # config.py builds on this module

        loaded_config = load_config()
    config_path, config = loaded_config.path, loaded_config.raw
    config_layer = loaded_config.connection_layer()
    flag_layer = _flag_layer(flags)
    env_layer, env_sources = _env_layer(env)

    named = (_flag(flags, "os_cloud") or "").strip() or (env.get("OS_CLOUD") or "").strip()
    named = named or config_layer.get("cloud") or ""
    other_login = has_login(env_layer) or has_login(config_layer)
    if clouds:
        cloud, clouds_file, notes = choose_cloud(named, env, other_login=other_login)
    else:
        config_layer.pop("cloud", None)
        cloud, clouds_file, notes = "", None, []
    files = [str(config_path)] if config else []
    cloud_layer: dict[str, Any] = {}
    if cloud and clouds_file is not None:
        requested_region = flag_layer.get("region") or env_layer.get("region")
        try:
            entry = resolve_cloud(cloud, clouds_file.clouds[cloud], requested_region)
        except ConfigError as exc:
            if named:
                raise
            # The user did not pick this cloud: say why it is the one being read.
            raise ConfigError(f"{exc} ({notes[0]})") from None
        cloud_layer, login_notes = keep_own_login(entry, env_layer, env_sources, config_layer)
        notes.extend([*entry.notes, *login_notes])
        files = [str(p) for p in clouds_file.files] + files

    merged = _merge_layers([flag_layer, env_layer, cloud_layer, config_layer])
    if merged.get("auth_url"):
        where = f"cloud {cloud!r}" if cloud else "OS_AUTH_URL / config.toml"
        merged["auth_url"] = fill_region(merged["auth_url"], merged.get("region"), where)
    merged["cloud"] = cloud or None
    return Settings(**merged, files=tuple(files), notes=tuple(notes))


# -- completeness ------------------------------------------------------------------------

_WAYS: dict[str, str] = {
    "auth_url": "the IAM URL: OS_AUTH_URL, or auth.auth_url in clouds.yaml",
    "username": "the user name: OS_USERNAME, or auth.username in clouds.yaml",
    "password": "the password: OS_PASSWORD, or auth.password in clouds.yaml / secure.yaml",
    "user_domain_name": (
        "the user's domain: OS_USER_DOMAIN_NAME or OS_USER_DOMAIN_ID, or "
        "auth.user_domain_name / user_domain_id (or domain_name) in clouds.yaml"
    ),
    "project": (
        "the project: --project-id ID, OS_PROJECT_ID or OS_PROJECT_NAME, "
        "or auth.project_id / auth.project_name in clouds.yaml"
    ),
    "project_id": (
        "the project id: --project-id ID, OS_PROJECT_ID, or auth.project_id in clouds.yaml"
    ),
    "access_key": "the access key: OS_ACCESS_KEY, or ak in the cloud's clouds.yaml entry",
    "secret_key": "the secret key: OS_SECRET_KEY, or sk in the cloud's clouds.yaml / secure.yaml",
    "where": (
        "the region or the endpoint: --region NAME, OS_REGION_NAME or region_name in "
        "clouds.yaml; or --endpoint URL / JOBDASH_ENDPOINT"
    ),
}
_METHOD_LABEL = {
    "token": "token authentication",
    "password": "IAM password login",
    "aksk": "access key (AK/SK) signing",
}


def _where_from(settings: Settings) -> str:
    places = ["flags", "environment variables"]
    places.append(f"cloud {settings.cloud!r} in clouds.yaml" if settings.cloud else "clouds.yaml")
    places.append(f"the [connection] table of {paths.config_file()}")
    return "Set them with " + ", ".join(places) + "."


def missing_settings(settings: Settings) -> list[str]:
    """What `settings` lacks for its method, as keys of the help texts."""
    method = settings.auth_method
    missing: list[str] = []
    has_place = bool(settings.endpoint or settings.region)
    if method == "token":
        if not settings.project_id:
            missing.append("project_id")
    elif method == "password":
        for name in ("auth_url", "username", "password"):
            if not getattr(settings, name):
                missing.append(name)
        if not (settings.user_domain_name or settings.user_domain_id):
            missing.append("user_domain_name")
        if not (settings.project_id or settings.project_name):
            missing.append("project")
        has_place = True  # the token's catalog names the endpoint
    elif method == "aksk":
        for name in ("access_key", "secret_key", "project_id"):
            if not getattr(settings, name):
                missing.append(name)
    if method is not None and not has_place:
        missing.append("where")
    return missing


def require_complete(settings: Settings) -> None:
    """Raise one ConfigError saying everything that is missing and how to give it."""
    if settings.auth_url:
        check_auth_url(settings.auth_url)
    if settings.endpoint:
        check_endpoint(settings.endpoint)
    elif settings.region:
        default_endpoint(settings.region)  # validates the region's spelling
    method = settings.auth_method
    if method is None:
        cloud = f" (cloud {settings.cloud!r} has none)" if settings.cloud else ""
        remarks = "".join(f"{note}\n" for note in settings.notes)
        raise ConfigError(
            f"no credentials found{cloud}. {remarks}Give one of:\n"
            "  - a token: OS_AUTH_TOKEN, with --project-id / OS_PROJECT_ID and --region\n"
            "  - an IAM password login: OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, "
            "OS_USER_DOMAIN_NAME and OS_PROJECT_NAME or OS_PROJECT_ID\n"
            "  - an access key pair: OS_ACCESS_KEY, OS_SECRET_KEY and OS_PROJECT_ID, "
            "with --region\n"
            "or pick a cloud from clouds.yaml with --os-cloud NAME / OS_CLOUD, or fill the "
            f"[connection] table of {paths.config_file()}"
        )
    missing = missing_settings(settings)
    if missing:
        lines = "\n".join(f"  - {_WAYS[name]}" for name in missing)
        raise ConfigError(
            f"incomplete settings for {_METHOD_LABEL[method]}; missing:\n{lines}\n"
            f"{_where_from(settings)}"
        )
