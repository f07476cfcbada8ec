"""The poller's decisions, without any I/O: what an answer means for the next fetch.

`due_entries` picks what to fetch now. `SchedulePolicy` folds one answer (a job
or an `ApiError`) into the state of a watched entry and of its endpoint, sets the
entry's next-due time and builds the `PollUpdate` to report. Time is passed in,
so tests drive it with numbers.

Scheduling in short: each entry has its own next-due time. Active jobs come
back every `interval` seconds; once a job has been running for a while each
unchanged poll stretches that by half, up to `max_interval`, and any change
snaps it back. Finished jobs are not fetched again unless a refresh asks for
it. Throttling slows the endpoint for that account; other failures back off per entry.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from jobdash.api.client import JobsClient
from jobdash.api.errors import (
    ERROR_CLASSES,
    ApiError,
    ErrorKind,
    ForbiddenError,
    InvalidIdError,
    NetworkError,
    NotFoundError,
    ThrottledError,
    UnauthorizedError,
)
from jobdash.api.model import Job, JobStatus
from jobdash.poll.changes import compare
from jobdash.poll.ratelimit import AdaptiveRate, backoff_delay
from jobdash.watch.values import EndpointState, PollUpdate, Snapshot, WatchKey

#: Statuses polled at the base interval; other non-terminal ones (PENDING_PAYMENT waits
#: for a human, unknown ones may never move) are polled at the slow end.
ACTIVE_STATUSES = frozenset({JobStatus.INIT, JobStatus.RUNNING})
#: A job running this long (seconds) gets its interval stretched on unchanged polls.
STRETCH_AFTER = 60.0
STRETCH_FACTOR = 1.5
#: Per-entry backoff after network / server / unreadable answers.
ENTRY_BACKOFF_CAP = 60.0
#: After 401/403 asking again soon only repeats the answer.
AUTH_RETRY = 300.0
#: A rate group whose answer has been awaited this long (seconds) is slow: a job GET
#: normally answers in well under a second. Shown to the user, not a limit.
SLOW_AFTER = 10.0
#: ... and stays shown as slow this long after such an answer came, so that a group whose
#: every answer trickles in does not flicker between slow and live between its requests.
SLOW_HOLD = 60.0


class EntryState(Enum):
    ACTIVE = "active"
    TERMINAL = "terminal"
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass(slots=True, eq=False)
class Entry:
    """One watched job as the poller tracks it."""

    key: WatchKey
    interval: float
    state: EntryState = EntryState.ACTIVE
    #: Clock time of the next poll; None when not scheduled.
    due: float | None = None
    #: Non-zero while a manual refresh is pending; lower numbers were asked for first.
    priority: int = 0
    #: A refresh arrived while a fetch was already under way: fetch again after it.
    refresh_again: bool = False
    in_flight: bool = False
    failures: int = 0
    job: Job | None = None
    latest: PollUpdate | None = None
    #: Clock time the poller first saw this job still going.
    active_since: float | None = None


@dataclass(slots=True, eq=False)
class Endpoint:
    """One rate group (a service endpoint, as one account): its adaptive request rate
    (shared by every job watched there with that account), state and counters."""

    name: str
    rate: AdaptiveRate
    errors_total: int = 0
    offline_reason: str | None = None
    requests_sent: int = 0
    #: Requests under way, those sent past the caps for manual refreshes (`reserved`) included.
    in_flight: int = 0
    reserved: int = 0
    #: When each request under way was sent (clock times), to tell a slow group.
    sent_times: list[float] = field(default_factory=list)
    #: When the last answer that took `slow_after` or longer came, and how long it took.
    slow_answer_at: float = float("-inf")
    slow_answer_took: float = 0.0
    clients: dict[WatchKey, JobsClient] = field(default_factory=dict)

    @property
    def throttled_until(self) -> float:
        return self.rate.paused_until

    @property
    def shared_in_flight(self) -> int:
        """Requests under way in the shared slots (`reserved` ones are past the caps)."""
        return self.in_flight - self.reserved

    def gate_delay(self, now: float) -> float:
        """Seconds until this endpoint may take one more request."""
        return self.rate.delay(now)

    def sent(self, now: float, *, reserved: bool = False) -> None:
        """Count a request as sent at `now` and under way."""
        self.in_flight += 1
        self.reserved += reserved
        self.requests_sent += 1
        self.sent_times.append(now)

    def answered(
        self, sent_at: float, now: float, slow_after: float, *, reserved: bool = False
    ) -> None:
        """A request sent at `sent_at` is no longer under way (answered, failed or cancelled)."""
        self.in_flight -= 1
        self.reserved -= reserved
        if sent_at in self.sent_times:
            self.sent_times.remove(sent_at)
        took = now - sent_at
        if took >= slow_after:
            self.slow_answer_at, self.slow_answer_took = now, took
        elif now - self.slow_answer_at > SLOW_HOLD:
            self.slow_answer_took = 0.0

    def slow_seconds(self, now: float, slow_after: float) -> float:
        """How long the slowest request under way has waited, or a recent answer took, when
        that is `slow_after` or more; else 0 (not slow)."""
        waited = now - min(self.sent_times) if self.sent_times else 0.0
        if now - self.slow_answer_at <= SLOW_HOLD:
            waited = max(waited, self.slow_answer_took)
        return waited if waited >= slow_after else 0.0

    def state(
        self, now: float, wall_now: datetime, watched: int, slow_after: float = SLOW_AFTER
    ) -> EndpointState:
        view = self.rate.view(now)
        slow = self.slow_seconds(now, slow_after)
        since = None
        if view.throttled_since is not None:
            since = wall_now - timedelta(seconds=now - view.throttled_since)
        return EndpointState(
            endpoint=self.name,
            backoff_seconds=view.pause_left,
            throttled=view.pause_left > 0,
            offline_reason=self.offline_reason,
            requests_sent=self.requests_sent,
            in_flight=self.in_flight,
            request_rate=view.sent_rate,
            allowed_rate=view.allowed_rate,
            throttled_since=since,
            throttle_count=view.throttled_count,
            slow=slow > 0,
            slow_seconds=slow,
            extra={
                "watched": float(watched),
                "throttled_total": float(self.rate.throttled_total),
                "errors_total": float(self.errors_total),
            },
        )


def due_entries(
    entries: Iterable[Entry], now: float, *, paused: bool
) -> tuple[list[Entry], float | None]:
    """The entries to fetch now, manual refreshes first (in the order asked), then the most
    overdue; and the seconds until the next scheduled one falls due (None: nothing is).

    While paused only manual refreshes are due.
    """
    due: list[Entry] = []
    next_wake: float | None = None
    for entry in entries:
        if entry.in_flight or entry.due is None:
            continue
        if entry.priority or (not paused and entry.due <= now):
            due.append(entry)
        elif not paused:
            wait = entry.due - now
            next_wake = wait if next_wake is None else min(next_wake, wait)
    due.sort(key=lambda e: (e.priority == 0, e.priority, e.due))
    return due, next_wake


def fair_share(max_in_flight: int, busy_groups: int) -> int:
    """The in-flight slots one rate group may hold while `busy_groups` groups have work:
    an equal part of `max_in_flight`, at least one, so a slow endpoint whose answers
    trickle in cannot hold every slot while another endpoint's jobs wait."""
    return max(1, max_in_flight // max(1, busy_groups))


def error_from_snapshot(snapshot: Snapshot) -> ApiError | None:
    if not snapshot.error_kind:
        return None
    try:
        cls = ERROR_CLASSES[ErrorKind(snapshot.error_kind)]
    except ValueError:
        cls = ApiError
    return cls(snapshot.error_message or snapshot.error_kind)


@dataclass(slots=True)
class SchedulePolicy:
    interval: float
    max_interval: float
    stretch_after: float
    rng: random.Random

    def seed(self, entry: Entry, snapshot: Snapshot, fallback_time: datetime) -> None:
        """Start from what the store knew, so old transitions are not announced again."""
        entry.job = snapshot.job
        entry.latest = PollUpdate(
            key=entry.key,
            fetched_at=snapshot.fetched_at or fallback_time,
            job=snapshot.job,
            error=error_from_snapshot(snapshot),
            expired=snapshot.expired,
        )
        if snapshot.expired:
            entry.state, entry.due = EntryState.EXPIRED, None
        elif snapshot.job is not None and snapshot.job.is_terminal:
            entry.state, entry.due = EntryState.TERMINAL, None

    def after_job(
        self, entry: Entry, ep: Endpoint, job: Job, now: float, fetched_at: datetime
    ) -> PollUpdate:
        previous = entry.job
        # The one place a change is detected: the store, the views, toasts and transition
        # lines read what this found.
        changes = compare(previous, job, fetched_at)
        changed = changes.changed
        entry.job = job
        entry.failures = 0
        ep.offline_reason = None
        ep.rate.on_success(now)
        if job.is_terminal:
            entry.state, entry.due = EntryState.TERMINAL, None
        else:
            entry.state = EntryState.ACTIVE
            if entry.active_since is None:
                entry.active_since = now
            entry.interval = self.next_interval(entry, job, changed, fetched_at, now)
            entry.due = now + entry.interval
        return PollUpdate(
            key=entry.key,
            fetched_at=fetched_at,
            job=job,
            changed=changed,
            previous_status=changes.previous_status,
            changed_sub_jobs=changes.sub_jobs,
            transitions=changes.transitions,
            same_answer=job is previous,
        )

    def next_interval(
        self, entry: Entry, job: Job, changed: bool, fetched_at: datetime, now: float
    ) -> float:
        """Base interval; stretched by half per unchanged poll once the job runs long."""
        if job.status not in ACTIVE_STATUSES:
            return self.max_interval
        if changed:
            return self.interval
        running_for = now - (entry.active_since if entry.active_since is not None else now)
        if job.begin_time is not None:
            running_for = max(running_for, (fetched_at - job.begin_time).total_seconds())
        if running_for < self.stretch_after:
            return self.interval
        return min(self.max_interval, max(entry.interval, self.interval) * STRETCH_FACTOR)

    def after_error(
        self,
        entry: Entry,
        ep: Endpoint,
        error: ApiError,
        now: float,
        sent_at: float,
        fetched_at: datetime,
    ) -> PollUpdate:
        ep.errors_total += 1
        if not isinstance(error, NetworkError):
            ep.offline_reason = None  # the endpoint answered
        last_job = entry.job
        if isinstance(error, ThrottledError):
            ep.rate.on_throttle(now, sent_at, error.retry_after)
            entry.due = max(ep.throttled_until, now)
        elif isinstance(error, InvalidIdError):
            entry.state, entry.due = EntryState.INVALID, None
        elif isinstance(error, NotFoundError):
            if entry.state is EntryState.EXPIRED or (last_job is not None and last_job.is_terminal):
                # The cloud purged a finished job: the last snapshot is now the record.
                entry.state, entry.due = EntryState.EXPIRED, None
                return PollUpdate(key=entry.key, fetched_at=fetched_at, job=last_job, expired=True)
            entry.failures += 1
            entry.due = now + self.max_interval
        elif isinstance(error, UnauthorizedError | ForbiddenError):
            entry.failures += 1
            entry.due = now + AUTH_RETRY + self.rng.uniform(0.0, AUTH_RETRY / 10)
        else:
            if isinstance(error, NetworkError):
                ep.offline_reason = error.message
            entry.failures += 1
            delay = backoff_delay(entry.failures, self.interval, ENTRY_BACKOFF_CAP, self.rng)
            entry.due = now + delay
        finished = entry.state in (EntryState.TERMINAL, EntryState.EXPIRED)
        if finished and not isinstance(error, ThrottledError):
            # A refresh of a finished job failed: report it, but do not keep polling it.
            entry.due = None
        return PollUpdate(key=entry.key, fetched_at=fetched_at, job=last_job, error=error)
