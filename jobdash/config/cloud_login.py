"""Which clouds.yaml cloud a command uses, and how it keeps its own login.

A cloud is named by --os-cloud, OS_CLOUD or `cloud` in config.toml; with none named
and no login in the environment or config.toml, the only cloud of clouds.yaml is used
(as openstacksdk does), and the user is told. A named cloud's login (who, which
project, which credential) comes from clouds.yaml alone: the environment's and
config.toml's login settings are dropped, with a note naming them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobdash.api.errors import ConfigError
from jobdash.config import paths
from jobdash.config.cloud_entry import CloudEntry
from jobdash.config.clouds_yaml import CloudsFile, load_clouds

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


def missing_cloud(name: str, clouds: CloudsFile) -> ConfigError:
    searched = ", ".join(str(p) for p in clouds.searched)
    if clouds.files:
        found = ", ".join(sorted(clouds.clouds)) or "none"
        read = ", ".join(str(p) for p in clouds.files)
        return ConfigError(
            f"cloud {name!r} is not defined. Clouds found: {found} (in {read}). "
            f"Files searched: {searched}"
        )
    return ConfigError(
        f"cloud {name!r} was asked for (--os-cloud / OS_CLOUD) but no clouds.yaml exists. "
        f"Files searched: {searched}"
    )


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
