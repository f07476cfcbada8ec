"""EVS: `GET /v1/{project_id}/jobs/{job_id}` at `evs.`, answered in ECS's shape.

The disk a job works on is `entities.volume_id` (with `name`); a batch lists one sub-job per
disk, each with its own `entities.volume_id`. Create, delete, extend and retype calls answer
`{"job_id": ...}` (a prepaid create answers `order_id`, which is not a job)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobdash.services.base import (
    ECS_STATUSES,
    JobService,
    ecs_style,
    text,
)
from jobdash.services.ecs import job_id_field, v1_job_path


def _adapt_job(job: Mapping[str, Any], *, top: bool = True) -> dict[str, Any]:
    # Sub-jobs of sub-jobs are left as they came: the model reads one level, and adapting
    # deeper would let an absurdly nested answer exhaust the stack.
    adapted = ecs_style(job, ECS_STATUSES)
    entities = job.get("entities")
    if isinstance(entities, Mapping):
        entities = dict(entities)
        volume = text(entities.get("volume_id"))
        if volume:
            adapted["resource_id"] = volume
            adapted["resource_type"] = "volume"
            adapted["resource_name"] = text(entities.get("name")) or None
        subs = entities.get("sub_jobs")
        if top and isinstance(subs, list):
            entities["sub_jobs"] = [
                _adapt_job(sub, top=False) for sub in subs if isinstance(sub, Mapping)
            ]
        adapted["entities"] = entities
    return adapted


def adapt(data: Any) -> Any:
    """An EVS job in the model's shape: its disk as the resource, times as ISO text."""
    if not isinstance(data, Mapping):
        return data
    return _adapt_job(data)


SERVICE = JobService(
    name="evs",
    title="EVS",
    host="evs",
    job_path=v1_job_path,
    adapt=adapt,
    job_ids_in=job_id_field,
)
