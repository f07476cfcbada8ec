"""Values shared by the store, the poller and the views: what is watched and what came back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from jobdash.api.errors import ApiError
from jobdash.api.ids import short_id
from jobdash.api.model import Job
from jobdash.text.safe import one_line


@dataclass(frozen=True, slots=True, order=True)
class WatchKey:
    """One watched job. The same job id at another endpoint or project is another key."""

    endpoint: str
    project_id: str
    job_id: str
    #: The service whose job API answers for it (`jobdash.services`), ECS unless named.
    service: str = "ecs"

    @property
    def short_id(self) -> str:
        """Brief, without knowing the other ids; the dashboard uses `WatchState.short_id`."""
        return short_id(self.job_id)


@dataclass(frozen=True, slots=True)
class WatchEntry:
    key: WatchKey
    label: str | None = None
    #: The settings profile (cloud name from clouds.yaml) it was added with; never a secret.
    profile: str | None = None
    added_at: datetime | None = None
    #: How the connection it was added with authenticated ("token", "password", "aksk");
    #: None for entries from before connections were recorded (they use the current one).
    auth_method: str | None = None
    #: The region and project name of that connection, for display (either may be unknown).
    region: str | None = None
    project_name: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The last known state of a watched job, as the store keeps it."""

    key: WatchKey
    job: Job | None
    fetched_at: datetime | None
    #: The job had finished and the cloud has since purged it; `job` is the last record.
    expired: bool = False
    #: The last fetch failed with this error kind / message (the job, if any, is older).
    error_kind: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """A status seen for the first time, or seen to change, at `at` (when it was fetched)."""

    job_id: str
    #: None for the job itself; a sub-job's key (`jobdash.api.ids.keyed_sub_jobs`: its id,
    #: or `#N`, its position, when it has none).
    sub_job_id: str | None
    old_status: str | None
    new_status: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PollUpdate:
    """What one fetch of one entry produced: a job, or an error (and maybe an older job)."""

    key: WatchKey
    fetched_at: datetime
    job: Job | None = None
    error: ApiError | None = None
    #: True when the cloud no longer knows a job that had finished before.
    expired: bool = False
    #: The job differs from the previous answer in a way anyone shows: its status, times or
    #: error fields, or a sub-job's (or the set of sub-jobs). False for an unchanged answer
    #: and for the first answer of a job (`transitions` then holds its first statuses).
    changed: bool = False
    #: Previous status of the job when it changed (None for the first snapshot).
    previous_status: str | None = None
    #: Keys (`jobdash.api.ids.keyed_sub_jobs`) of the sub-jobs that changed (status, end
    #: time or error fields) or are new since the previous answer.
    changed_sub_jobs: tuple[str, ...] = ()
    #: Every status seen for the first time or changed by this answer, job first: the
    #: history (ETA, stall marks), the store and the headless change lines learn from these.
    transitions: tuple[Transition, ...] = ()
    #: The answer's bytes equal the previous answer's: the store notes when it was seen and
    #: writes nothing else.
    same_answer: bool = False
    #: The endpoint's clock when it answered (its `Date` header); None without one.
    server_time: datetime | None = None
    #: Read from the watchlist database, where the process that polls for everyone wrote
    #: it (`jobdash.poll.sharing`): shown, never written back.
    followed: bool = False

    @property
    def clock_offset(self) -> float | None:
        """Seconds the endpoint's clock is ahead of ours (`fetched_at` is our clock)."""
        if self.server_time is None:
            return None
        return (self.server_time - self.fetched_at).total_seconds()


