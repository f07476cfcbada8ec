"""Where each service answers for the resource a job acts on, and how that answer reads.

A failed job's resource tells what the failure left behind: EVS's disk in `error`, IMS's
image `killed`, CCE's node `Abnormal`, RDS's instance `FAILED` (or nothing: a 404 means it
is gone). Paths, from each service's API reference:

- EVS: `GET /v2/{project_id}/volumes/{volume_id}` -> `{"volume": {id, name, status}}`;
- IMS: `GET /v2/images/{image_id}` -> the image itself `{id, name, status}` (no project);
- CCE: `GET /api/v3/projects/{project_id}/clusters/{cluster_id}/nodes/{node_id}` and
  `.../clusters/{cluster_id}` -> `{"metadata": {uid, name}, "status": {phase}}` (a
  cluster's status also has `reason` and `message`, which are read when present);
- RDS: `GET /v3/{project_id}/instances?id={instance_id}` -> `{"instances": [{id, name,
  status}], "total_count": n}`: an empty list is a gone instance, like a 404.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jobdash.api.server import bounded
from jobdash.services.base import field, nonempty


@dataclass(frozen=True, slots=True)
class ResourceRead:
    """What a resource answer says: None fields when it does not say."""

    name: str | None
    status: str | None
    message: str | None


#: (project id, resource id, parent id: a node's cluster) -> path and query.
ResourcePath = Callable[[str, str, str | None], str | None]
#: A decoded answer -> what it says; None when it names no such resource (gone).
ResourceReader = Callable[[Any], ResourceRead | None]
#: Where a kept field sits in an answer: keys and list positions, ending with a key.
FieldPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class ResourceApi:
    """One service's resource lookup."""

    kind: str
    path: ResourcePath
    read: ResourceReader
    #: The fields `read` reads (and the id): all of an answer that is kept.
    fields: tuple[FieldPath, ...] = ()

    def kept(self, data: Any) -> dict[str, Any]:
        """The answer cut to `fields`, in its own shape (so `read` reads it again), each
        text bounded (`jobdash.api.server.MAX_FIELD_CHARS`): a resource's answer can be
        megabytes, and the store keeps what this returns."""
        kept: dict[str, Any] = {}
        for path in self.fields:
            value = _at(data, path)
            if value is not _MISSING and not isinstance(value, Mapping | list):
                _put(kept, path, bounded(value))
        return kept


_MISSING = object()


def _at(data: Any, path: FieldPath) -> Any:
    for step in path:
        if isinstance(step, int):
            if not isinstance(data, list) or len(data) <= step:
                return _MISSING
            data = data[step]
        elif isinstance(data, Mapping) and step in data:
            data = data[step]
        else:
            return _MISSING
    return data


def _put(target: dict[str, Any], path: FieldPath, value: Any) -> None:
    """Set `value` at `path` (which ends with a key) in `target`, making the objects and
    lists on the way."""
    here: Any = target
    for step, following in itertools.pairwise(path):
        fresh: Any = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            while len(here) <= step:
                here.append(fresh if len(here) == step else {})
            here = here[step]
        else:
            here = here.setdefault(step, fresh)
    here[path[-1]] = value


def _object(data: Any, key: str) -> Mapping[str, Any] | None:
    inner = field(data, key)
    return inner if isinstance(inner, Mapping) else None


def _read_volume(data: Any) -> ResourceRead | None:
    volume = _object(data, "volume")
    if volume is None:
        return None
    return ResourceRead(nonempty(volume.get("name")), nonempty(volume.get("status")), None)


def _read_image(data: Any) -> ResourceRead | None:
    if not isinstance(data, Mapping) or nonempty(data.get("id")) is None:
        return None
    return ResourceRead(nonempty(data.get("name")), nonempty(data.get("status")), None)


def _read_cce(data: Any) -> ResourceRead | None:
    if not isinstance(data, Mapping) or _object(data, "metadata") is None:
        return None
    return ResourceRead(
        nonempty(field(data, "metadata", "name")),
        nonempty(field(data, "status", "phase")),
        nonempty(field(data, "status", "reason")) or nonempty(field(data, "status", "message")),
    )


def _read_instance(data: Any) -> ResourceRead | None:
    found = field(data, "instances")
    if not isinstance(found, list) or not found or not isinstance(found[0], Mapping):
        return None
    instance = found[0]
    return ResourceRead(nonempty(instance.get("name")), nonempty(instance.get("status")), None)


def _cce_path(project: str, resource: str, cluster: str | None) -> str:
    base = f"/api/v3/projects/{project}/clusters"
    if cluster is None or cluster == resource:
        return f"{base}/{resource}"
    return f"{base}/{cluster}/nodes/{resource}"


def _named(*prefix: str | int) -> tuple[FieldPath, ...]:
    return tuple((*prefix, name) for name in ("id", "name", "status"))


RESOURCES: Mapping[str, ResourceApi] = {
    "evs": ResourceApi(
        "volume", lambda p, r, _c: f"/v2/{p}/volumes/{r}", _read_volume, _named("volume")
    ),
    "ims": ResourceApi("image", lambda _p, r, _c: f"/v2/images/{r}", _read_image, _named()),
    "cce": ResourceApi(
        "node",
        _cce_path,
        _read_cce,
        (
            ("metadata", "uid"),
            ("metadata", "name"),
            ("status", "phase"),
            ("status", "reason"),
            ("status", "message"),
        ),
    ),
    "rds": ResourceApi(
        "instance",
        lambda p, r, _c: f"/v3/{p}/instances?id={r}",
        _read_instance,
        _named("instances", 0),
    ),
}


def resource_api(service: str) -> ResourceApi | None:
    """The service's resource lookup; None for ECS (its servers have their own) and for
    services whose resources jobdash does not look up."""
    return RESOURCES.get(service)


def resource_kind(service: str, resource_id: str, parent: str | None) -> str:
    """What the resource is, for people: a CCE id equal to its cluster's is the cluster."""
    api = RESOURCES.get(service)
    if api is None:
        return "server"
    if service == "cce" and (parent is None or parent == resource_id):
        return "cluster"
    return api.kind


def read_kind(kind: str, data: Any) -> ResourceRead | None:
    """A stored answer read again by what it is (`volume`, `image`, `node`, `cluster`,
    `instance`); None for a kind this module does not know or an answer without one."""
    for service, api in RESOURCES.items():
        if kind == api.kind or (service == "cce" and kind == "cluster"):
            return api.read(data)
    return None
