"""One poller per watchlist: every dashboard, `serve` tab and `status --watch` on the same
watchlist database shares the requests of one process.

The cloud's rate limit belongs to the account, and the operator's terraform, console and
scripts spend it too: two screens on one watchlist must not ask twice. So the first
process that polls takes a lease in the database and renews it every `CHECK_EVERY`
seconds; the lease runs out `LEASE_PERIOD` seconds after its last renewal. Every other
process follows the database instead of the cloud: it reads the snapshots (and servers)
written since it last looked, turns them into the same updates a poller makes (decided by
the one change detector, `jobdash.poll.changes`) and asks the polling process for
refreshes through a table. When the polling process ends it gives the lease back, and a
follower takes it at its next look; when it dies or hangs, at most one `LEASE_PERIOD`
plus one look later (at once when it is a process of this host that no longer exists).

`SharedPoller` wraps a `Poller` and is used the same way. `lead=True` (the dashboards)
takes the lease whenever it is free; `lead=False` (`status --watch`) never does: it
follows when someone polls and otherwise polls by itself, for itself only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from jobdash.api.server import Server, ServerInfo
from jobdash.poll.changes import compare
from jobdash.poll.schedule import error_from_snapshot
from jobdash.store.sharing import Holder, Lease, SnapshotChange
from jobdash.store.thread import StoreThread
from jobdash.watch.values import EndpointState, PollUpdate, Snapshot, WatchKey, merge_update

log = logging.getLogger(__name__)

#: Seconds a lease holds after its last renewal. A polling process that died or froze is
#: replaced within this plus one `CHECK_EVERY`, under two periods.
LEASE_PERIOD = 5.0
#: Seconds between looks at the database: renewing the lease, taking refresh requests,
#: reading what the polling process wrote.
CHECK_EVERY = 1.0


class Role(StrEnum):
    #: Not yet decided (before the first look at the database).
    STARTING = "starting"
    #: Holds the lease and polls for every process on the watchlist.
    POLLING = "polling"
    #: Another process polls; this one reads what it writes.
    FOLLOWING = "following"
    #: Polls for itself, without the lease (`lead=False` when nobody else polls).
    ALONE = "alone"


class SharingStore(Protocol):
    """What sharing needs from `jobdash.store.Store` (every call runs on a store thread)."""

    def take_lease(
        self, me: Holder, now: float, period: float, endpoints: str | None = None
    ) -> Lease: ...
    def read_lease(self, now: float) -> Lease: ...
    def release_lease(self, me: Holder) -> None: ...
    def change_number(self) -> int: ...
    def snapshot_changes(self, since: int) -> list[SnapshotChange]: ...
    def server_changes(self, since: int) -> list[ServerInfo]: ...
    def ask_refresh(self, keys: Iterable[WatchKey] | None, now: float) -> None: ...
    def take_refresh_requests(self) -> list[WatchKey | None]: ...


class InnerPoller(Protocol):
    """What sharing needs from `jobdash.poll.poller.Poller`."""

    paused: bool
    gate: Callable[[], bool] | None

    def set_watchlist(
        self, keys: Iterable[WatchKey], snapshots: Mapping[WatchKey, Snapshot] | None = None
    ) -> None: ...
    def add(
        self, keys: Iterable[WatchKey], snapshots: Mapping[WatchKey, Snapshot] | None = None
    ) -> None: ...
    def remove(self, keys: Iterable[WatchKey]) -> None: ...
    def refresh(self, key: WatchKey | None = None) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def endpoint_states(self) -> list[EndpointState]: ...
    def take_over(self, snapshots: Mapping[WatchKey, Snapshot]) -> None: ...
    async def run(self) -> None: ...
    async def fetch_server(
        self, key: WatchKey, server_id: str, parent: str | None = None
    ) -> Server | None: ...
    async def aclose(self) -> None: ...


def this_process() -> Holder:
    """This run of this process, as a lease names it."""
    return Holder(secrets.token_hex(8), socket.gethostname(), os.getpid())


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SharedPoller:
    """A `Poller` that polls only while this process holds the watchlist's lease (or, with
    `lead=False`, while nobody does) and otherwise follows the database; see the module."""

    def __init__(
        self,
        make_poller: Callable[[Callable[[PollUpdate], None]], InnerPoller],
        store: SharingStore,
        on_update: Callable[[PollUpdate], None],
        *,
        lead: bool = True,
        since: int = 0,
        on_servers: Callable[[list[ServerInfo]], None] | None = None,
        on_role: Callable[[Role], None] | None = None,
        thread: StoreThread | None = None,
        period: float = LEASE_PERIOD,
        check_every: float = CHECK_EVERY,
        wall: Callable[[], float] = time.time,
        now: Callable[[], datetime] = _utc_now,
        holder: Holder | None = None,
    ) -> None:
        self._store = store
        self._on_update = on_update
        self._on_servers = on_servers
        self._on_role = on_role
        self.lead = lead
        self.period = period
        self.check_every = check_every
        self._wall = wall
        self._now = now
        self.holder = holder or this_process()
        self._thread = thread or StoreThread("jobdash-sharing")
        self._own_thread = thread is None
        self.inner = make_poller(self._from_poller)
        self.inner.gate = self._may_poll
        self.role = Role.STARTING
        #: Who polls while this process follows.
        self.leader: Holder | None = None
        #: The last change number read (or, while polling, written).
        self._seq = since
        #: The latest state of each watched key, whoever fetched it: what followed answers
        #: are compared with, and where polling starts from on a takeover.
        self._known: dict[WatchKey, Snapshot] = {}
        self._keys: set[WatchKey] = set()
        #: Wall-clock time the lease this process holds runs out (0: holds none).
        self._valid_until = 0.0
        self._leader_endpoints: list[EndpointState] = []
        self._published: str | None = None
        self._asks: list[WatchKey | None] = []
        self._poll_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._closed = False
        self._store_problem: str | None = None
        self.paused = False

    # -- what the app and `status --watch` call ------------------------------------------

    @property
    def polling(self) -> bool:
        """True while this process fetches (holding the lease, or alone)."""
        return self.role in (Role.POLLING, Role.ALONE)

    def describe(self) -> str:
        """Who polls, for a header or a progress line."""
        if self.role is Role.FOLLOWING and self.leader is not None:
            return f"following {self.leader.label}"
        if self.role is Role.POLLING:
            return "polling for this watchlist"
        if self.role is Role.ALONE:
            return "polling"
        return "starting"

    def set_watchlist(
        self, keys: Iterable[WatchKey], snapshots: Mapping[WatchKey, Snapshot] | None = None
    ) -> None:
        wanted = list(keys)
        self._keys = set(wanted)
        self._known = {k: v for k, v in self._known.items() if k in self._keys}
        self._know(snapshots or {})
        self.inner.set_watchlist(wanted, snapshots)

    def add(
        self, keys: Iterable[WatchKey], snapshots: Mapping[WatchKey, Snapshot] | None = None
    ) -> None:
        wanted = list(keys)
        self._keys.update(wanted)
        self._know(snapshots or {})
        self.inner.add(wanted, snapshots)

    def remove(self, keys: Iterable[WatchKey]) -> None:
        gone = list(keys)
        for key in gone:
            self._keys.discard(key)
            self._known.pop(key, None)
        self.inner.remove(gone)

    def refresh(self, key: WatchKey | None = None) -> None:
        """Fetch now: here when this process polls, else through the polling process."""
        if self.polling:
            self.inner.refresh(key)
            return
        self._asks.append(key)
        self._wake.set()

    def pause(self) -> None:
        self.paused = True
        self.inner.pause()
        self._wake.set()

    def resume(self) -> None:
        self.paused = False
        self.inner.resume()
        self._wake.set()

    def endpoint_states(self) -> list[EndpointState]:
        if self.role is Role.FOLLOWING:
            return list(self._leader_endpoints)
        return self.inner.endpoint_states()

    async def fetch_server(
        self, key: WatchKey, server_id: str, parent: str | None = None
    ) -> Server | None:
        """Asked for by the user (or, while polling, for a failure): fetched here."""
        return await self.inner.fetch_server(key, server_id, parent)

    async def run(self) -> None:
        """Look at the database every `check_every` seconds until closed; poll meanwhile
        whenever this process is the one to."""
        try:
            while not self._closed:
                self._raise_poller_failure()
                try:
                    await self._look()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    await self._store_failed(exc)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.check_every)
        finally:
            await self._stop_polling()

    async def aclose(self) -> None:
        """Stop; give the lease back so that a follower takes over at its next look."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        await self._stop_polling()
        await self.inner.aclose()
        if self._valid_until:
            self._valid_until = 0.0
            try:
                await self._thread.run(lambda: self._store.release_lease(self.holder))
            except Exception as exc:
                log.warning("could not give the polling lease back: %s", exc)
        if self._own_thread:
            self._thread.close()

    # -- internals ---------------------------------------------------------------------------

    def _may_poll(self) -> bool:
        if self.role is Role.ALONE:
            return True
        return self.role is Role.POLLING and self._wall() < self._valid_until

    def _know(self, snapshots: Mapping[WatchKey, Snapshot]) -> None:
        for key, snapshot in snapshots.items():
            if key in self._keys:
                self._known[key] = snapshot

    def _from_poller(self, update: PollUpdate) -> None:
        """Each update this process's own poller makes: kept as known, then passed on."""
        if update.key in self._keys:
            self._known[update.key] = merge_update(self._known.get(update.key), update)
        self._on_update(update)

    async def _look(self) -> None:
        me = self.holder
        # A paused screen stops polling for the others too: it gives the lease back, so
        # that another process takes it, and resumes from where the others are.
        take = self.lead and not self.paused
        give_back = self.paused and self.role is Role.POLLING
        now = self._wall()
        publish = self._endpoints_json() if self.role is Role.POLLING else None
        asks, self._asks = self._asks, []
        follow = not self.paused
        since = self._seq

        def work() -> tuple[
            Lease, list[WatchKey | None], list[SnapshotChange], list[ServerInfo], int
        ]:
            store = self._store
            if give_back:
                store.release_lease(me)
            lease = (
                store.take_lease(me, now, self.period, publish) if take else store.read_lease(now)
            )
            holder = lease.holder
            if holder is None or holder.id == me.id:
                requests = store.take_refresh_requests() if holder is not None else []
                return lease, requests, [], [], store.change_number()
            if asks:
                store.ask_refresh(None if None in asks else [k for k in asks if k], now)
            if not follow:
                return lease, [], [], [], since
            changes = store.snapshot_changes(since)
            servers = store.server_changes(since)
            newest = max([since, *(change.seq for change in changes)])
            return lease, [], changes, servers, newest

        try:
            lease, requests, changes, servers, seq = await self._thread.run(work)
        except BaseException:
            self._asks = asks + self._asks  # asked again at the next look
            raise
        self._store_problem = None
        holder = lease.holder
        if holder is None or holder.id == me.id:
            # Ours (or, for a process that does not lead, nobody's: it polls for itself).
            self._valid_until = lease.expires_at if holder is not None else 0.0
            await self._become(Role.POLLING if holder is not None else Role.ALONE, None)
            for key in [*asks, *requests]:
                self.inner.refresh(key)
        else:
            self._valid_until = 0.0
            self._leader_endpoints = _endpoints_from_json(lease.endpoints)
            await self._become(Role.FOLLOWING, holder)
            self._follow(changes, servers)
        self._seq = seq

    async def _become(self, role: Role, leader: Holder | None) -> None:
        self.leader = leader
        if role is not self.role:
            was = self.role
            self.role = role
            log.info("polling role: %s -> %s%s", was, role, f" ({leader.label})" if leader else "")
            if role in (Role.POLLING, Role.ALONE) and was is not Role.STARTING:
                self.inner.take_over(self._known)
            if not self.polling:
                await self._stop_polling()
            if self._on_role is not None:
                self._on_role(role)
        if self.polling:
            self._start_polling()

    async def _store_failed(self, exc: Exception) -> None:
        """The database cannot be used (locked by another program, failing): nobody can
        take or renew the lease meanwhile, so polling goes on as it is, without one,
        until the next look settles who polls. A follower keeps following."""
        if self._store_problem is None:
            log.warning("the polling lease cannot be checked: %s", exc)
        self._store_problem = str(exc)
        if self.role is not Role.FOLLOWING:
            self._valid_until = 0.0
            await self._become(Role.ALONE, None)

    def _raise_poller_failure(self) -> None:
        """A poller that failed ends `run` with its error: the caller reports it and runs
        this again, which starts polling anew."""
        task = self._poll_task
        if task is not None and task.done() and not task.cancelled():
            self._poll_task = None
            error = task.exception()
            if error is not None:
                raise error

    def _start_polling(self) -> None:
        if self._poll_task is None or self._poll_task.done():
            self._poll_task = asyncio.create_task(self.inner.run(), name="jobdash-poller")

    async def _stop_polling(self) -> None:
        task, self._poll_task = self._poll_task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _follow(self, changes: list[SnapshotChange], servers: list[ServerInfo]) -> None:
        """Turn what the polling process wrote into updates, as if fetched here."""
        for change in changes:
            update = self._followed_update(change)
            if update is None:
                continue
            self._known[update.key] = merge_update(self._known.get(update.key), update)
            try:
                self._on_update(update)
            except Exception:
                log.exception("update callback failed for job %s", update.key.job_id)
        if servers and self._on_servers is not None:
            self._on_servers(servers)

    def _followed_update(self, change: SnapshotChange) -> PollUpdate | None:
        snapshot = change.snapshot
        key = snapshot.key
        if key not in self._keys:
            return None
        previous = self._known.get(key)
        old_job = previous.job if previous is not None else None
        if snapshot.error_kind:
            if (
                previous is not None
                and previous.error_kind == snapshot.error_kind
                and previous.error_message == snapshot.error_message
            ):
                return None
            return PollUpdate(
                key, self._now(), job=old_job, error=error_from_snapshot(snapshot), followed=True
            )
        if snapshot.expired:
            if previous is not None and previous.expired:
                return None
            return PollUpdate(key, self._now(), job=old_job, expired=True, followed=True)
        fetched_at = snapshot.fetched_at or self._now()
        # The endpoint's clock as the poller saw it, for running times in the cloud's time.
        server_time = (
            fetched_at + timedelta(seconds=change.clock_offset)
            if change.clock_offset is not None
            else None
        )
        if change.body_changed and snapshot.job is not None:
            found = compare(old_job, snapshot.job, fetched_at)
            return PollUpdate(
                key,
                fetched_at,
                job=snapshot.job,
                changed=found.changed,
                previous_status=found.previous_status,
                changed_sub_jobs=found.sub_jobs,
                transitions=found.transitions,
                server_time=server_time,
                followed=True,
            )
        if old_job is None:
            return None  # nothing to show yet: the body comes with its next change
        return PollUpdate(
            key,
            fetched_at,
            job=old_job,
            same_answer=True,
            server_time=server_time,
            followed=True,
        )

    def _endpoints_json(self) -> str | None:
        """The poller's endpoint states for followers' headers (None when unchanged is
        not worth telling apart: the lease row is rewritten at each renewal anyway)."""
        try:
            states = [_state_dict(state) for state in self.inner.endpoint_states()]
            return json.dumps(states, separators=(",", ":"))
        except (TypeError, ValueError):
            return None


def _state_dict(state: EndpointState) -> dict[str, Any]:
    data = asdict(state)
    since = data.get("throttled_since")
    data["throttled_since"] = since.isoformat() if isinstance(since, datetime) else None
    return data


def _endpoints_from_json(text: str | None) -> list[EndpointState]:
    """The polling process's endpoint states; anything odd is left out, never raised."""
    if not text:
        return []
    try:
        items = json.loads(text)
    except ValueError:
        return []
    states = []
    for item in items if isinstance(items, list) else []:
        try:
            since = item.get("throttled_since")
            item = dict(item, throttled_since=datetime.fromisoformat(since) if since else None)
            item["accounts"] = tuple(item.get("accounts") or ())
            states.append(replace(EndpointState(item.pop("endpoint")), **item))
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
    return states
