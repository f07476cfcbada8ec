"""Where the connection settings come from, and which source wins.

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
from collections.abc import Mapping
from typing import Any

from jobdash.api.errors import ConfigError
from jobdash.config import paths
from jobdash.config.clouds_yaml import (
    CloudEntry,
    CloudsFile,
    load_clouds,
    missing_cloud,
    resolve_cloud,
)
from jobdash.config.config_file import Config, load_config
from jobdash.config.regions import fill_region
from jobdash.config.settings import CREDENTIAL_KINDS, SETTING_NAMES, Settings

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
# Fields that only make sense together: each group comes whole from one source.
FIELD_GROUPS = (("project_id", "project_name"), ("user_domain_name", "user_domain_id"))
_ENV_FALLBACKS = {"OS_DOMAIN_NAME": "user_domain_name", "OS_DOMAIN_ID": "user_domain_id"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
#: Who logs in, and to which project: a named cloud takes these from itself only.
LOGIN_FIELDS = (
    "auth_url",
    "username",
    "password",
    "user_domain_name",
    "user_domain_id",
    "project_id",
    "project_name",
    "token",
    "access_key",
    "secret_key",
)


def has_login(layer: Mapping[str, Any]) -> bool:
    return any(layer.get(name) for name in LOGIN_FIELDS)


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
    parser.add_argument(
        "--project-id",
        dest="project_id",
        metavar="ID",
        help="the project whose jobs these are; replaces the cloud's project (OS_PROJECT_ID)",
    )
    parser.add_argument(
        "--region",
        dest="region",
        metavar="NAME",
        help="one of the cloud's regions (OS_REGION_NAME)",
    )
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


# -- the layers --------------------------------------------------------------------------


Flags = argparse.Namespace | Mapping[str, Any] | None


def flag_value(flags: Flags, dest: str) -> Any:
    """A flag's value, from parsed arguments or a mapping of them (None when absent)."""
    if flags is None:
        return None
    if isinstance(flags, Mapping):
        return flags.get(dest)
    return getattr(flags, dest, None)


def _flag_layer(flags: Flags) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for dest, name in FLAG_FIELDS.items():
        value = flag_value(flags, dest)
        if isinstance(value, str) and value.strip():
            layer[name] = value.strip()
    if flag_value(flags, "insecure"):
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
        loaded_config = load_config()
    config_path, config = loaded_config.path, loaded_config.raw
    config_layer = loaded_config.connection_layer()
    flag_layer = _flag_layer(flags)
    env_layer, env_sources = _env_layer(env)

    named = (flag_value(flags, "os_cloud") or "").strip() or (env.get("OS_CLOUD") or "").strip()
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
    merged["service_endpoints"] = cloud_layer.get("service_endpoints", ())
    return Settings(**merged, files=tuple(files), notes=tuple(notes))


# -- a named cloud -----------------------------------------------------------------------


def choose_cloud(
    named: str, env: Mapping[str, str], *, other_login: bool
) -> tuple[str, CloudsFile | None, list[str]]:
    """(cloud name or "", the clouds files when read, notes for the user)."""
    if named:
        clouds = load_clouds(env)
        if named not in clouds.clouds:
            raise missing_cloud(named, clouds)
        return named, clouds, []
    if other_login:
        return "", None, []
    clouds = load_clouds(env)
    if len(clouds.clouds) == 1:
        only = next(iter(clouds.clouds))
        return (
            only,
            clouds,
            [
                f"using cloud {only!r}, the only one in {clouds.files[0]} "
                "(--os-cloud NAME or OS_CLOUD picks one)"
            ],
        )
    if len(clouds.clouds) > 1:
        names = ", ".join(sorted(clouds.clouds))
        return (
            "",
            clouds,
            [
                f"clouds.yaml ({clouds.files[0]}) has several clouds ({names}): "
                "pick one with --os-cloud NAME or OS_CLOUD"
            ],
        )
    return "", clouds, []


def keep_own_login(
    entry: CloudEntry,
    env_layer: dict[str, Any],
    env_sources: Mapping[str, str],
    config_layer: dict[str, Any],
) -> tuple[dict[str, Any], list[str]]:
    """The cloud's fields; drops the environment's and config.toml's login fields, with notes.

    One completion is allowed: a cloud that names its user but keeps the password out of
    the file (and has no other credential) takes OS_PASSWORD.
    """
    fields = dict(entry.fields)
    notes: list[str] = []
    kept: set[str] = set()
    other_credential = fields.get("token") or (
        fields.get("access_key") and fields.get("secret_key")
    )
    if (
        env_layer.get("password")
        and fields.get("username")
        and not fields.get("password")
        and not other_credential
    ):
        fields["password"] = env_layer["password"]
        kept.add("password")
        notes.append(f"cloud {entry.name!r} has no password: using {env_sources['password']}")
    ignored = sorted({env_sources[n] for n in LOGIN_FIELDS if n in env_layer and n not in kept})
    for name in LOGIN_FIELDS:
        env_layer.pop(name, None)
    dropped = [name for name in LOGIN_FIELDS if config_layer.pop(name, None) is not None]
    if dropped:
        ignored.append(f"{', '.join(dropped)} in {paths.config_file()}")
    if ignored:
        notes.append(
            f"ignored {', '.join(ignored)}: cloud {entry.name!r} logs in with its own "
            "credentials (flags still apply)"
        )
    return fields, notes
