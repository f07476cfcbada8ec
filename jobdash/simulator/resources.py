"""Simulated resources of the other services: what EVS's volume, IMS's image, CCE's node
(and cluster) and RDS's instance calls answer for the resources the simulator's jobs act
on, derived from the plans at any moment, like the ECS servers (`servers.py`).

A resource exists once the job that creates it began (or from the first job on it when no
job created it); each sub-job on it sets its status while it runs and after it ends,
success or failure; a successful delete makes it gone (404, or RDS's empty list).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from jobdash.simulator.clock import format_api_time
from jobdash.simulator.jobs import SubJobPlan
from jobdash.simulator.service_bodies import derived_id
from jobdash.simulator.service_jobs import ServiceJob, ServiceJobBook

#: A status that means the resource no longer exists.
GONE = None
#: (service, job kind) -> (status while it runs, after success, after failure).
_EFFECTS: dict[tuple[str, str], tuple[str, str | None, str]] = {
    ("evs", "create"): ("creating", "available", "error"),
    ("evs", "extend"): ("extending", "available", "error_extending"),
    ("evs", "delete"): ("deleting", GONE, "error_deleting"),
    ("ims", "create"): ("saving", "active", "killed"),
    ("ims", "import_ova"): ("saving", "active", "killed"),
    ("cce", "create_node"): ("Installing", "Active", "Abnormal"),
    ("cce", "delete_node"): ("Deleting", GONE, "Abnormal"),
    ("rds", "create"): ("BUILD", "ACTIVE", "FAILED"),
    ("rds", "resize"): ("RESIZING", "ACTIVE", "ACTIVE"),
    ("rds", "restart"): ("REBOOTING", "ACTIVE", "ACTIVE"),
}
#: The status of a created resource whose creation has not started yet.
_WAITING = {"evs": "creating", "ims": "queued", "cce": "Build", "rds": "BUILD"}
_CREATES = frozenset({"create", "import_ova", "create_node"})


@dataclass(frozen=True, slots=True)
class ResourceRoute:
    route: str  # name in the request counters
    service: str
    project_id: str | None  # None: the path names none (IMS)
    resource_id: str
    cluster_id: str | None = None  # CCE


_PATHS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("evs_volume", "evs", re.compile(r"/v[23]/([^/]+)/volumes/([^/]+)")),
    ("ims_image", "ims", re.compile(r"/v2/images/([^/]+)")),
    (
        "cce_node",
        "cce",
        re.compile(r"/api/v3/projects/([^/]+)/clusters/([^/]+)/nodes/([^/]+)"),
    ),
    ("cce_cluster", "cce", re.compile(r"/api/v3/projects/([^/]+)/clusters/([^/]+)")),
    ("rds_instances", "rds", re.compile(r"/v3/([^/]+)/instances/?")),
)


def match_resource(path: str, query: str) -> ResourceRoute | None:
    """The resource call a path is, or None."""
    for name, service, pattern in _PATHS:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        parts = [unquote(part) for part in match.groups()]
        if name == "ims_image":
            return ResourceRoute(name, service, None, parts[0])
        if name == "cce_node":
            return ResourceRoute(name, service, parts[0], parts[2], parts[1])
        if name == "cce_cluster":
            return ResourceRoute(name, service, parts[0], parts[1], parts[1])
        if name == "rds_instances":
            values = parse_qs(query, keep_blank_values=True).get("id", [""])
            return ResourceRoute(name, service, parts[0], values[-1])
        return ResourceRoute(name, service, parts[0], parts[1])
    return None


def owner_project(book: ServiceJobBook, route: ResourceRoute) -> str | None:
    """The project the resource belongs to (for a path that names none); None if unknown."""
    acting = book.acting_on(route.service, route.resource_id)
    return acting[0][0].project_id if acting else None


def _state(
    service: str, acting: list[tuple[ServiceJob, SubJobPlan]], now_ms: int
) -> tuple[str | None, int] | None:
    """(status, when it last changed) at `now_ms`; None before it exists; status None when
    it is gone."""
    first_job, first = acting[0]
    if first_job.kind in _CREATES and now_ms < first.begin_ms:
        return None
    status = _WAITING.get(service, "available")
    changed = first.begin_ms
    for job, sub in acting:
        if now_ms < sub.start_ms:
            break
        running, succeeded, failed = _EFFECTS.get((service, job.kind), (status, status, status))
        if now_ms < sub.end_ms:
            status, changed = running, sub.start_ms
            continue
        changed = sub.end_ms
        if sub.failure is None:
            if succeeded is GONE:
                return GONE, changed
            status = succeeded
        else:
            status = failed
    return status, changed


def _name(job: ServiceJob, sub: SubJobPlan) -> str:
    many = len(job.plan.sub_jobs) > 1
    index = job.plan.sub_jobs.index(sub) + 1
    return f"{job.name}-{index:02d}" if many else job.name


def resource_body(book: ServiceJobBook, route: ResourceRoute, now_ms: int) -> Any:
    """The answer for a resource call; None for a 404 (RDS answers an empty list instead)."""
    if route.route == "cce_cluster":
        return _cluster(book, route, now_ms)
    acting = book.acting_on(route.service, route.resource_id) if route.resource_id else []
    acting = [pair for pair in acting if route.project_id in (None, pair[0].project_id)]
    state = _state(route.service, acting, now_ms) if acting else None
    if state is None or state[0] is GONE:
        return {"instances": [], "total_count": 0} if route.service == "rds" else None
    status, changed_ms = state
    assert status is not None
    job, sub = acting[0]
    rid, name = route.resource_id, _name(job, sub)
    created, updated = format_api_time(sub.begin_ms), format_api_time(changed_ms)
    if route.service == "evs":
        return {
            "volume": {
                "id": rid,
                "name": name,
                "status": status,
                "size": 100,
                "volume_type": "SSD",
                "availability_zone": "eu-de-01",
                "bootable": "false",
                "multiattach": False,
                "attachments": [],
                "metadata": {},
                "created_at": created.rstrip("Z"),
                "updated_at": updated.rstrip("Z"),
            }
        }
    if route.service == "ims":
        return {
            "id": rid,
            "name": name,
            "status": status,
            "visibility": "private",
            "__imagetype": "private",
            "disk_format": "zvhd2",
            "min_disk": 40,
            "created_at": created.split(".")[0] + "Z",
            "updated_at": updated.split(".")[0] + "Z",
            "self": f"/v2/images/{rid}",
            "schema": "/v2/schemas/image",
        }
    if route.service == "cce":
        return {
            "kind": "Node",
            "apiVersion": "v3",
            "metadata": {"uid": rid, "name": name, "creationTimestamp": created},
            "spec": {"flavor": "s3.large.2", "az": "eu-de-01", "os": "EulerOS 2.9"},
            "status": {"phase": status, "jobID": sub.job_id},
        }
    return {
        "instances": [
            {
                "id": rid,
                "name": name,
                "status": status,
                "type": "Ha",
                "datastore": {"type": "MySQL", "version": "8.0"},
                "port": "3306",
                "created": created.split(".")[0] + "+0000",
                "updated": updated.split(".")[0] + "+0000",
            }
        ],
        "total_count": 1,
    }


def _cluster(book: ServiceJobBook, route: ResourceRoute, now_ms: int) -> Any:
    # The cluster a CCE job names exists as long as one of its jobs is remembered.
    assert route.project_id is not None
    for job in book.jobs("cce", route.project_id, now_ms):
        if derived_id(job.plan.job_id, "cce-cluster") == route.resource_id:
            return {
                "kind": "Cluster",
                "apiVersion": "v3",
                "metadata": {"uid": route.resource_id, "name": f"{job.name}-cluster"},
                "spec": {"type": "VirtualMachine", "flavor": "cce.s1.small"},
                "status": {"phase": "Available"},
            }
    return None
