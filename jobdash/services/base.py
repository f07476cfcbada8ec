"""What a cloud service's job API is to jobdash: where a job is asked for, how its answer
reads, and how a create call's answer names its jobs.

Every service answers in a shape of its own (ECS's flat job, RDS's `{"job": ...}`, CCE's
Kubernetes-style object, CBR's operation log, ...). An adapter turns a decoded answer into
the one shape jobdash's model reads, ECS's: `job_id`, `job_type`, `status`, `begin_time`,
`end_time`, `error_code`, `fail_reason`, `entities` with `sub_jobs` (each the same shape,
nested sub-jobs flattened into the list), plus these keys of jobdash's own:

- `status`: the state in jobdash's vocabulary (`JOBDASH_STATUSES`);
- `service_status`: the word the service used, shown beside it;
- `progress`: percent done (0-100) when the service reports one;
- `resource_id`, `resource_name`, `resource_type`: what the job acts on;

Times become ISO-8601 text in UTC (`2025-05-20T07:15:02.000Z`). The answer's bytes are kept
as they came (`Job.body`): the raw view and the store never see the adapted shape.
Adapters never raise on an odd but parseable answer: a field that is missing or of the
wrong type is left out.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jobdash.api.model import JobStatus

#: jobdash's states (the model's `JobStatus`), named for what they mean to an adapter:
#: waiting, running, succeeded, failed, needs action (a human must act, e.g. pay an order),
#: rolled back. Anything else is shown as the service sent it.
WAITING = JobStatus.INIT
RUNNING = JobStatus.RUNNING
SUCCEEDED = JobStatus.SUCCESS
FAILED = JobStatus.FAIL
NEEDS_ACTION = JobStatus.PENDING_PAYMENT
ROLLED_BACK = JobStatus.ROLLED_BACK
JOBDASH_STATUSES = tuple(JobStatus)

#: A decoded answer -> the ECS-shaped job jobdash reads (see the module doc).
Adapt = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class ListApi:
    """A service's list of recent jobs, for discovery."""

    #: (project id) -> path and query of the first page.
    path: Callable[[str, datetime], str]
    #: A decoded page -> the job ids in it with when each began (None when unknown).
    read: Callable[[Any], list[tuple[str, datetime | None]]]


@dataclass(frozen=True, slots=True)
class JobService:
    """One service's job API."""

    #: The name entries are stored with and `--service` takes (`ecs`, `evs`, `sfs-turbo`).
    name: str
    #: How it is written for people (`ECS`, `SFS Turbo`).
    title: str
    #: The first label of its host name: `https://{host}.{region}.otc.t-systems.com`.
    host: str
    #: (project id, job id) -> the path (and query) of the job's URL.
    job_path: Callable[[str, str], str]
    #: The answer -> ECS's shape; None when the answer has that shape already (ECS itself).
    adapt: Adapt | None = None
    #: A create (or operate) call's answer -> the job ids it started; [] when it names none.
    job_ids_in: Callable[[Any], list[str]] | None = None
    #: The list of recent jobs, when the service has one.
    listing: ListApi | None = None

    def read(self, data: Any) -> Any:
        """The answer in the shape the model reads."""
        return data if self.adapt is None else self.adapt(data)


def endpoint_for(ecs_endpoint: str, service: JobService) -> str:
    """A service's endpoint in the region of an ECS endpoint: `https://ecs.eu-de...` gives
    `https://evs.eu-de...`. An endpoint that is not ECS's by name (a simulator, a proxy on
    loopback, a private gateway) serves every service as it is."""
    scheme, sep, rest = ecs_endpoint.partition("://")
    if not sep:
        return ecs_endpoint
    host, slash, path = rest.partition("/")
    first, dot, others = host.partition(".")
    if first.lower() != "ecs" or not dot:
        return ecs_endpoint
    return f"{scheme}://{service.host}.{others}{slash}{path}"


# -- helpers adapters share -----------------------------------------------------------------


def field(data: Any, *path: str) -> Any:
    """`data[path[0]][path[1]]...`, or None where an object or key is missing."""
    for name in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(name)
    return data


