"""Every service jobdash knows, found among the modules of `jobdash.services`."""

from __future__ import annotations

import functools
import importlib
import pkgutil

import jobdash.services as package
from jobdash.services.base import JobService

#: The service of entries that name none (every watchlist from before services existed).
DEFAULT_SERVICE = "ecs"
_NOT_SERVICES = frozenset({"base", "recognise", "registry", "resources"})


class UnknownServiceError(ValueError):
    """A service name jobdash does not know; the message lists those it does."""


@functools.cache
def services() -> dict[str, JobService]:
    """Name -> service, ECS first, then by name."""
    found: dict[str, JobService] = {}
    for module in pkgutil.iter_modules(package.__path__):
        if module.name in _NOT_SERVICES:
            continue
        adapter = importlib.import_module(f"{package.__name__}.{module.name}").SERVICE
        found[adapter.name] = adapter
    return dict(sorted(found.items(), key=lambda item: (item[0] != DEFAULT_SERVICE, item[0])))


def service(name: str | None) -> JobService:
    """The service called `name` (any case; None: ECS). Raises `UnknownServiceError`."""
    known = services()
    wanted = (name or DEFAULT_SERVICE).strip().lower().replace("_", "-")
    found = known.get(wanted)
    if found is None:
        raise UnknownServiceError(
            f"unknown service {name!r}: jobdash watches the jobs of {', '.join(known)}"
        )
    return found


def ecs_endpoint_of(endpoint: str, service_name: str) -> str:
    """The ECS endpoint in the region of a service's endpoint (`base.endpoint_for`
    undone): `https://evs.eu-de...` gives `https://ecs.eu-de...`; an endpoint that is not
    the service's by name serves every service, ECS's included."""
    host_label = service(service_name).host
    scheme, sep, rest = endpoint.partition("://")
    if not sep:
        return endpoint
    host, slash, path = rest.partition("/")
    first, dot, others = host.partition(".")
    if first.lower() != host_label or not dot:
        return endpoint
    return f"{scheme}://ecs.{others}{slash}{path}"