@dataclass(frozen=True, slots=True)
class EndpointState:
    """How the poller is treating the requests to one endpoint as one account (a rate
    group) right now, for the header / progress line."""

    endpoint: str
    #: Seconds until requests to this endpoint resume after throttling (0 when not throttled).
    backoff_seconds: float = 0.0
    throttled: bool = False
    #: Last network-level failure message, when the endpoint looks unreachable.
    offline_reason: str | None = None
    requests_sent: int = 0
    in_flight: int = 0
    #: Requests sent per second lately, and the rate the adaptive control allows now.
    request_rate: float = 0.0
    allowed_rate: float = 0.0
    #: While the endpoint keeps throttling: when that began (UTC) and how many answers
    #: were throttled since; None and 0 once it has been quiet for a while.
    throttled_since: datetime | None = None
    throttle_count: int = 0
    extra: dict[str, float] = field(default_factory=dict)
    #: The connections (cloud names) sending as this account; empty when the poller does
    #: not tell accounts apart (then this is the whole endpoint).
    accounts: tuple[str, ...] = ()
    #: Its answers are slow: one has been awaited `jobdash.poll.schedule.SLOW_AFTER` seconds
    #: or more, or came that late a short while ago; `slow_seconds` says how long (0: not slow).
    slow: bool = False
    slow_seconds: float = 0.0

    @property
    def name(self) -> str:
        """`endpoint · cloud, cloud`: which requests this is, safe to show."""
        label = ", ".join(self.accounts)
        return one_line(f"{self.endpoint} · {label}" if label else self.endpoint, 160)

    @property
    def slow_note(self) -> str | None:
        """`slow: ecs.example.com (prod) answers take 40s`, or None when it is not slow."""
        if not self.slow:
            return None
        host = urlsplit(self.endpoint).netloc or self.endpoint
        label = ", ".join(self.accounts)
        who = f"{host} ({label})" if label else host
        return one_line(f"slow: {who} answers take {self.slow_seconds:.0f}s", 160)


#: Offsets smaller than this are within a `Date` header's resolution (whole seconds): none.
CLOCK_RESOLUTION = 1.0


class CloudClocks:
    """Each endpoint's clock, as an offset from ours estimated from its answers.

    Job times come from the cloud's clock; elapsed times are shown against it, so a local
    clock minutes off (or a simulator running fast) does not show running jobs at `0s`.
    An estimate moves only when it changed by a `Date` header's resolution or more, so
    times do not jitter by a second from one answer to the next.
    """

    def __init__(self) -> None:
        self._offsets: dict[str, float] = {}

    def saw(self, update: PollUpdate) -> None:
        offset = update.clock_offset
        if offset is None:
            return
        endpoint = update.key.endpoint
        if abs(offset - self._offsets.get(endpoint, 0.0)) >= CLOCK_RESOLUTION:
            self._offsets[endpoint] = offset if abs(offset) >= CLOCK_RESOLUTION else 0.0

    def offset(self, endpoint: str) -> float:
        return self._offsets.get(endpoint, 0.0)

    def now(self, endpoint: str, local_now: datetime) -> datetime:
        """The endpoint's time when ours is `local_now`."""
        offset = self._offsets.get(endpoint)
        return local_now + timedelta(seconds=offset) if offset else local_now


def cloud_now(update: PollUpdate | None, local_now: datetime) -> datetime:
    """The time at the endpoint of `update` when ours is `local_now` (headless output)."""
    clocks = CloudClocks()
    if update is not None:
        clocks.saw(update)
        return clocks.now(update.key.endpoint, local_now)
    return local_now


def merge_update(previous: Snapshot | None, update: PollUpdate) -> Snapshot:
    """The snapshot after `update`: a fetched job replaces the old one; an error or an
    expiry keeps the last job (the poller may repeat it in `update.job`) and says why."""
    old_job = previous.job if previous else None
    old_time = previous.fetched_at if previous else None
    if update.error is not None:
        return Snapshot(
            update.key,
            update.job or old_job,
            old_time,
            expired=previous.expired if previous else False,
            error_kind=str(update.error.kind),
            error_message=update.error.message,
        )
    if update.expired:
        return Snapshot(update.key, update.job or old_job, old_time, expired=True)
    if update.job is not None:
        return Snapshot(update.key, update.job, update.fetched_at)
    return previous or Snapshot(update.key, None, update.fetched_at)
