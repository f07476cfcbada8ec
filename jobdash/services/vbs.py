"""VBS (volume backups): `GET /v1/{project_id}/jobs/{job_id}` at `vbs.`.

ECS's shape but for two things: the sub-jobs are a top-level `sub_jobs` list (not
`entities.sub_jobs`), and `entities` is a flat map of strings whose `backup_id` is the backup
being made or restored. Backup calls answer `{"job_id": ...}`."""

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
    raw_entities = job.get("entities")
    entities = dict(raw_entities) if isinstance(raw_entities, Mapping) else {}
    backup = text(entities.get("backup_id"))
    if backup:
        adapted["resource_id"] = backup
        adapted["resource_type"] = "backup"
    subs = job.get("sub_jobs")
    if not isinstance(subs, list):
        subs = entities.get("sub_jobs")  # in case the ECS place is ever used
    if top and isinstance(subs, list):
        entities["sub_jobs"] = [
            _adapt_job(sub, top=False) for sub in subs if isinstance(sub, Mapping)
        ]
    adapted["entities"] = entities
    return adapted


def adapt(data: Any) -> Any:
    """A VBS job in the model's shape: sub-jobs moved under `entities`, the backup as the
    resource."""
    if not isinstance(data, Mapping):
        return data
    return _adapt_job(data)


SERVICE = JobService(
    name="vbs",
    title="VBS",
    host="vbs",
    job_path=v1_job_path,
    adapt=adapt,
    job_ids_in=job_id_field,
)
