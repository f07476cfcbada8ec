"""One clouds.yaml cloud entry -> jobdash settings fields, read as openstacksdk reads it.

The steps follow openstacksdk's: keys with dashes mean the same as with underscores;
a vendor profile (`profile: otc`) lies under the entry; the region is picked from the
entry's regions (a `regions` list, a list or comma list in `region_name`, or the
profile's) and its `values` lie over the entry; auth keys may sit at the cloud level
as well as under `auth`. Which one wins follows openstacksdk: for project, domain and
token keys the cloud level, for the others `auth`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jobdash.api.errors import ConfigError
from jobdash.config.cloud_profiles import PROFILES, Profile, fill_region, profile_auth_url

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
        **_verify_fields(cloud),
    }
    if kind == "token" and fields["token"]:
        for other in ("username", "password", "access_key", "secret_key"):
            fields[other] = None
    elif kind == "password":
        fields["token"] = None
    present = {key: value for key, value in fields.items() if value is not None}
    return CloudEntry(name, present, tuple(r for r, _ in known), tuple(notes))
