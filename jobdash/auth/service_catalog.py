"""Service endpoints from a Keystone token catalog, reduced to the origin jobdash needs."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: jobdash's service name -> the catalog types its endpoint is listed under, in order of
#: preference. Only types seen in a token's catalog are listed; a service without an entry
#: takes the endpoint derived from ECS's. ECS has none: its endpoint is the connection's.
CATALOG_TYPES: dict[str, tuple[str, ...]] = {
    "evs": ("evs",),
}

_VERSION_SUFFIX = re.compile(r"/v\d+(?:\.\d+)?(?:/[^/]*)?/?$")


def service_origin(url: str) -> str:
    """`https://ecs.x.com/v1/<project>` -> `https://ecs.x.com` (also `/v2.1/...`, `/v3`)."""
    parts = urlsplit(url.strip())
    path = _VERSION_SUFFIX.sub("", parts.path).rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def endpoint_from_catalog(
    catalog: list[dict[str, Any]], service_type: str = "ecs", region: str | None = None
) -> str | None:
    """Find a service's public endpoint (in `region`, when given) in a Keystone catalog."""
    for service in catalog:
        if service.get("type") != service_type:
            continue
        endpoints = [e for e in service.get("endpoints") or [] if isinstance(e, dict)]
        endpoints.sort(key=lambda e: e.get("interface") != "public")
        for endpoint in endpoints:
            if endpoint.get("interface") not in (None, "public"):
                continue
            if region and region not in (endpoint.get("region"), endpoint.get("region_id")):
                continue
            url = endpoint.get("url")
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                try:
                    return service_origin(url)
                except ValueError:
                    continue  # unparseable (e.g. an unclosed IPv6 bracket): not usable
    return None


def catalog_regions(catalog: list[dict[str, Any]], service_type: str) -> int:
    """How many regions the catalog lists `service_type` in."""
    return len(
        {
            endpoint.get("region_id") or endpoint.get("region")
            for service in catalog
            if service.get("type") == service_type
            for endpoint in service.get("endpoints") or []
            if isinstance(endpoint, dict)
        }
    )
