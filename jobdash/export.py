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
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from jobdash.api.model import Job, SubJob
from jobdash.textsafe import printable, without_surrogates

FORMATS: dict[str, str] = {"csv": "csv", "json": "json", "markdown": "md"}
COLUMNS = (
    "job_id",
    "job_type",
    "status",
    "resource_id",
    "error_code",
    "fail_reason",
    "errorcode_message",
    "begin_time",
    "end_time",
    "duration_seconds",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def failure_rows(job: Job) -> list[dict[str, str]]:
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


def to_csv(job: Job) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in failure_rows(job):
        writer.writerow({key: _csv_cell(value) for key, value in row.items()})
    return buffer.getvalue()


def to_json(job: Job) -> str:
    document = {
        "job_id": printable(job.job_id),
        "job_type": printable(job.job_type),
        "status": printable(job.status),
        "sub_jobs_total": job.total_sub_jobs,
        "failures_by_error_code": [
            {"error_code": printable(code), "count": count, "first_reason": printable(reason)}
            for code, count, reason in job.failure_summary()
        ],
        "failed_sub_jobs": failure_rows(job),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _md_cell(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`") or " "


def _md_table(rows: Iterable[dict[str, str]]) -> list[str]:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(_md_cell(row[column]) for column in COLUMNS) + " |")
    return lines


def to_markdown(job: Job) -> str:
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
    lines += ["", "## Failed sub-jobs", "", *_md_table(failure_rows(job)), ""]
    return "\n".join(lines)


RENDERERS = {"csv": to_csv, "json": to_json, "markdown": to_markdown}


def render(job: Job, fmt: str) -> str:
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise ValueError(
            f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}"
        ) from None
    return renderer(job)


def default_path(job: Job, fmt: str, now: datetime, directory: Path | None = None) -> Path:
    """`./jobdash-failed-<short id>-<UTC time>.<ext>`."""
    job_id = "".join(ch for ch in (job.job_id or "job") if ch.isalnum() or ch in "-_")[:12]
    stamp = now.strftime("%Y%m%d-%H%M%S")
    name = f"jobdash-failed-{job_id or 'job'}-{stamp}.{FORMATS[fmt]}"
    return (directory or Path.cwd()) / name


def write_export(job: Job, fmt: str, path: Path) -> Path:
    """Write the export; refuses to overwrite an existing file. Returns the absolute path."""
    # Encoded before the file exists: text that cannot be written must not leave an empty file.
    content = without_surrogates(render(job, fmt)).encode("utf-8")
    path = path.expanduser()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    fd = os.open(path, flags, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return path.resolve()
