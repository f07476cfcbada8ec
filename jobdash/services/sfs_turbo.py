"""SFS Turbo: `GET /v1/{project_id}/sfs-turbo/jobs/{job_id}` at `sfs-turbo.`.

A flat job (`job_id`, `job_type` such as `extend_share`, `status`, `begin_time`, `end_time`,
`error_code`, `fail_reason`) with its sub-jobs in a top-level `sub_jobs` list; statuses are
`waiting`, `running`, `success`, `failed`; times are `2016-01-02 15:04:05` in UTC. The body
names no resource. A failure may be told the way SFS Turbo's errors are, `errCode`/`errMsg`.

The documented share calls answer the share, not a job; calls that do start one answer
`job_id` (or `jobId`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobdash.services.base import (
    FAILED,
    RUNNING,
    SUCCEEDED,
    WAITING,
    JobService,
    ecs_style,
    text,
)
from jobdash.services.ecs import job_id_field

_STATUSES = {"waiting": WAITING, "running": RUNNING, "success": SUCCEEDED, "failed": FAILED}


def job_path(project_id: str, job_id: str) -> str:
    return f"/v1/{project_id}/sfs-turbo/jobs/{job_id}"


def _adapt_one(job: Mapping[str, Any]) -> dict[str, Any]:
    adapted = ecs_style(job, _STATUSES)
    adapted["error_code"] = text(job.get("error_code")) or text(job.get("errCode")) or None
    adapted["fail_reason"] = text(job.get("fail_reason")) or text(job.get("errMsg")) or None
    entities = job.get("entities")
    adapted["entities"] = dict(entities) if isinstance(entities, Mapping) else {}
    return adapted


def adapt(data: Any) -> Any:
    """An SFS Turbo job in the model's shape, its `sub_jobs` under `entities` (they do not
    nest further)."""
    if not isinstance(data, Mapping):
        return data
    adapted = _adapt_one(data)
    subs = data.get("sub_jobs")
    if isinstance(subs, list):
        adapted["entities"]["sub_jobs"] = [
            _adapt_one(sub) for sub in subs if isinstance(sub, Mapping)
        ]
    return adapted


SERVICE = JobService(
    name="sfs-turbo",
    title="SFS Turbo",
    host="sfs-turbo",
    job_path=job_path,
    adapt=adapt,
    job_ids_in=job_id_field,
)
