"""clouds.yaml and secure.yaml, found and read the way openstacksdk finds and reads them.

Search order (the first file that exists wins, per kind): OS_CLIENT_CONFIG_FILE
(OS_CLIENT_SECURE_FILE for secure.yaml), then clouds.{yaml,yml,json} in the
working directory, the user's openstack config dir (XDG_CONFIG_HOME/openstack,
~/.config/openstack), the site config dir (the first of XDG_CONFIG_DIRS, else
/etc/xdg, + /openstack) and /etc/openstack. secure.yaml is merged into clouds.yaml
cloud by cloud. `.json` files are read as JSON (which, unlike YAML, allows tabs).

One cloud entry becomes settings fields in openstacksdk's steps: keys with dashes mean
the same as with underscores; a vendor profile (`profile: otc`) lies under the entry;
the region is picked from the entry's regions (a `regions` list, a list or comma list
in `region_name`, or the profile's) and its `values` lie over the entry; auth keys may
sit at the cloud level as well as under `auth`. Which one wins follows openstacksdk:
for project, domain and token keys the cloud level, for the others `auth`.
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
from jobdash.config.regions import PROFILES, Profile, fill_region, profile_auth_url

EXTENSIONS = ("yaml", "yml", "json")
#: A clouds.yaml or secure.yaml larger than this is refused unread (one cloud takes a few
#: hundred bytes; 50 MB took minutes and gigabytes to parse on every command).
MAX_FILE_BYTES = 1024 * 1024
#: YAML aliases may repeat a value, not multiply it: a file whose values, aliases expanded,
#: number more than this is refused (a billion-laughs file expands to billions).
MAX_EXPANDED_VALUES = 100_000


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
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ConfigError(
                f"{path} is larger than {MAX_FILE_BYTES // 1024} KB: not read (a clouds file "
                "holds a few KB; is it the right file?)"
            )
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    data = _parse_json(path, text) if path.suffix == ".json" else _parse_yaml(path, text)
    return _clouds_of(path, data)


def _parse_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise ConfigError(f"{path} is nested too deeply to read") from None
    except json.JSONDecodeError as exc:
        # exc.msg names the problem only; the text around it could hold a password.
        raise ConfigError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None


def _parse_yaml(path: Path, text: str) -> Any:
    import yaml  # only when there is a file to read: it takes a fifth of `status`'s start-up

    # yaml.safe_load's steps, with the node graph checked before anything is built from it.
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(path, node)
        return loader.construct_document(node)
    except RecursionError:
        raise ConfigError(f"{path} is nested too deeply to read") from None
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
    finally:
        loader.dispose()


def _check_expansion(path: Path, root: Any) -> None:
    """Refuse a YAML node graph that refers to itself, or whose values, each alias
    expanded, number more than MAX_EXPANDED_VALUES. Counted without expanding: each
    node's expanded size is computed once (depth first, without recursion)."""
    import yaml

    def children(node: Any) -> list[Any]:
        if isinstance(node, yaml.MappingNode):
            return [part for pair in node.value for part in pair]
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        return []

    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children(node))
            if sizes[key] > MAX_EXPANDED_VALUES:
                raise ConfigError(
                    f"{path}: its YAML aliases expand to more than {MAX_EXPANDED_VALUES} "
                    "values; not read (a clouds file needs a few hundred)"
                )
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise ConfigError(f"{path}: a YAML alias refers to a value that contains it")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children(node) if id(child) not in sizes)


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


# -- one cloud entry --------------------------------------------------------------------

#: auth_type values jobdash can serve, and the credential kind each one names.
AUTH_TYPES: dict[str, str | None] = {
    "password": "password",
    "v3password": "password",
    "token": "token",
    "v3token": "token",
    "admin_token": "token",
    "token_endpoint": "token",
}
# Read from the cloud level first (openstacksdk lets them carry overrides there).
_CLOUD_LEVEL_FIRST: dict[str, tuple[str, ...]] = {
    "domain_id": ("domain_id",),
    "domain_name": ("domain_name",),
    "user_domain_id": ("user_domain_id",),
    "user_domain_name": ("user_domain_name",),
    "token": ("auth_token", "token"),
    # Later names win: project_id beats tenant_id wherever each sits.
    "project_id": ("tenant_id", "project_id"),
    "project_name": ("tenant_name", "project_name"),
}
# Read from `auth` first, then from the cloud level.
_AUTH_FIRST: dict[str, tuple[str, ...]] = {
    "auth_url": ("auth_url",),
    "username": ("username", "user_name"),
    "password": ("password",),
}


