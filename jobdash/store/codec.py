"""Values as the watchlist database holds them, and what store calls return."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from jobdash.api.model import Job, ResponseShapeError, decode_body, parse_job, raw_dict
from jobdash.services.registry import DEFAULT_SERVICE
from jobdash.services.registry import service as lookup_service
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


def stored_body(job: Job) -> bytes | str:
    """What the store keeps of a job: the bytes it arrived as, or (for a job built from a
    decoded value, as the demo and tests do) that value as compact ASCII JSON."""
    if job.body is not None:
        return job.body
    return json.dumps(raw_dict(job), separators=(",", ":"))


def job_from_stored(value: bytes | str | None, service: str = DEFAULT_SERVICE) -> Job | None:
    """The job a snapshot holds: answer bytes (BLOB), read as `service` reads them, or
    JSON text (written by older versions, all ECS). None for none, or for a row that
    cannot be read (only a hand-edited file gets there: show no job rather than fail)."""
    if value is None:
        return None
    try:
        if isinstance(value, str):
            return parse_job(json.loads(value))
        reader = lookup_service(service)
        return parse_job(reader.read(decode_body(value)), bytes(value))
    except (ValueError, RecursionError, ResponseShapeError):
        return None


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
    (
        endpoint,
        project_id,
        job_id,
        service,
        raw_json,
        fetched_at,
        expired,
        error_kind,
        error_message,
    ) = row
    return Snapshot(
        key=WatchKey(endpoint, project_id, job_id, service),
        job=job_from_stored(raw_json, service),
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
