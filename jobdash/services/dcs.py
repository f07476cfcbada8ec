"""DCS: `GET /v2/{project_id}/jobs/{job_id}` at `dcs.`, a flat job without entities.

`job_id`, `job_type` (`masterStandbySwapJob`, `modifyClientIpTransJob`, ...), `status`
(ECS's words), `begin_time`/`end_time` as epoch milliseconds in strings, `fail_reason`; a
failure may instead be told as `error_code`/`error_msg`. The instance is known only to the
call that started the job, which answers `{"job_id": ...}`. DCS lists tasks per instance,
in an id space of their own, so it has no list here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobdash.services.base import (
    ECS_STATUSES,
    JobService,
    ecs_style,
    job_id_only,
    text,
)


def job_path(project_id: str, job_id: str) -> str:
    return f"/v2/{project_id}/jobs/{job_id}"


def adapt(data: Any) -> Any:
    """A DCS job in the model's shape: times from epoch milliseconds, the error message as
    the failure reason when no reason is given."""
    if not isinstance(data, Mapping):
        return data
    adapted = ecs_style(data, ECS_STATUSES)
    adapted["fail_reason"] = text(data.get("fail_reason")) or text(data.get("error_msg")) or None
    adapted["error_code"] = text(data.get("error_code")) or None
    if not isinstance(data.get("entities"), Mapping):
        adapted["entities"] = {}
    return adapted


SERVICE = JobService(
    name="dcs",
    title="DCS",
    host="dcs",
    job_path=job_path,
    adapt=adapt,
    job_ids_in=job_id_only,
)
