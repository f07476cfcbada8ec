"""The poller: decides which watched job to fetch when, and reports what came back.

Pure asyncio and no UI. Everything runs in the caller's event loop: the
`on_update` callback, the store writes and the bookkeeping all happen on that
loop, never on another thread. Both `jobdash status --watch` and the dashboard
drive it the same way. How often each job comes back is `jobdash.poll.schedule`'s call.
Fetches made on request rather than by the schedule (`refresh_all_once` for the headless
`status`, `fetch_server` for the server behind a failed sub-job) go under the same caps:
the in-flight count and the endpoint's request rate.

Request rate, throttling and offline state are kept per rate group: the requests to one
endpoint as one account (`rate_group`, by default the endpoint alone), since the cloud
limits each account on its own.

In-flight slots are shared fairly between rate groups, so one slow endpoint (answers that
trickle in for minutes) cannot hold them all while another endpoint's jobs wait:
- while N groups have work (a job scheduled or a request under way), each may hold at most
  `fair_share(max_in_flight, N)` of the `max_in_flight` slots;
- a group that held more before others had work keeps its requests, starts no more until it
  is back under its share, and a group with nothing under way is owed its first slot at
  once, even past `max_in_flight` (by at most one per rate group); so it is when more groups
  have work than there are slots and a request under way has waited `slow_after` seconds;
- a manual refresh (`refresh`) that finds no slot takes its group's reserved one
  (`REFRESH_RESERVE`, past the caps), so `r` always sends at once (the rate still holds).
A group whose answer has been awaited `slow_after` seconds is reported slow
(`EndpointState.slow`) so the views can say so rather than "live".
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

from jobdash.api.client import JobsClient
from jobdash.api.errors import ApiError, ThrottledError
from jobdash.api.model import Job
from jobdash.api.server import Server
from jobdash.poll.ratelimit import AdaptiveRate, RateGroup, Wakeup, endpoint_group
from jobdash.poll.schedule import (
    SLOW_AFTER,
    STRETCH_AFTER,
    Endpoint,
    Entry,
    EntryState,
    SchedulePolicy,
    due_entries,
    fair_share,
)
from jobdash.poll.store_writer import SnapshotStore, StoreWriter
from jobdash.watch.values import EndpointState, PollUpdate, Snapshot, WatchKey

log = logging.getLogger(__name__)

#: `refresh_all_once` retries an entry this often when the endpoint throttles it.
ONCE_ATTEMPTS = 3
#: Seconds between looks at a closed gate (`Poller.gate`).
GATE_RECHECK = 0.25
#: Manual refreshes each rate group may have under way past the in-flight caps.
REFRESH_RESERVE = 1


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Poller:
    """Polls watched jobs within caps on concurrency and request rate; see the module doc."""

    def __init__(
        self,
        client_for: Callable[[WatchKey], JobsClient],
        *,
        store: SnapshotStore | None = None,
        on_update: Callable[[PollUpdate], None] | None = None,
        interval: float = 3.0,
        max_interval: float = 30.0,
        max_in_flight: int = 8,
        max_rps: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utc_now,
        rng: random.Random | None = None,
        stretch_after: float = STRETCH_AFTER,
        rate_group: Callable[[WatchKey], RateGroup] = endpoint_group,
        slow_after: float = SLOW_AFTER,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be positive, got {interval!r}")
        # A base interval above the slow end (e.g. `--interval 60`) raises the slow end with it.
        max_interval = max(max_interval, interval)
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if not max_rps > 0:
            raise ValueError("max_rps must be positive")
        self._client_for = client_for
        self._rate_group = rate_group
        self._store = StoreWriter(store, clock) if store is not None else None
        self._on_update = on_update
        self.interval = float(interval)
        self.max_interval = float(max_interval)
        self.max_in_flight = max_in_flight
        self.max_rps = float(max_rps)
        self.stretch_after = stretch_after
        self.slow_after = float(slow_after)
        self._clock = clock
        self._now = now
        self._policy = SchedulePolicy(
            float(interval), float(max_interval), stretch_after, rng or random.Random()
        )
        self._entries: dict[WatchKey, Entry] = {}
        #: One per rate group (endpoint and account); each key's group, found once.
        self._endpoints: dict[RateGroup, Endpoint] = {}
        self._groups: dict[WatchKey, RateGroup] = {}
        #: Requests under way in the shared slots (manual refreshes past the caps not counted).
        self._in_flight = 0
        self._refresh_seq = 0
        #: Counts changes (`_notify`); the groups with work are found again after one.
        self._version = 0
        self._busy: tuple[int, frozenset[Endpoint]] = (-1, frozenset())
        #: Notified whenever something changed that may make work possible.
        self._wakeup = Wakeup()
        self._tasks: set[asyncio.Task[PollUpdate | None]] = set()
        self._watchlist_set = False
        self._running = False
        self._closed = False
        self.paused = False
        #: When set and False, nothing is fetched on schedule or refresh: another process
        #: polls this watchlist, or this one's lease to do so may have run out
        #: (`jobdash.poll.sharing`). Checked before every fetch, not on a timer, so a
        #: process woken from a freeze asks before it sends.
        self.gate: Callable[[], bool] | None = None

    # ----------------------------------------------------------- watchlist
    def set_watchlist(
        self, keys: Iterable[WatchKey], snapshots: Mapping[WatchKey, Snapshot] | None = None
    ) -> None:
        """Watch exactly `keys`: new ones are due now (unless already finished), others dropped."""
        wanted = list(dict.fromkeys(keys))
        keep = set(wanted)
        self.remove([key for key in self._entries if key not in keep])
        self.add(wanted, snapshots)

    def add(
        self, keys: Iterable[WatchKey], snapshots: Mapping[WatchKey, Snapshot] | None = None
    ) -> None:
        """Watch more keys; each new one is due now unless its snapshot says it has ended.

        Without `snapshots`, they come from the store (when there is one), so a job's
        earlier state is known and old transitions are not reported as changes.
        """
        self._watchlist_set = True
        new = [key for key in dict.fromkeys(keys) if key not in self._entries]
        if not new:
            return
        if snapshots is None and self._store is not None:
            snapshots = self._store.snapshots() or {}
        now = self._clock()
        for key in new:
            entry = Entry(key, interval=self.interval, due=now)
            snapshot = (snapshots or {}).get(key)
            if snapshot is not None:
                self._policy.seed(entry, snapshot, self._now())
            self._entries[key] = entry
            self._endpoint(key)
        self._notify()

    def take_over(self, snapshots: Mapping[WatchKey, Snapshot]) -> None:
        """Go on from where another process's polling left off: each entry starts from its
        latest snapshot and is next due one interval after that snapshot was fetched, so no
        job is fetched again right after the other process fetched it."""
        now, wall = self._clock(), self._now()
        for key, entry in self._entries.items():
            snapshot = snapshots.get(key)
            if snapshot is None or entry.in_flight:
                continue
            if snapshot.job is not None:
                # What this process knew may be older than the other's answers.
                entry.state, entry.due = EntryState.ACTIVE, now if entry.due is None else entry.due
            self._policy.seed(entry, snapshot, wall)
            if entry.due is not None and entry.priority == 0 and snapshot.fetched_at is not None:
                age = (wall - snapshot.fetched_at).total_seconds()
                entry.due = now + min(max(0.0, entry.interval - age), entry.interval)
        self._notify()

    def remove(self, keys: Iterable[WatchKey]) -> None:
        """Stop watching; an answer still under way for a removed key is dropped."""
        for key in list(keys):
            entry = self._entries.pop(key, None)
            if self._store is not None:
                self._store.forget(key)
            if entry is not None:
                self._endpoint(key).clients.pop(key, None)
            self._groups.pop(key, None)
        self._notify()

    @property
    def store_error(self) -> str | None:
        """The last failure reading or writing the store, for the caller to show; None if fine."""
        return self._store.error if self._store is not None else None

    # ------------------------------------------------------------- control
    def refresh(self, key: WatchKey | None = None) -> None:
        """Fetch one entry (or all) ahead of everything else, finished ones included."""
        targets = list(self._entries.values()) if key is None else [self._entries.get(key)]
        for entry in targets:
            if entry is None:
                continue
            if entry.in_flight:
                entry.refresh_again = True
            else:
                self._jump_queue(entry, self._clock())
        self._notify()

    def _jump_queue(self, entry: Entry, now: float) -> None:
        """Due now, ahead of scheduled polls; later requests go after earlier ones."""
        self._refresh_seq += 1
        entry.priority = self._refresh_seq
        entry.due = now

    def pause(self) -> None:
        """Stop scheduled polling; manual refreshes still go through."""
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self._notify()

    # --------------------------------------------------------------- views
    def endpoint_states(self) -> list[EndpointState]:
        """Per rate group (endpoint and account): throttling backoff left, offline reason,
        counters; named by endpoint and the labels of the connections in it, sorted so."""
        now, wall_now = self._clock(), self._now()
        watched: Counter[RateGroup] = Counter()
        labels: dict[RateGroup, set[str]] = {}
        for key in self._entries:
            group = self._group(key)
            watched[group] += 1
            if group.label:
                labels.setdefault(group, set()).add(group.label)
        states = [
            replace(
                ep.state(now, wall_now, watched[group], self.slow_after),
                accounts=tuple(sorted(labels.get(group, ()))),
            )
            for group, ep in self._endpoints.items()
        ]
        return sorted(states, key=lambda state: (state.endpoint, state.accounts))

    def next_due_in(self, key: WatchKey) -> float | None:
        """Seconds until `key` is fetched next (0 while under way); None if not scheduled."""
        entry = self._entries.get(key)
        if entry is None or entry.due is None:
            return None
        if entry.in_flight:
            return 0.0
        ep = self._endpoint(key)
        now = self._clock()
        return max(entry.due - now, ep.throttled_until - now, 0.0)

    def latest(self, key: WatchKey) -> PollUpdate | None:
        entry = self._entries.get(key)
        return entry.latest if entry is not None else None

    def watched(self) -> list[WatchKey]:
        """The keys watched now, in the order they were added."""
        return list(self._entries)

    def all_terminal(self) -> bool:
        """True when no watched job is still going (ended, expired or an invalid id)."""
        return all(entry.state is not EntryState.ACTIVE for entry in self._entries.values())

    # ------------------------------------------------------------- running
    async def run(self) -> None:
        """Poll until cancelled (or `aclose`). Loads the store's watchlist if none was set."""
        if self._running:
            raise RuntimeError("this poller is already running")
        self._running = True
        self._load_watchlist()
        try:
            while not self._closed:
                await self._wakeup.wait(self._dispatch_due())
        finally:
            self._running = False
            await self._cancel_tasks()

    async def poll_due(self) -> list[PollUpdate]:
        """One scheduling round: fetch what is due now (within the caps) and wait for it.

        `run` does the same continuously; this is for callers that step time themselves.
        """
        self._dispatch_due()
        updates = await asyncio.gather(*list(self._tasks))
        return [update for update in updates if update is not None]

    async def aclose(self) -> None:
        """Stop polling and cancel fetches under way. The HTTP clients belong to the caller."""
        self._closed = True
        self._notify()
        await self._cancel_tasks()
        if self._store is not None:
            self._store.flush()

    # ----------------------------------------------------- fetches on request
    async def refresh_all_once(self, keys: Iterable[WatchKey] | None = None) -> list[PollUpdate]:
        """Fetch each key once, concurrently within the caps; updates come back in `keys` order.

        Keys not yet watched are added. A throttled fetch waits for the endpoint's
        backoff and is tried again (up to `ONCE_ATTEMPTS` times in all).
        """
        order = list(self._entries) if keys is None else list(keys)
        self.add(order)
        unique = list(dict.fromkeys(order))
        pending = deque(unique)
        results: dict[WatchKey, PollUpdate] = {}

        async def worker() -> None:
            # Each worker takes the first key whose group is under its share, so workers
            # do not all wait on a slow endpoint while another's keys are left.
            while pending:
                key = self._next_startable(pending)
                if key is None:
                    await self._wakeup.wait(None)
                    continue
                results[key] = await self._fetch_once(key)

        workers = min(self.max_in_flight, len(unique))
        await asyncio.gather(*(worker() for _ in range(workers)))
        return [results[key] for key in order]

    async def fetch_server(
        self, key: WatchKey, server_id: str, parent: str | None = None
    ) -> Server | None:
        """The details of a server behind one of `key`'s sub-jobs (None: it is gone), or of
        another service's resource (`parent`: a CCE node's cluster), sent
        with `key`'s credentials under the same caps as job fetches: in-flight count and the
        endpoint's request rate. Raises `ApiError` when the fetch fails."""
        ep = self._endpoint(key)
        while True:
            now = self._clock()
            wait = ep.gate_delay(now) if self._room(ep, *self._fair_share(ep)) else None
            if wait is not None and wait <= 0:
                break
            await self._wakeup.wait(self._slot_wait() if wait is None else wait)
        ep.rate.take(now)  # counts against the endpoint's rate like a job fetch
        ep.sent(now)
        self._in_flight += 1
        self._version += 1
        try:
            client = ep.clients.get(key)
            if client is None:
                client = ep.clients[key] = self._client_for(key)
            if key.service == "ecs":
                server = await client.get_server(server_id, key.project_id)
            else:
                server = await client.get_resource(server_id, key.project_id, parent)
        except ThrottledError as exc:
            ep.rate.on_throttle(self._clock(), now, exc.retry_after)  # slows job fetches too
            raise
        else:
            ep.rate.on_success(self._clock())
            return server
        finally:
            ep.answered(now, self._clock(), self.slow_after)
            self._in_flight -= 1
            self._notify()

    async def _fetch_once(self, key: WatchKey) -> PollUpdate:
        attempt = 0
        while True:
            attempt += 1
            entry = self._entries.get(key) or Entry(key, interval=self.interval)
            ep = self._endpoint(key)
            while True:
                now = self._clock()
                if entry.in_flight or not self._room(ep, *self._fair_share(ep)):
                    await self._wakeup.wait(self._slot_wait())
                    continue
                wait = ep.gate_delay(now)
                if wait <= 0:
                    break
                await self._wakeup.wait(wait)
            update = await self._fetch(entry, ep, self._start(entry, ep, now))
            if not isinstance(update.error, ThrottledError) or attempt >= ONCE_ATTEMPTS:
                return update

    # ----------------------------------------------------------- internals
    def _load_watchlist(self) -> None:
        """Watch what the store lists when the caller never set a watchlist."""
        if self._watchlist_set or self._store is None:
            return
        entries = self._store.entries()
        if entries is not None:
            self.set_watchlist(entry.key for entry in entries)

    def _group(self, key: WatchKey) -> RateGroup:
        group = self._groups.get(key)
        if group is None:
            try:
                group = self._rate_group(key)
            except Exception:
                # Never a reason not to poll: the endpoint's shared rate is the safe side.
                log.exception("no rate group for job %s at %s", key.job_id, key.endpoint)
                group = RateGroup(key.endpoint)
            if key in self._entries:
                self._groups[key] = group
        return group

    def _endpoint(self, key: WatchKey) -> Endpoint:
        """The state of `key`'s rate group (endpoint and account), made on first need."""
        group = self._group(key)
        ep = self._endpoints.get(group)
        if ep is None:
            ep = self._endpoints[group] = Endpoint(
                group.endpoint, AdaptiveRate(self.max_rps, self._policy.rng)
            )
        return ep

    def _dispatch_due(self) -> float | None:
        """Start every fetch that may start now; return seconds until the next may (None: wait)."""
        if self._closed:
            return None
        if self.gate is not None and not self.gate():
            return GATE_RECHECK
        now = self._clock()
        candidates, next_wake = due_entries(self._entries.values(), now, paused=self.paused)
        if not candidates:
            return next_wake
        share, owed = self._fair_share()
        for entry in candidates:
            manual = entry.priority != 0
            if not manual and not owed and self._in_flight >= self.max_in_flight:
                # Refreshes came first. A finishing fetch wakes the loop, or a request
                # turning slow (a group with nothing under way may then be owed a slot).
                stuck = self._slot_wait()
                if stuck is not None:
                    next_wake = stuck if next_wake is None else min(next_wake, stuck)
                break
            ep = self._endpoint(entry.key)
            shared = self._room(ep, share, owed)
            if not shared and not (manual and ep.reserved < REFRESH_RESERVE):
                # No slot: as above.
                stuck = None if owed else self._slot_wait()
                if stuck is not None:
                    next_wake = stuck if next_wake is None else min(next_wake, stuck)
                continue
            wait = ep.gate_delay(now)
            if wait > 0:  # rate-limited or throttled: come back when the endpoint opens
                next_wake = wait if next_wake is None else min(next_wake, wait)
                continue
            sent_at = self._start(entry, ep, now, reserved=not shared)
            task = asyncio.create_task(self._fetch(entry, ep, sent_at, reserved=not shared))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return next_wake

    def _notify(self) -> None:
        """Something changed that may make work possible: wake the waiting tasks."""
        self._version += 1
        self._wakeup.notify()

    def _busy_groups(self) -> frozenset[Endpoint]:
        """The groups with work: a job scheduled or a request under way (found again only
        after something changed, as every waiting fetch asks on every wake-up)."""
        if self._busy[0] != self._version:
            busy = {ep for ep in self._endpoints.values() if ep.in_flight}
            for key, entry in self._entries.items():
                if entry.due is not None or entry.in_flight:
                    busy.add(self._endpoint(key))
            self._busy = (self._version, frozenset(busy))
        return self._busy[1]

    def _fair_share(self, asking: Endpoint | None = None) -> tuple[int, bool]:
        """Each group's share of the slots now (`fair_share` over the groups with work,
        `asking` counted among them), and whether a group with nothing under way is owed a
        slot past the cap: some group holds more than its share, or a request under way has
        waited `slow_after` (`_stuck_in`)."""
        busy = self._busy_groups()
        count = len(busy) + (asking is not None and asking not in busy)
        share = fair_share(self.max_in_flight, count)
        owed = any(ep.shared_in_flight > share for ep in self._endpoints.values())
        return share, owed or self._stuck_in(self._clock()) == 0.0

    def _stuck_in(self, now: float) -> float | None:
        """Seconds until a request under way will have waited `slow_after` (0: one has);
        None when nothing is under way."""
        oldest = min(
            (min(ep.sent_times) for ep in self._endpoints.values() if ep.sent_times), default=None
        )
        if oldest is None:
            return None
        return max(0.0, oldest + self.slow_after - now)

    def _slot_wait(self) -> float | None:
        """How long a fetch with no slot waits before looking again: until a finishing fetch
        wakes it, or a request under way turns slow (then it may be owed a slot)."""
        return self._stuck_in(self._clock()) or None

    def _room(self, ep: Endpoint, share: int, owed: bool) -> bool:
        """Whether `ep`'s group may start one more request in the shared slots."""
        held = ep.shared_in_flight
        if held >= share:
            return False
        return self._in_flight < self.max_in_flight or (owed and held == 0)

    def _next_startable(self, pending: deque[WatchKey]) -> WatchKey | None:
        """Take from `pending` the first key whose group is under its share (None: none is)."""
        share, _owed = self._fair_share()
        for index, key in enumerate(pending):
            if self._endpoint(key).shared_in_flight < share:
                del pending[index]
                return key
        return None

    def _start(self, entry: Entry, ep: Endpoint, now: float, *, reserved: bool = False) -> float:
        """Count a fetch as under way before anything awaits, so the caps hold."""
        ep.rate.take(now)
        entry.in_flight = True
        entry.priority = 0
        ep.sent(now, reserved=reserved)
        if not reserved:
            self._in_flight += 1
        self._version += 1
        return now

    async def _fetch(
        self, entry: Entry, ep: Endpoint, sent_at: float, *, reserved: bool = False
    ) -> PollUpdate:
        """One GET for one entry (already counted by `_start`); raises only on cancellation."""
        key = entry.key
        job: Job | None = None
        error: ApiError | None = None
        try:
            client = ep.clients.get(key)
            if client is None:
                client = ep.clients[key] = self._client_for(key)
            job = await client.get_job(key.job_id, key.project_id, previous=entry.job)
        except ApiError as exc:
            error = exc
        except Exception as exc:
            # A bug or an unexpected library error: report it as a failed fetch, keep going.
            log.exception("unexpected error fetching job %s at %s", key.job_id, key.endpoint)
            error = ApiError(f"internal error while fetching ({type(exc).__name__}); see the log")
        finally:
            entry.in_flight = False
            ep.answered(sent_at, self._clock(), self.slow_after, reserved=reserved)
            if not reserved:
                self._in_flight -= 1
            self._version += 1
        try:
            update = self._apply(entry, ep, job, error, sent_at)
            # The endpoint's clock at this answer, so views can show times in the cloud's time.
            server_time = getattr(ep.clients.get(key), "server_time", None)
            if isinstance(server_time, datetime):
                update = entry.latest = replace(update, server_time=server_time)
            if self._entries.get(key) is entry:
                self._emit(update)
            return update
        finally:
            self._notify()

    def _apply(
        self, entry: Entry, ep: Endpoint, job: Job | None, error: ApiError | None, sent_at: float
    ) -> PollUpdate:
        """Fold one answer into the entry's state and schedule; return the update for it."""
        now = self._clock()
        fetched_at = self._now()
        if job is not None:
            update = self._policy.after_job(entry, ep, job, now, fetched_at)
        else:
            assert error is not None
            update = self._policy.after_error(entry, ep, error, now, sent_at, fetched_at)
        entry.latest = update
        if entry.refresh_again:
            entry.refresh_again = False
            self._jump_queue(entry, now)
        return update

    def _emit(self, update: PollUpdate) -> None:
        if self._store is not None:
            self._store.record(update)
        if self._on_update is not None:
            try:
                self._on_update(update)
            except Exception:
                log.exception("update callback failed for job %s", update.key.job_id)

    async def _cancel_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
