"""Parsed, immutable views of a job as `GET /v1/{project_id}/jobs/{job_id}` reports it.

Parsing is tolerant by design: the API (and other services sharing it) sends odd
shapes, so anything parseable becomes a `Job` and the raw dict is kept for display.
Only a body that is not a JSON object at all is refused, with `ResponseShapeError`.

An answer's bytes are decoded once (`decode_body`); the job keeps them as they arrived
(`Job.body`) so that an identical answer is recognised by comparing bytes and the store
keeps them without encoding anything again.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import msgspec

from jobdash.text.jsonsafe import clean_json, json_text
from jobdash.text.safe import without_surrogates


class JobStatus(StrEnum):
    """Statuses the API documents. Others are kept verbatim as plain strings."""

    INIT = "INIT"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"
    PENDING_PAYMENT = "PENDING_PAYMENT"
    #: A job undone by its service (ELB's rollback): ended, neither success nor failure.
    ROLLED_BACK = "ROLLED_BACK"


TERMINAL_STATUSES = frozenset({JobStatus.SUCCESS, JobStatus.FAIL, JobStatus.ROLLED_BACK})
#: Display order for per-status counts; unknown statuses sort after these.
STATUS_ORDER = (
    JobStatus.RUNNING,
    JobStatus.INIT,
    JobStatus.PENDING_PAYMENT,
    JobStatus.FAIL,
    JobStatus.ROLLED_BACK,
    JobStatus.SUCCESS,
)


class ResponseShapeError(ValueError):
    """The body cannot be read as a job at all (not JSON, not an object)."""


def is_terminal(status: str | None) -> bool:
    return status in TERMINAL_STATUSES


def parse_time(value: Any) -> datetime | None:
    """Parse the API's `2016-04-25T20:04:47.591Z`; `""`, null or junk give None."""
    if not isinstance(value, str):
        return None
    return _parse_time_text(value)


