"""Reading clouds.yaml and secure.yaml the way openstacksdk finds them.

Search order (the first file that exists wins, per kind): OS_CLIENT_CONFIG_FILE
(OS_CLIENT_SECURE_FILE for secure.yaml), then clouds.{yaml,yml,json} in the
working directory, the user's openstack config dir (XDG_CONFIG_HOME/openstack,
~/.config/openstack), the site config dir (the first of XDG_CONFIG_DIRS, else
/etc/xdg, + /openstack) and /etc/openstack. secure.yaml is merged into clouds.yaml
cloud by cloud. `.json` files are read as JSON (which, unlike YAML, allows tabs).
How one cloud entry becomes settings is jobdash.config.cloud_entry's job.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

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
    xdg_dirs = (_lookup(env, "XDG_CONFIG_DIRS") or "").split(os.pathsep)
    site_dir = Path(next((d for d in xdg_dirs if d.strip()), "/etc/xdg")) / "openstack"
    dirs: list[Path] = []
    for directory in [Path.cwd(), *user_dirs, site_dir, Path("/etc/openstack")]:
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
    data = _parse_json(path, text) if path.suffix == ".json" else _parse_yaml(path, text)
    return _clouds_of(path, data)


def _parse_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # exc.msg names the problem only; the text around it could hold a password.
        raise ConfigError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None


def _parse_yaml(path: Path, text: str) -> Any:
    import yaml  # only when there is a file to read: it takes a fifth of `status`'s start-up

    try:
        return yaml.safe_load(text)
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


def _clouds_of(path: Path, data: Any) -> dict[str, Any]:
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