def text(value: Any) -> str | None:
    """A string field as text; numbers as their digits; anything else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_loose_time(value: Any) -> datetime | None:
    """Times as services write them: ISO-8601 with `Z`, `+00:00` or `+0000`; `2016-01-02
    15:04:05` (UTC); Go's `2020-02-02 08:12:40.672772389 +0000 UTC`; epoch milliseconds,
    as a number or a string of digits. Anything else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _from_epoch_ms(float(value))
    if not isinstance(value, str):
        return None
    raw = value.strip()
    if not raw:
        return None
    if raw.isdigit():
        return _from_epoch_ms(float(raw))
    if raw.endswith(" UTC"):
        raw = raw[: -len(" UTC")].strip()
    raw = raw.replace(" ", "T", 1) if "T" not in raw else raw
    date_part, _, rest = raw.partition("T")
    zone = ""
    for mark in ("Z", "z", "+", "-"):
        at = rest.rfind(mark)
        if at > 0 or (mark in "Zz" and at == len(rest) - 1 and at >= 0):
            zone, rest = rest[at:], rest[:at]
            break
    rest = rest.strip()
    if "." in rest:
        whole, _, fraction = rest.partition(".")
        rest = f"{whole}.{(fraction + '000000')[:6]}"
    zone = zone.strip()
    if zone in ("Z", "z"):
        zone = "+00:00"
    elif zone and ":" not in zone and len(zone) == 5:
        zone = f"{zone[:3]}:{zone[3:]}"
    try:
        moment = datetime.fromisoformat(f"{date_part}T{rest}{zone}")
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _from_epoch_ms(milliseconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def time_text(value: Any) -> str | None:
    """A service's time as ISO-8601 text in UTC; None for none or junk."""
    if isinstance(value, str):
        return _time_text_of(value)
    return iso(parse_loose_time(value))


@functools.lru_cache(maxsize=4096)
def _time_text_of(value: str) -> str | None:
    # Cached: a batch's sub-jobs share their times, and every poll repeats them.
    return iso(parse_loose_time(value))


def nonempty(value: Any) -> str | None:
    """A field as text, None when it is missing, empty or not text."""
    return text(value) or None


#: The statuses of ECS and of the services that share its job API (EVS, VBS, DCS, ...).
ECS_STATUSES: Mapping[str, str] = {
    "init": WAITING,
    "running": RUNNING,
    "success": SUCCEEDED,
    "fail": FAILED,
}


def ecs_style(job: Mapping[str, Any], statuses: Mapping[str, str]) -> dict[str, Any]:
    """A copy of a job in (nearly) ECS's shape with its status read through `statuses` (the
    service's word kept as `service_status`) and its times as ISO-8601 text in UTC; the
    caller adds what its service puts elsewhere."""
    adapted = dict(job)
    adapted["status"], adapted["service_status"] = status_from(job.get("status"), statuses)
    adapted["begin_time"] = time_text(job.get("begin_time"))
    adapted["end_time"] = time_text(job.get("end_time"))
    return adapted


def job_named(
    job: Mapping[str, Any],
    statuses: Mapping[str, str],
    *,
    job_id: Any,
    job_type: Any,
    status: Any,
) -> dict[str, Any]:
    """A copy of a job whose id, type and status word the service keeps under names of its
    own (given here as values), with them under ECS's names and the word read through
    `statuses` (kept as `service_status`); the caller adds the rest."""
    adapted = dict(job)
    adapted["job_id"] = nonempty(job_id)
    adapted["job_type"] = nonempty(job_type)
    adapted["status"], adapted["service_status"] = status_from(status, statuses)
    return adapted


#: The states after which a service's end time means what it says.
_ENDED = frozenset({SUCCEEDED, FAILED})


def end_time_text(status: str, *values: Any) -> str | None:
    """The first of `values` that reads as a time, as ISO-8601 text, once `status` says the
    job has ended; None before (a running job's answer may already carry an end time, which
    means nothing yet)."""
    if status not in _ENDED:
        return None
    return next((moment for value in values if (moment := time_text(value))), None)


def job_id_only(answer: Any) -> list[str]:
    """The job a `{"job_id": ...}` answer names (RDS, DDS, DCS and ELB calls answer so);
    [] for anything else, a Kubernetes-style object (`kind`) among them."""
    if not isinstance(answer, Mapping) or "kind" in answer:
        return []
    found = nonempty(answer.get("job_id"))
    return [found] if found else []


def listed_jobs(
    page: Any, items: str, id_field: str, *time_fields: str
) -> list[tuple[str, datetime | None]]:
    """A list page's jobs: each item of `page[items]` with a non-empty `id_field`, and
    when it began (the first of `time_fields` that reads as a time)."""
    entries = field(page, items) if items else page
    if not isinstance(entries, list):
        return []
    found: list[tuple[str, datetime | None]] = []
    for entry in entries:
        job_id = nonempty(field(entry, id_field))
        if job_id:
            began = next(
                (t for name in time_fields if (t := parse_loose_time(field(entry, name)))),
                None,
            )
            found.append((job_id, began))
    return found


def percent(value: Any) -> float | None:
    """A percentage as services write it (`60`, `"60"`, `"60% "`) as a number in 0-100;
    None for none, junk or a value out of range."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        digits = value.strip().rstrip("%").strip()
        try:
            number = float(digits)
        except ValueError:
            return None
    else:
        return None
    if number != number or not 0 <= number <= 100:
        return None
    return number


def status_from(word: Any, table: Mapping[str, str]) -> tuple[str, str | None]:
    """(jobdash status, the service's word) for a service's status word, read without regard
    to case; a word the table lacks is kept as it came (shown, never a crash)."""
    said = text(word)
    if said is None or not said.strip():
        return "UNKNOWN", said
    return table.get(said.strip().lower(), said.strip()), said