@functools.lru_cache(maxsize=4096)
def _parse_time_text(value: str) -> datetime | None:
    # Cached: the sub-jobs of a batch share their times, and every poll repeats them.
    if not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _text(value: Any) -> str | None:
    """Keep strings (lone surrogates replaced); render other values as text; null stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, bool | int | float):
        return str(value)
    return json_text(value, sort_keys=True)


#: Statuses as the API nearly always sends them, which need no cleaning.
_PLAIN_STATUSES = frozenset(JobStatus)


def read_status(value: Any) -> str:
    """A status as sent, cleaned: surrounding blanks gone, `UNKNOWN` for none at all."""
    if type(value) is str and value in _PLAIN_STATUSES:
        return value  # the common case, read 50,000 times for a large watchlist
    text = _text(value)
    if text is None or not text.strip():
        return "UNKNOWN"
    return text.strip()


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class _Timed:
    begin_time: datetime | None
    end_time: datetime | None

    def duration(self, now: datetime | None = None) -> float | None:
        """Seconds from begin to end, or to `now` while running; None without a begin."""
        if self.begin_time is None:
            return None
        end = self.end_time
        if end is None:
            end = now or datetime.now(UTC)
        return max(0.0, (end - self.begin_time).total_seconds())


class _Described:
    """What a job and a sub-job both tell about themselves, from their status and entities."""

    __slots__ = ()
    if TYPE_CHECKING:
        status: str
        entities: Mapping[str, Any]

    @property
    def is_terminal(self) -> bool:
        return is_terminal(self.status)

    @property
    def failed(self) -> bool:
        return self.status == JobStatus.FAIL

    @property
    def server_id(self) -> str | None:
        return _text(self.entities.get("server_id"))

    @property
    def nic_id(self) -> str | None:
        return _text(self.entities.get("nic_id"))


@dataclass(frozen=True, slots=True)
class SubJob(_Timed, _Described):
    job_id: str | None
    job_type: str | None
    status: str
    error_code: str | None
    fail_reason: str | None
    entities: Mapping[str, Any]
    raw: Mapping[str, Any] = field(repr=False)
    #: The word the service used for the status, when it is not jobdash's own (RDS's
    #: `Completed`, CCE's `Failed`); None for ECS-style services.
    service_status: str | None = None

    @property
    def errorcode_message(self) -> str | None:
        return _text(self.entities.get("errorcode_message"))

    @property
    def resource_kind(self) -> str:
        """What `resource_id` names, for people: `server`, `nic`, `volume`, `image`, ...
        (the entity field's name without `_id`; `resource` when the field says nothing)."""
        for key in ("server_id", "nic_id", "volume_id", "image_id"):
            if _text(self.entities.get(key)):
                return key.removesuffix("_id")
        for key, value in self.entities.items():
            if key.endswith("_id") and isinstance(value, str) and value:
                kind = key.removesuffix("_id")
                return "resource" if kind in ("resource", "") else kind
        return "resource"

    @property
    def resource_id(self) -> str | None:
        """The id of the thing this sub-job works on, whichever kind it is."""
        for key in ("server_id", "nic_id", "volume_id", "image_id"):
            value = _text(self.entities.get(key))
            if value:
                return value
        for key, value in self.entities.items():
            if key.endswith("_id") and isinstance(value, str) and value:
                return without_surrogates(value)
        return None


@dataclass(frozen=True, slots=True)
class Job(_Timed, _Described):
    """A job; its sub-jobs are parsed from their bodies the first time `sub_jobs` is read.

    A watchlist of 100 batches of 500 servers holds 50,000 sub-jobs, most of which nobody
    looks at: the tree shows a job's counts (`sub_job_tally`, counted from the bodies'
    statuses) until the job is opened. Equality compares the bodies (`raw`), from which
    every other field follows.
    """

    job_id: str | None
    job_type: str | None
    status: str
    error_code: str | None
    fail_reason: str | None
    message: str | None
    code: str | None
    entities: Mapping[str, Any]
    sub_jobs_total: int | None
    raw: Mapping[str, Any] = field(repr=False)
    #: Sub-jobs per status, counted from the bodies once: labels ask for it on every redraw.
    sub_job_tally: Mapping[str, int] = field(repr=False, compare=False)
    #: The listed sub-jobs' bodies (objects only), which `sub_jobs` parses when first read.
    _sub_job_bodies: tuple[Mapping[str, Any], ...] = field(repr=False, compare=False)
    #: The word the service used for the status when it is not jobdash's own.
    service_status: str | None = field(default=None, compare=False)
    #: Percent done, when the service reports it (RDS, DDS, CBR, IMS).
    progress: float | None = field(default=None, compare=False)
    #: What the job acts on, when the service names it at the top (an instance, a
    #: cluster, a load balancer): its id, name and kind.
    resource_id: str | None = field(default=None, compare=False)
    resource_name: str | None = field(default=None, compare=False)
    resource_type: str | None = field(default=None, compare=False)
    #: The answer's bytes as they arrived (None for a job built from a decoded value).
    body: bytes | None = field(default=None, repr=False, compare=False)
    _parsed_sub_jobs: tuple[SubJob, ...] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _sub_job_marks: dict[str, SubJobMark] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _sub_job_keys: list[str] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def sub_jobs(self) -> tuple[SubJob, ...]:
        """The sub-jobs in API order, parsed on first use (the same on every later call)."""
        parsed = self._parsed_sub_jobs
        if parsed is None:
            parsed = tuple(map(parse_sub_job, self._sub_job_bodies))
            # Frozen from the outside; this cache is set once, to the same value by any
            # thread that gets here first.
            object.__setattr__(self, "_parsed_sub_jobs", parsed)
        return parsed

    @property
    def sub_job_marks(self) -> dict[str, SubJobMark]:
        """Each listed sub-job's key (as `sub_job_keys` gives it) and what a change of it
        means to anyone (status, end time, error fields), read from the bodies without
        parsing the sub-jobs; computed once."""
        marks = self._sub_job_marks
        if marks is None:
            marks = dict(
                zip(self.sub_job_keys, map(sub_job_mark, self._sub_job_bodies), strict=True)
            )
            object.__setattr__(self, "_sub_job_marks", marks)
        return marks

    @property
    def sub_job_keys(self) -> list[str]:
        """The listed sub-jobs' keys, in order (`sub_job_keys`); computed once."""
        keys = self._sub_job_keys
        if keys is None:
            keys = sub_job_keys(self._sub_job_bodies)
            object.__setattr__(self, "_sub_job_keys", keys)
        return keys

    def share_sub_job_keys(self, other: Job) -> bool:
        """Take `other`'s sub-job keys when both list the same sub-job ids in the same
        order (keys follow from the ids alone); True when they do."""
        if other.sub_job_count != self.sub_job_count:
            return False
        if list(map(_job_id_of, self._sub_job_bodies)) != list(
            map(_job_id_of, other._sub_job_bodies)
        ):
            return False
        if self._sub_job_keys is None:
            object.__setattr__(self, "_sub_job_keys", other.sub_job_keys)
        return True

    def sub_job_keys_with(self, entity: str, values: set[str]) -> set[str]:
        """Keys of the sub-jobs whose `entities[entity]` is one of `values` (e.g. the rows
        that show a server), read from the bodies without parsing the sub-jobs."""
        found = set()
        for key, body in zip(self.sub_job_keys, self._sub_job_bodies, strict=True):
            entities = body.get("entities")
            if isinstance(entities, Mapping) and _text(entities.get(entity)) in values:
                found.add(key)
        return found

    @property
    def sub_job_bodies(self) -> tuple[Mapping[str, Any], ...]:
        """The listed sub-jobs' bodies, as decoded (objects only); do not change them."""
        return self._sub_job_bodies

    @property
    def mark(self) -> tuple[Any, ...]:
        """What a change of the job itself means to anyone (its status, times, error
        fields, the announced total); sub-jobs are compared through `sub_job_marks`."""
        return (
            self.status,
            self.begin_time,
            self.end_time,
            self.error_code,
            self.fail_reason,
            self.message,
            self.code,
            self.sub_jobs_total,
        )

    @property
    def sub_job_count(self) -> int:
        """How many sub-jobs are listed (`len(sub_jobs)`, without parsing them)."""
        return len(self._sub_job_bodies)

    @property
    def latest_sub_job_end(self) -> datetime | None:
        """When the last of the listed sub-jobs ended; None while none has.

        Read from the bodies unless the sub-jobs are parsed already: the tree asks this of
        every running job (stall marks), and parsing all of them is what it must not do.
        """
        parsed = self._parsed_sub_jobs
        if parsed is not None:
            ends = [sub.end_time for sub in parsed if sub.end_time is not None]
        else:
            ends = [
                end
                for body in self._sub_job_bodies
                if (end := parse_time(body.get("end_time"))) is not None
            ]
        return max(ends, default=None)

    @property
    def total_sub_jobs(self) -> int:
        """The announced total, or the number listed when none was announced."""
        if self.sub_jobs_total is not None:
            return max(self.sub_jobs_total, self.sub_job_count)
        return self.sub_job_count

    @property
    def finished_sub_jobs(self) -> int:
        return sum(n for status, n in self.sub_job_tally.items() if is_terminal(status))

    def status_counts(self) -> Counter[str]:
        """Sub-job counts per status (unknown statuses included as they came)."""
        return Counter(self.sub_job_tally)

    @property
    def has_failed_sub_jobs(self) -> bool:
        return self.sub_job_tally.get(JobStatus.FAIL, 0) > 0

    @property
    def failed_sub_jobs(self) -> tuple[SubJob, ...]:
        """The failed sub-jobs in API order; only their bodies are parsed (the server join
        asks this of every job with failures on every update)."""
        if not self.has_failed_sub_jobs:
            return ()  # known from the tally, without parsing the sub-jobs
        if self._parsed_sub_jobs is not None:
            return tuple(sub for sub in self._parsed_sub_jobs if sub.failed)
        return tuple(
            parse_sub_job(body)
            for body in self._sub_job_bodies
            if read_status(body.get("status")) == JobStatus.FAIL
        )

    def failure_summary(self) -> list[tuple[str, int, str]]:
        """Failed sub-jobs grouped by error code: (code, count, first reason), most first.

        A failed parent with no sub-jobs contributes its own error code.
        """
        groups: dict[str, list[str]] = {}
        failed: list[SubJob | Job] = list(self.failed_sub_jobs)
        if not failed and self.failed:
            failed = [self]
        for item in failed:
            code = item.error_code or "(no code)"
            reason = item.fail_reason or ""
            if isinstance(item, SubJob) and not reason:
                reason = item.errorcode_message or ""
            groups.setdefault(code, []).append(reason)
        summary = [
            (code, len(reasons), next((r for r in reasons if r), ""))
            for code, reasons in groups.items()
        ]
        summary.sort(key=lambda row: (-row[1], row[0]))
        return summary


#: (status, end time, error code, fail reason, error message) of one sub-job body, as sent.
SubJobMark = tuple[Any, Any, Any, Any, Any]


def _job_id_of(body: Mapping[str, Any]) -> Any:
    return body.get("job_id")


def sub_job_mark(body: Mapping[str, Any]) -> SubJobMark:
    entities = body.get("entities")
    message = entities.get("errorcode_message") if type(entities) is dict else None
    return (
        body.get("status"),
        body.get("end_time"),
        body.get("error_code"),
        body.get("fail_reason"),
        message,
    )


def sub_job_keys(bodies: tuple[Mapping[str, Any], ...]) -> list[str]:
    """A key per sub-job body, stable across fetches and unique within the job: the
    sub-job's id; `#3` (its 1-based position) for one without an id; a repeated id gets
    its position appended, so two rows never share a key."""
    seen: set[str] = set()
    keys: list[str] = []
    for position, body in enumerate(bodies, start=1):
        raw_id = body.get("job_id")
        key = (
            without_surrogates(raw_id) if type(raw_id) is str else _text(raw_id)
        ) or f"#{position}"
        if key in seen:
            key = f"{key}#{position}"
        seen.add(key)
        keys.append(key)
    return keys


def _entities(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _progress(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value <= 100 else None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _shared_fields(data: Mapping[str, Any], entities: dict[str, Any]) -> dict[str, Any]:
    """The fields a job and a sub-job both have, read the same way."""
    return {
        "job_id": _text(data.get("job_id")),
        "job_type": _text(data.get("job_type")),
        "status": read_status(data.get("status")),
        "begin_time": parse_time(data.get("begin_time")),
        "end_time": parse_time(data.get("end_time")),
        "error_code": _text(data.get("error_code")),
        "fail_reason": _text(data.get("fail_reason")),
        "entities": MappingProxyType(entities),  # `_entities` made it a copy already
        "raw": _frozen(data),
        "service_status": _text(data.get("service_status")),
    }


def parse_sub_job(data: Mapping[str, Any]) -> SubJob:
    return SubJob(**_shared_fields(data, _entities(data.get("entities"))))


def _is_object(item: Any) -> bool:
    return type(item) is dict or isinstance(item, Mapping)


def parse_job(data: Any, body: bytes | None = None) -> Job:
    """Build a `Job` from a decoded JSON body. Raises `ResponseShapeError` if not an object.

    The body's nested values are kept, not copied (the sub-jobs are parsed from them when
    first needed): pass a freshly decoded body and do not change it afterwards. `body` is
    the bytes it was decoded from, when there are any.
    """
    if not isinstance(data, Mapping):
        kind = type(data).__name__ if data is not None else "null"
        raise ResponseShapeError(f"expected a JSON object describing a job, got {kind}")
    entities = _entities(data.get("entities"))
    raw_subs = entities.get("sub_jobs")
    bodies = tuple(filter(_is_object, raw_subs)) if isinstance(raw_subs, list) else ()
    tally = Counter(read_status(body.get("status")) for body in bodies)
    return Job(
        **_shared_fields(data, entities),
        message=_text(data.get("message")),
        code=_text(data.get("code")),
        sub_jobs_total=_int_or_none(entities.get("sub_jobs_total")),
        progress=_progress(data.get("progress")),
        resource_id=_text(data.get("resource_id")),
        resource_name=_text(data.get("resource_name")),
        resource_type=_text(data.get("resource_type")),
        sub_job_tally=MappingProxyType(dict(tally)),
        _sub_job_bodies=bodies,
        body=body,
    )


def decode_body(body: bytes) -> Any:
    """The JSON value of an answer's bytes. Raises ValueError (or RecursionError for
    absurd nesting) when they are not JSON.

    msgspec decodes several times faster than the json module; it refuses a lone
    surrogate escape (`"\\ud83d"`), which is valid JSON that some backends send, so such
    a body is decoded again by the json module.
    """
    try:
        return _decode(body)
    except msgspec.DecodeError:
        return json.loads(body)


_decode = msgspec.json.Decoder().decode


def parse_job_text(text: str | bytes) -> Job:
    """Decode and parse a body; anything unreadable raises `ResponseShapeError`."""
    body = text if isinstance(text, bytes) else None
    try:
        data = decode_body(body) if body is not None else json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ResponseShapeError(f"response is not valid JSON ({exc.__class__.__name__})") from exc
    return parse_job(data, body)


def as_sent(job: Job) -> Any:
    """The answer as the service sent it (decoded from `Job.body`): other services' bodies
    are kept in their own shape, not the model's. `raw` when there are no bytes."""
    if job.body is not None:
        try:
            return decode_body(job.body)
        except (ValueError, RecursionError):
            pass
    return job.raw


def raw_dict(job: Job) -> dict[str, Any]:
    """A plain, JSON-serialisable copy of the body the job was parsed from.

    Depth is bounded and text UTF-8 encodable (see `jobdash.text.jsonsafe.clean_json`).
    """
    body = clean_json(job.raw)
    return body if isinstance(body, dict) else {}


#: One glyph per status so colour is never the only signal.
STATUS_ICONS: Mapping[str, str] = MappingProxyType(
    {
        JobStatus.SUCCESS: "✓",
        JobStatus.FAIL: "✗",
        JobStatus.RUNNING: "●",
        JobStatus.INIT: "○",
        JobStatus.PENDING_PAYMENT: "$",
        JobStatus.ROLLED_BACK: "↺",
    }
)


def status_icon(status: str | None) -> str:
    """The glyph for a status; `?` for anything the API did not document."""
    return STATUS_ICONS.get(status or "", "?")