@dataclass(frozen=True)
class CloudEntry:
    """What one cloud entry says, for the region that was picked."""

    name: str
    fields: dict[str, Any] = field(repr=False)
    #: The regions the entry (or its profile) allows; empty when it does not say.
    regions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def normalize_keys(value: Any) -> Any:
    """`auth-url` and `auth_url` are the same key, at every depth."""
    if isinstance(value, Mapping):
        return {str(key).replace("-", "_"): normalize_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalize_keys(item) for item in value]
    return value


def _text(value: Any) -> str | None:
    """Numbers are fine where text is expected (a numeric password in YAML is an int)."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _stripped(value: Any) -> str | None:
    text = _text(value)
    return text.strip() or None if text is not None else None


def _secret(value: Any) -> str | None:
    """Passwords keep their spaces: leading or trailing ones can be part of them."""
    text = _text(value)
    return text if text else None


def _lay_over(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """`top` over `base`, merging the `auth` mapping key by key (as openstacksdk does)."""
    merged = dict(base)
    for key, value in top.items():
        if key == "auth" and isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _profile(name: str, cloud: Mapping[str, Any]) -> tuple[Profile | None, list[str]]:
    wanted = _stripped(cloud.get("profile")) or _stripped(cloud.get("cloud"))
    if not wanted:
        return None, []
    profile = PROFILES.get(wanted)
    if profile is None:
        known = ", ".join(sorted(PROFILES))
        return None, [
            f"cloud {name!r}: vendor profile {wanted!r} is not one jobdash knows ({known}); "
            "only the entry's own settings are used"
        ]
    return profile, []


def _region_list(name: str, raw: Any) -> list[tuple[str, dict[str, Any]]]:
    """[(region name, values)] from a `regions` list or a `region_name` list / comma list."""
    if isinstance(raw, str):
        raw = [part for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list):
        raise ConfigError(f"cloud {name!r}: regions must be a list of region names")
    regions: list[tuple[str, dict[str, Any]]] = []
    for item in raw:
        if isinstance(item, Mapping):
            region = _stripped(item.get("name"))
            values = item.get("values", {})
            if not region or not isinstance(values, Mapping) or set(item) - {"name", "values"}:
                raise ConfigError(
                    f"cloud {name!r}: each entry of regions must be a name, or a mapping "
                    "with 'name' and optional 'values'"
                )
            regions.append((region, dict(values)))
        elif _stripped(item):
            regions.append((str(_stripped(item)), {}))
    return regions


def _known_regions(
    name: str, cloud: Mapping[str, Any], profile: Profile | None
) -> list[tuple[str, dict[str, Any]]]:
    if "regions" in cloud:
        return _region_list(name, cloud["regions"])
    if cloud.get("region_name") not in (None, ""):
        region_name = cloud["region_name"]
        return _region_list(
            name, region_name if isinstance(region_name, list) else str(region_name)
        )
    if profile is not None:
        return [(region, {}) for region in profile.regions]
    return []


def _pick_region(
    name: str, known: list[tuple[str, dict[str, Any]]], requested: str | None
) -> tuple[str | None, dict[str, Any]]:
    if not known:
        return requested, {}
    if not requested:
        return known[0]
    for region, values in known:
        if region == requested:
            return region, values
    raise ConfigError(
        f"region {requested!r} is not a region of cloud {name!r} "
        f"(its regions: {', '.join(r for r, _ in known)}); pick one of those with --region "
        "or OS_REGION_NAME, or add the region to the cloud's regions in clouds.yaml"
    )


_OVERRIDE = "_endpoint_override"


def _service_endpoints(cloud: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """openstacksdk's `<service>_endpoint_override` keys of a cloud, other than ECS's (that
    one is the connection's endpoint): (service name as jobdash writes it, URL). Whether
    jobdash knows the service is decided where the endpoint is used."""
    found = []
    for key, value in cloud.items():
        if not isinstance(key, str) or not key.lower().endswith(_OVERRIDE):
            continue
        service = key[: -len(_OVERRIDE)].strip().lower().replace("_", "-")
        url = _stripped(value)
        if service and service != "ecs" and url:
            found.append((service, url))
    return tuple(sorted(found))


def _cloud_level_first(
    auth: Mapping[str, Any], cloud: Mapping[str, Any], names: tuple[str, ...]
) -> Any:
    """The last name found wins; for each name the cloud level beats `auth`."""
    found = None
    for key in names:
        for source in (auth, cloud):
            if source.get(key) not in (None, ""):
                found = source[key]
    return found


def _auth_first(auth: Mapping[str, Any], cloud: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    """`auth` beats the cloud level; within each, the first name found wins."""
    for source in (auth, cloud):
        for key in names:
            if source.get(key) not in (None, ""):
                return source[key]
    return None


def _check_auth_type(name: str, cloud: Mapping[str, Any]) -> str | None:
    auth_type = _stripped(cloud.get("auth_type")) or _stripped(cloud.get("auth_plugin"))
    if auth_type is None or auth_type in AUTH_TYPES:
        return AUTH_TYPES.get(auth_type or "")
    raise ConfigError(
        f"cloud {name!r} uses auth_type {auth_type!r}, which jobdash does not support; "
        "it logs in with a password (auth_type: password), a token (auth_type: token) "
        "or an access key pair (ak / sk)"
    )


def _verify_fields(cloud: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    verify = cloud.get("verify")
    insecure = cloud.get("insecure")
    if verify is False or insecure is True or str(insecure).strip().lower() == "true":
        fields["insecure"] = True
    ca_file = _stripped(cloud.get("cacert"))
    if ca_file is None and isinstance(verify, str) and verify.strip().lower() not in ("true", ""):
        # openstacksdk hands a string `verify` to requests, which takes it as a CA bundle path.
        if verify.strip().lower() == "false":
            fields["insecure"] = True
        else:
            ca_file = verify.strip()
    if ca_file:
        fields["ca_file"] = ca_file
    return fields


def resolve_cloud(name: str, raw: Mapping[str, Any], requested_region: str | None) -> CloudEntry:
    """The settings fields of cloud `name` for `requested_region` (None: its default)."""
    cloud = normalize_keys(raw)
    profile, notes = _profile(name, cloud)
    kind = _check_auth_type(name, cloud)
    known = _known_regions(name, cloud, profile)
    region, values = _pick_region(name, known, requested_region)
    cloud = _lay_over(cloud, normalize_keys(values))
    auth = cloud.get("auth") if isinstance(cloud.get("auth"), Mapping) else {}

    found = {
        key: _cloud_level_first(auth, cloud, names) for key, names in _CLOUD_LEVEL_FIRST.items()
    }
    found |= {key: _auth_first(auth, cloud, names) for key, names in _AUTH_FIRST.items()}
    auth_url = _stripped(found["auth_url"])
    if auth_url is None and profile is not None:
        auth_url = profile_auth_url(profile, region)
    if auth_url is not None and region:
        # Without a region here, load_settings fills it from a lower source or says so.
        auth_url = fill_region(auth_url, region, f"cloud {name!r}")
    fields: dict[str, Any] = {
        "auth_url": auth_url,
        "username": _stripped(found["username"]),
        "password": _secret(found["password"]),
        "user_domain_name": _stripped(found["user_domain_name"]) or _stripped(found["domain_name"]),
        "user_domain_id": _stripped(found["user_domain_id"]) or _stripped(found["domain_id"]),
        "project_id": _stripped(found["project_id"]),
        "project_name": _stripped(found["project_name"]),
        "token": _stripped(found["token"]),
        # otcextensions keeps ak/sk next to auth; other tools put them inside it.
        "access_key": _stripped(_cloud_level_first(auth, cloud, ("access_key", "ak"))),
        "secret_key": _stripped(_cloud_level_first(auth, cloud, ("secret_key", "sk"))),
        "region": region,
        "endpoint": _stripped(
            _cloud_level_first({}, cloud, ("endpoint", "ecs_endpoint", "ecs_endpoint_override"))
        ),
        "service_endpoints": _service_endpoints(cloud) or None,
        **_verify_fields(cloud),
    }
    if kind == "token" and fields["token"]:
        for other in ("username", "password", "access_key", "secret_key"):
            fields[other] = None
    elif kind == "password":
        fields["token"] = None
    present = {key: value for key, value in fields.items() if value is not None}
    return CloudEntry(name, present, tuple(r for r, _ in known), tuple(notes))
