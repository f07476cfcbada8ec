"""Reading clouds.yaml and secure.yaml the way openstacksdk finds them.

Search order (the first file that exists wins, per kind): OS_CLIENT_CONFIG_FILE
(OS_CLIENT_SECURE_FILE for secure.yaml), then clouds.{yaml,yml,json} in the
working directory, the user's openstack config dir (XDG_CONFIG_HOME/openstack,
~/.config/openstack) and /etc/openstack. secure.yaml is merged into clouds.yaml
cloud by cloud.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import yaml

from jobdash.api.errors import ConfigError

EXTENSIONS = ("yaml", "yml", "json")


@dataclass(frozen=True)
class CloudsFile:
    """The merged content of the clouds and secure files that were found."""

    clouds: dict[str, Any] = field(default_factory=dict, repr=False)
    files: tuple[Path, ...] = ()
    searched: tuple[Path, ...] = ()


def _lookup(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name) or os.environ.get(name) or None


def search_dirs(env: Mapping[str, str]) -> list[Path]:
    xdg = _lookup(env, "XDG_CONFIG_HOME")
    home = _lookup(env, "HOME")
    user_dirs = []
    if xdg:
        user_dirs.append(Path(xdg) / "openstack")
    if home:
        user_dirs.append(Path(home) / ".config" / "openstack")
    user_dirs.append(Path(platformdirs.user_config_dir("openstack", appauthor=False)))
    dirs: list[Path] = []
    for directory in [Path.cwd(), *user_dirs, Path("/etc/openstack")]:
        if directory not in dirs:
            dirs.append(directory)
    return dirs


def candidates(stem: str, env_var: str, env: Mapping[str, str]) -> list[Path]:
    explicit = env.get(env_var)
    files = [Path(explicit).expanduser()] if explicit else []
    files += [d / f"{stem}.{ext}" for d in search_dirs(env) for ext in EXTENSIONS]
    return files


def _first_existing(paths: list[Path]) -> Path | None:
    return next((p for p in paths if p.is_file()), None)


def _parse(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        # Only the problem and position: the YAML snippet could hold a password.
        where = ""
        if exc.problem_mark is not None:
            where = f" at line {exc.problem_mark.line + 1}, column {exc.problem_mark.column + 1}"
        raise ConfigError(
            f"{path} is not valid YAML: {exc.problem or 'syntax error'}{where}"
        ) from None
    except yaml.YAMLError:
        raise ConfigError(f"{path} is not valid YAML") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping with a 'clouds' key")
    clouds = data.get("clouds", {})
    if clouds is None:
        return {}
    if not isinstance(clouds, dict):
        raise ConfigError(f"{path}: 'clouds' must be a mapping of cloud names to settings")
    for name, cloud in clouds.items():
        if not isinstance(cloud, dict):
            raise ConfigError(f"{path}: cloud {name!r} must be a mapping")
    return {str(name): cloud for name, cloud in clouds.items()}


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def load_clouds(env: Mapping[str, str]) -> CloudsFile:
    clouds_candidates = candidates("clouds", "OS_CLIENT_CONFIG_FILE", env)
    secure_candidates = candidates("secure", "OS_CLIENT_SECURE_FILE", env)
    files: list[Path] = []
    clouds: dict[str, Any] = {}
    clouds_path = _first_existing(clouds_candidates)
    if clouds_path is not None:
        clouds = _parse(clouds_path)
        files.append(clouds_path)
    secure_path = _first_existing(secure_candidates)
    if secure_path is not None:
        clouds = _merge(clouds, _parse(secure_path))
        files.append(secure_path)
    return CloudsFile(clouds, tuple(files), tuple(clouds_candidates + secure_candidates))


def _scalar(value: Any) -> str | None:
    """Numbers are fine where text is expected (a numeric password in YAML is an int)."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    text = str(value).strip()
    return text or None


def _first(*values: Any) -> str | None:
    for value in values:
        text = _scalar(value)
        if text is not None:
            return text
    return None


def _region(cloud: Mapping[str, Any]) -> str | None:
    region = _scalar(cloud.get("region_name"))
    if region:
        return region
    regions = cloud.get("regions")
    if isinstance(regions, list) and regions:
        first = regions[0]
        return _scalar(first.get("name")) if isinstance(first, dict) else _scalar(first)
    return None


def cloud_fields(cloud: Mapping[str, Any]) -> dict[str, Any]:
    """Settings field -> value for one cloud entry (secure.yaml already merged in)."""
    auth = cloud.get("auth") if isinstance(cloud.get("auth"), dict) else {}
    fields: dict[str, Any] = {
        "auth_url": _first(auth.get("auth_url")),
        "username": _first(auth.get("username"), auth.get("user_name")),
        "password": _first(auth.get("password")),
        "user_domain_name": _first(
            auth.get("user_domain_name"), auth.get("domain_name"), cloud.get("user_domain_name")
        ),
        "project_id": _first(auth.get("project_id"), auth.get("tenant_id")),
        "project_name": _first(auth.get("project_name"), auth.get("tenant_name")),
        "token": _first(auth.get("token")),
        # otcextensions keeps ak/sk next to auth; other tools put them inside it.
        "access_key": _first(
            cloud.get("ak"), cloud.get("access_key"), auth.get("ak"), auth.get("access_key")
        ),
        "secret_key": _first(
            cloud.get("sk"), cloud.get("secret_key"), auth.get("sk"), auth.get("secret_key")
        ),
        "region": _region(cloud),
        "endpoint": _first(cloud.get("ecs_endpoint_override"), cloud.get("endpoint")),
        "ca_file": _first(cloud.get("cacert")),
    }
    if cloud.get("verify") is False or cloud.get("insecure") is True:
        fields["insecure"] = True
    return {key: value for key, value in fields.items() if value is not None}
