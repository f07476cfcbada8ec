"""RDS: `GET /v3/{project_id}/jobs?id={job_id}` at `rds.`, answered as `{"job": {...}}`.

The job: `id`, `name` (its type, e.g. `CreateMysqlSingleHAInstance`), `status` (`Running`,
`Completed`, `Failed`; one published example says `Complete`), `created`, `ended` (times
like `2018-08-06T10:41:14+0000`), `process` (percent, `"60"` or `"60% "`, `""` when not
running), `instance` `{id, name}`, `entities` (job-specific) and `fail_reason`. DDS answers
in the same family (`dds`), with `progress` for `process`.

Instance calls answer `{"job_id": ...}`, with the new `instance` when one is created.
The list of recent jobs is `GET /v3/{project_id}/tasklist` (`tasks[]` with `id` and
`create_time`; its `start_time` filter is epoch milliseconds)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from jobdash.services.base import (
    FAILED,
    RUNNING,
    SUCCEEDED,
    JobService,
    ListApi,
    end_time_text,
    field,
    job_id_only,
    job_named,
    listed_jobs,
    nonempty,
    percent,
    time_text,
)

_STATUSES = {"running": RUNNING, "completed": SUCCEEDED, "complete": SUCCEEDED, "failed": FAILED}
#: Jobs per page of the task list (the most it gives).
PAGE_SIZE = 50


def job_path(project_id: str, job_id: str) -> str:
    return f"/v3/{project_id}/jobs?id={job_id}"


def database_job_adapter(progress_field: str) -> Callable[[Any], Any]:
    """The adapter for a `{"job": ...}` answer of the RDS family, whose progress is in
    `progress_field`."""

    def adapt(data: Any) -> Any:
        job = field(data, "job")
        if not isinstance(job, Mapping):
            return data  # not this shape: the model shows it as it came
        adapted = job_named(
            job,
            _STATUSES,
            job_id=job.get("id"),
            job_type=job.get("name"),
            status=job.get("status"),
        )
        adapted["begin_time"] = time_text(job.get("created"))
        adapted["end_time"] = end_time_text(adapted["status"], job.get("ended"))
        adapted["fail_reason"] = nonempty(job.get("fail_reason"))
        adapted["error_code"] = None
        adapted["progress"] = percent(job.get(progress_field))
        instance = nonempty(field(job, "instance", "id"))
        name = nonempty(field(job, "instance", "name"))
        if instance or name:
            adapted["resource_id"] = instance
            adapted["resource_name"] = name
            adapted["resource_type"] = "instance"
        entities = job.get("entities")
        adapted["entities"] = dict(entities) if isinstance(entities, Mapping) else {}
        return adapted

    return adapt


def list_path(project_id: str, since: datetime) -> str:
    start = int(since.timestamp() * 1000)
    return f"/v3/{project_id}/tasklist?offset=0&limit={PAGE_SIZE}&start_time={start}"


def read_list(page: Any) -> list[tuple[str, datetime | None]]:
    """The tasks on a task-list page: `id` and `create_time` (epoch milliseconds or text)."""
    return listed_jobs(page, "tasks", "id", "create_time")


SERVICE = JobService(
    name="rds",
    title="RDS",
    host="rds",
    job_path=job_path,
    adapt=database_job_adapter("process"),
    job_ids_in=job_id_only,
    listing=ListApi(path=list_path, read=read_list),
)
