"""Values as the watchlist database holds them, and what store calls return."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from jobdash.api.ids import keyed_sub_jobs
from jobdash.api.model import Job, ResponseShapeError, parse_job, raw_dict
from jobdash.store.sqlite import RecordError
from jobdash.text.safe import one_line, without_surrogates
from jobdash.watch.values import Snapshot, WatchKey

#: Error messages are kept for display; a runaway body is cut to this many characters.
MAX_ERROR_MESSAGE = 2000


def time_text(moment: datetime) -> str:
    """ISO-8601 in UTC with a fixed width, so that text order is time order."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_time_text(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def job_json(job: Job) -> str:
    """The raw body as compact JSON text (ASCII-only, so any string survives SQLite's UTF-8)."""
    return json.dumps(raw_dict(job), separators=(",", ":"))


def job_from_json(text: str | None) -> Job | None:
    if text is None:
        return None
    try:
        return parse_job(json.loads(text))
    except (ValueError, ResponseShapeError):
        return None  # only a hand-edited row can get here; show no job rather than fail


@dataclass(frozen=True, slots=True)
class StatusMap:
    """The status of a job and of each of its sub-jobs, which is all a diff needs."""

    job: str
    sub_jobs: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, job: Job) -> StatusMap:
        return cls(job.status, {key: sub.status for key, sub in keyed_sub_jobs(job)})

    def to_json(self) -> str:
        return json.dumps({"job": self.job, "sub_jobs": self.sub_jobs}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> StatusMap | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(str(data["job"]), {str(k): str(v) for k, v in data["sub_jobs"].items()})
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def changes_from(self, before: StatusMap | None) -> list[tuple[str | None, str | None, str]]:
        """(sub-job key or None for the job, old status, new status) for each change."""
        changes: list[tuple[str | None, str | None, str]] = []
        old_job = before.job if before is not None else None
        if old_job != self.job:
            changes.append((None, old_job, self.job))
        old_subs = before.sub_jobs if before is not None else {}
        for key, status in self.sub_jobs.items():
            old = old_subs.get(key)
            if old != status:
                changes.append((key, old, status))
        return changes


#: What a value the database cannot take raises while an update is written: an
#: unencodable string (UnicodeEncodeError is a ValueError), an integer too large, a
#: body nested too deeply to serialise; SQLite's own refusals arrive as RecordError.
BAD_VALUE_ERRORS = (ValueError, TypeError, OverflowError, RecursionError, RecordError)


def failure_reason(exc: BaseException) -> str:
    if isinstance(exc, RecordError):
        return one_line(exc, 200)
    return f"{type(exc).__name__}: {one_line(exc, 200)}"


def text_or_none(value: str | None) -> str | None:
    return without_surrogates(value) if value else None


#: The SQL condition matching one entry by its key; `key_params` gives its values.
KEY_MATCH = "endpoint = ? AND project_id = ? AND job_id = ?"


def key_params(key: WatchKey) -> tuple[str, str, str]:
    return (key.endpoint, key.project_id, key.job_id)


def snapshot_from_row(row: tuple) -> Snapshot:
    endpoint, project_id, job_id, raw_json, fetched_at, expired, error_kind, error_message = row
    return Snapshot(
        key=WatchKey(endpoint, project_id, job_id),
        job=job_from_json(raw_json),
        fetched_at=parse_time_text(fetched_at),
        expired=bool(expired),
        error_kind=error_kind,
        error_message=error_message,
    )


@dataclass(frozen=True)
class AddResult:
    added: list[WatchKey]
    #: Keys that were already watched (or appeared twice in the same call); left as they were.
    duplicates: list[WatchKey]
