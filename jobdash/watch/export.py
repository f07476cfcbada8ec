"""Export the failed sub-jobs of a job as CSV, JSON or Markdown. No UI here.

Values from the API are written with control characters escaped (the file may well be
`cat`-ed into a terminal), CSV cells that a spreadsheet would run as a formula are
neutralised, and Markdown table cells cannot break the table.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from jobdash.api.model import Job, SubJob
from jobdash.api.server import ServerInfo
from jobdash.text.safe import printable, without_surrogates

FORMATS: dict[str, str] = {"csv": "csv", "json": "json", "markdown": "md"}
COLUMNS = (
    "job_id",
    "job_type",
    "status",
    "resource_id",
    "server_name",
    "server_status",
    "server_fault",
    "error_code",
    "fail_reason",
    "errorcode_message",
    "begin_time",
    "end_time",
    "duration_seconds",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: What is known about a server, by its id (the dashboard's `ServerJoin`); None: nothing.
ServerLookup = Callable[[str], ServerInfo | None]


def _time(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def failed_items(job: Job) -> list[Job | SubJob]:
    """The failed sub-jobs; a failed job without sub-jobs stands for itself."""
    items: list[Job | SubJob] = list(job.failed_sub_jobs)
    if not items and job.failed and not job.sub_jobs:
        items = [job]
    return items


def _server_columns(info: ServerInfo | None) -> dict[str, str | None]:
    if info is None:
        return {"server_name": None, "server_status": None, "server_fault": None}
    server = info.server
    fault = None
    if server is not None and (server.fault_code or server.fault_message):
        fault = " ".join(part for part in (server.fault_code, server.fault_message) if part)
    return {"server_name": info.name, "server_status": info.status, "server_fault": fault}


def failure_rows(job: Job, servers: ServerLookup | None = None) -> list[dict[str, str]]:
    """One row per failure; `servers` adds what is known of the server behind each."""
    rows = []
    for item in failed_items(job):
        duration = item.duration()
        if isinstance(item, SubJob):
            resource, message = item.resource_id, item.errorcode_message
        else:
            resource, message = item.server_id or item.nic_id, None
        row = {
            "job_id": item.job_id,
            "job_type": item.job_type,
            "status": item.status,
            "resource_id": resource,
            **_server_columns(servers(resource) if servers and resource else None),
            "error_code": item.error_code,
            "fail_reason": item.fail_reason,
            "errorcode_message": message,
            "begin_time": _time(item.begin_time),
            "end_time": _time(item.end_time),
            "duration_seconds": f"{duration:.3f}" if duration is not None and item.end_time else "",
        }
        rows.append({key: printable(value) for key, value in row.items()})
    return rows


def _csv_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(job: Job, servers: ServerLookup | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in failure_rows(job, servers):
        writer.writerow({key: _csv_cell(value) for key, value in row.items()})
    return buffer.getvalue()


def to_json(job: Job, servers: ServerLookup | None = None) -> str:
    document = {
        "job_id": printable(job.job_id),
        "job_type": printable(job.job_type),
        "status": printable(job.status),
        "sub_jobs_total": job.total_sub_jobs,
        "failures_by_error_code": [
            {"error_code": printable(code), "count": count, "first_reason": printable(reason)}
            for code, count, reason in job.failure_summary()
        ],
        "failed_sub_jobs": failure_rows(job, servers),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _md_cell(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`") or " "


def _md_table(rows: Iterable[dict[str, str]]) -> list[str]:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(_md_cell(row[column]) for column in COLUMNS) + " |")
    return lines


def to_markdown(job: Job, servers: ServerLookup | None = None) -> str:
    title = _md_cell(printable(job.job_type or "job"))
    lines = [
        f"# Failed sub-jobs of {title} {_md_cell(printable(job.job_id))}",
        "",
        f"Status: {_md_cell(printable(job.status))}; "
        f"{len(failed_items(job))} failed of {job.total_sub_jobs or 1}.",
        "",
        "## By error code",
        "",
    ]
    for code, count, reason in job.failure_summary():
        lines.append(f"- {_md_cell(printable(code))} × {count}: {_md_cell(printable(reason))}")
    lines += ["", "## Failed sub-jobs", "", *_md_table(failure_rows(job, servers)), ""]
    return "\n".join(lines)


RENDERERS = {"csv": to_csv, "json": to_json, "markdown": to_markdown}


def render(job: Job, fmt: str, servers: ServerLookup | None = None) -> str:
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise ValueError(
            f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}"
        ) from None
    return renderer(job, servers)


def default_path(job: Job, fmt: str, now: datetime, directory: Path | None = None) -> Path:
    """`./jobdash-failed-<short id>-<UTC time>.<ext>`."""
    job_id = "".join(ch for ch in (job.job_id or "job") if ch.isalnum() or ch in "-_")[:12]
    stamp = now.strftime("%Y%m%d-%H%M%S")
    name = f"jobdash-failed-{job_id or 'job'}-{stamp}.{FORMATS[fmt]}"
    return (directory or Path.cwd()) / name


def write_export(job: Job, fmt: str, path: Path, servers: ServerLookup | None = None) -> Path:
    """Write the export; refuses to overwrite an existing file. Returns the absolute path."""
    # Encoded before the file exists: text that cannot be written must not leave an empty file.
    content = without_surrogates(render(job, fmt, servers)).encode("utf-8")
    path = path.expanduser()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    fd = os.open(path, flags, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return path.resolve()
