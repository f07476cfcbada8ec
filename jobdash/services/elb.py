"""ELB (Huawei Cloud's dedicated load balancers, API v3): `GET /v3/{project_id}/elb/jobs/{job_id}`
at `elb.`, answered as `{"job": {...}, "request_id": ...}`.

The job: `job_id`, `job_type` (`cloneLoadbalancer`, `cloneListener`,
`batchCreateV3Loadbalancer`, `UPGRADE`, ...), `status`, `begin_time`, `end_time`,
`error_code`, `error_msg`, `resource_id`, and `sub_jobs[]` of the same fields whose
`entities` is a list of `{resource_id, resource_type}` (`loadbalancer`, `listener`).
Statuses: `INIT`, `RUNNING`, `SUCCESS`, `COMPLETE` (what a finished job says), `FAIL`,
`ROLLBACKING`, `ROLLBACK_FAIL`, `CANCEL`.

Clone and batch calls answer `{"job_id": ...}`. The list of recent jobs is
`GET /v3/{project_id}/elb/jobs` (`jobs[]`; `begin_time` filter as `2024-03-23T08:20:42`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from jobdash.services.base import (
    FAILED,
    ROLLED_BACK,
    RUNNING,
    SUCCEEDED,
    WAITING,
    JobService,
    ListApi,
    ecs_style,
    field,
    job_id_only,
    listed_jobs,
    nonempty,
)

_STATUSES = {
    "init": WAITING,
    "running": RUNNING,
    "success": SUCCEEDED,
    "complete": SUCCEEDED,
    "fail": FAILED,
    # Undoing a failed step is still work in progress; an undo that failed is a failure.
    "rollbacking": RUNNING,
    "rollback_fail": FAILED,
    "cancel": ROLLED_BACK,
}
#: Jobs per page asked for (ELB gives up to 2000).
PAGE_SIZE = 100


def job_path(project_id: str, job_id: str) -> str:
    return f"/v3/{project_id}/elb/jobs/{job_id}"


def _adapt_one(job: Mapping[str, Any]) -> dict[str, Any]:
    adapted = ecs_style(job, _STATUSES)
    adapted["error_code"] = nonempty(job.get("error_code"))
    adapted["fail_reason"] = nonempty(job.get("error_msg"))
    entities: dict[str, Any] = {}
    resource = nonempty(job.get("resource_id"))
    kind = None
    listed = job.get("entities")
    if isinstance(listed, list):
        for entity in listed:
            entity_id = nonempty(field(entity, "resource_id"))
            entity_type = nonempty(field(entity, "resource_type"))
            if entity_id is None:
                continue
            # `listener_id`, `loadbalancer_id`: the model finds a sub-job's resource by `_id`.
            entities.setdefault(f"{entity_type or 'resource'}_id", entity_id)
            if resource is None or resource == entity_id:
                resource, kind = entity_id, entity_type
    if resource:
        adapted["resource_id"] = resource
        adapted["resource_type"] = kind
    adapted["entities"] = entities
    return adapted


def adapt(data: Any) -> Any:
    """An ELB job in the model's shape, its sub-jobs under `entities`."""
    job = field(data, "job")
    if not isinstance(job, Mapping):
        return data  # not this shape: the model shows it as it came
    adapted = _adapt_one(job)
    subs = job.get("sub_jobs")
    if isinstance(subs, list):
        adapted["entities"]["sub_jobs"] = [
            _adapt_one(sub) for sub in subs if isinstance(sub, Mapping)
        ]
    return adapted


def list_path(project_id: str, since: datetime) -> str:
    start = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"/v3/{project_id}/elb/jobs?begin_time={start}&limit={PAGE_SIZE}"


def read_list(page: Any) -> list[tuple[str, datetime | None]]:
    """The jobs on a page: `job_id` and `begin_time`."""
    return listed_jobs(page, "jobs", "job_id", "begin_time")


SERVICE = JobService(
    name="elb",
    title="ELB",
    host="elb",
    job_path=job_path,
    adapt=adapt,
    job_ids_in=job_id_only,
    listing=ListApi(path=list_path, read=read_list),
)
