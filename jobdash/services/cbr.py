"""CBR: `GET /v3/{project_id}/operation-logs/{operation_log_id}` at `cbr.`, an operation log
(CBR's word for a task) answered as `{"operation_log": {...}}`.

The log: `id`, `operation_type` (`backup`, `restore`, `delete`, `vault_delete`,
`remove_resource`, `replication`, `sync`), `status` (`waiting`, `running`, `success`,
`skipped`, `failed`, `timeout`), `created_at`/`started_at`/`ended_at` (RFC 3339, `Z` or
`+00:00`, with or without milliseconds), `error_info` `{code, message}` (empty strings when
all went well), and `extra_info`: the resource in `resource` `{id, name, type}`, the percent
done in `common.progress`.

No CBR call answers with an operation log's id: logs are found in the list,
`GET /v3/{project_id}/operation-logs` (`operation_logs[]`; `start_time` as
`2018-01-01T12:00:00Z`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from jobdash.services.base import (
    FAILED,
    RUNNING,
    SUCCEEDED,
    WAITING,
    JobService,
    ListApi,
    end_time_text,
    field,
    job_named,
    listed_jobs,
    nonempty,
    percent,
    time_text,
)

_STATUSES = {
    "waiting": WAITING,
    "running": RUNNING,
    "success": SUCCEEDED,
    # Nothing needed doing (e.g. no change since the last backup): done, not failed.
    "skipped": SUCCEEDED,
    "failed": FAILED,
    "timeout": FAILED,
}
#: Logs per page asked for (the most CBR gives is 1000).
PAGE_SIZE = 100


def job_path(project_id: str, job_id: str) -> str:
    return f"/v3/{project_id}/operation-logs/{job_id}"


def adapt(data: Any) -> Any:
    """An operation log in the model's shape: its error info as the failure, its resource
    and progress from `extra_info`."""
    log = field(data, "operation_log")
    if not isinstance(log, Mapping):
        return data  # not this shape: the model shows it as it came
    adapted = job_named(
        log,
        _STATUSES,
        job_id=log.get("id"),
        job_type=log.get("operation_type"),
        status=log.get("status"),
    )
    adapted["begin_time"] = time_text(log.get("started_at")) or time_text(log.get("created_at"))
    adapted["end_time"] = end_time_text(adapted["status"], log.get("ended_at"))
    adapted["error_code"] = nonempty(field(log, "error_info", "code"))
    adapted["fail_reason"] = nonempty(field(log, "error_info", "message"))
    adapted["progress"] = percent(field(log, "extra_info", "common", "progress"))
    adapted["resource_id"] = nonempty(field(log, "extra_info", "resource", "id"))
    adapted["resource_name"] = nonempty(field(log, "extra_info", "resource", "name"))
    adapted["resource_type"] = nonempty(field(log, "extra_info", "resource", "type"))
    adapted["entities"] = {}
    return adapted


def list_path(project_id: str, since: datetime) -> str:
    start = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"/v3/{project_id}/operation-logs?start_time={start}&limit={PAGE_SIZE}&offset=0"


def read_list(page: Any) -> list[tuple[str, datetime | None]]:
    """The logs on a page: `id`, and when each started (or was created)."""
    return listed_jobs(page, "operation_logs", "id", "started_at", "created_at")


SERVICE = JobService(
    name="cbr",
    title="CBR",
    host="cbr",
    job_path=job_path,
    adapt=adapt,
    listing=ListApi(path=list_path, read=read_list),
)
