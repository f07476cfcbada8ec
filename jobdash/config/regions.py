"""What jobdash knows about regions: their addresses, and the vendor profiles of
clouds.yaml (`profile: otc`) that name them.

openstacksdk ships `otc` (IAM at `https://iam.{region_name}.otc.t-systems.com/v3`,
regions eu-de and eu-nl) and `otc-swiss` (region eu-ch2). The Swiss region serves
its APIs under `*.eu-ch2.sc.otc.t-systems.com`, with IAM at `iam-pub.`, so its
addresses are listed here by region rather than derived from the template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jobdash.api.errors import ConfigError

REGION_PLACEHOLDERS = ("{region_name}", "%(region_name)s")
_REGION_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class RegionAddresses:
    iam: str
    ecs: str


# Regions whose addresses do not follow the eu-de pattern.
_SPECIAL_REGIONS: dict[str, RegionAddresses] = {
    "eu-ch2": RegionAddresses(
        iam="https://iam-pub.eu-ch2.sc.otc.t-systems.com/v3",
        ecs="https://ecs.eu-ch2.sc.otc.t-systems.com",
    ),
}


@dataclass(frozen=True)
class Profile:
    name: str
    #: IAM URL, possibly with a `{region_name}` placeholder.
    auth_url: str
    regions: tuple[str, ...]


PROFILES: dict[str, Profile] = {
    "otc": Profile("otc", "https://iam.{region_name}.otc.t-systems.com/v3", ("eu-de", "eu-nl")),
    "otc-swiss": Profile("otc-swiss", _SPECIAL_REGIONS["eu-ch2"].iam, ("eu-ch2",)),
}


def check_region_name(region: str) -> str:
    if not _REGION_NAME.match(region):
        raise ConfigError(f"the region {region!r} is not a region name like 'eu-de'")
    return region


def ecs_endpoint(region: str) -> str:
    """The ECS endpoint of an Open Telekom Cloud region."""
    check_region_name(region)
    special = _SPECIAL_REGIONS.get(region)
    return special.ecs if special else f"https://ecs.{region}.otc.t-systems.com"


def profile_auth_url(profile: Profile, region: str | None) -> str:
    """The profile's IAM URL for `region` (a known region's own address when it has one)."""
    special = _SPECIAL_REGIONS.get(region or "")
    if special is not None and "{region_name}" in profile.auth_url:
        return special.iam
    return profile.auth_url


def has_region_placeholder(url: str) -> bool:
    return any(marker in url for marker in REGION_PLACEHOLDERS)


def fill_region(url: str, region: str | None, where: str) -> str:
    """Put the region into `{region_name}` / `%(region_name)s` of an auth URL."""
    if not has_region_placeholder(url):
        return url
    if not region:
        raise ConfigError(
            f"the auth URL of {where} depends on the region ({{region_name}}), but no region "
            "is set: give --region NAME, OS_REGION_NAME, or region_name in clouds.yaml"
        )
    check_region_name(region)
    for marker in REGION_PLACEHOLDERS:
        url = url.replace(marker, region)
    return url
