"""The one owner of what is watched: entries, their latest snapshots, and the store.

Views read a `Watchlist`; nothing else keeps a copy of a job. Adding, removing,
labelling, folding in a poll update and picking up changes another jobdash made all go
through here, which keeps the store, the in-memory state and the poller consistent.
Every SQLite call runs on the store's own thread (`jobdash.store.thread`), so a locked
database delays writes, never the caller's event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from jobdash.api.errors import ErrorKind
from jobdash.api.ids import short_ids
from jobdash.api.model import Job
from jobdash.api.server import ServerInfo
from jobdash.connections.groups import (
    ConnectionState,
    connection_states,
)
from jobdash.poll.store_writer import StoreWriter
from jobdash.store.thread import StoreThread
from jobdash.text.safe import one_line
from jobdash.watch.history import Estimate, FinishedJob, History, finished_job
from jobdash.watch.servers import ServerJoin
from jobdash.watch.tally import WatchTally
from jobdash.watch.values import (
    EndpointState,
    PollUpdate,
    Snapshot,
    WatchEntry,
    WatchKey,
    merge_update,
)

log = logging.getLogger(__name__)


#: Kinds of fetch error that mean the user must fix credentials or settings.
CONFIG_ERROR_KINDS = frozenset(
    {ErrorKind.UNAUTHORIZED, ErrorKind.FORBIDDEN, ErrorKind.NO_CREDENTIALS}
)
#: A store call running longer than this is reported: the file is probably locked.
SLOW_STORE_SECONDS = 1.0
#: How soon a failed write is tried again. It runs on the store's thread, so a short
#: period costs the event loop nothing.
WRITE_RETRY_AFTER = 2.0
#: The preferences read when the watchlist loads.
PREFERENCES = ("sort", "add_service")


class WatchStore(Protocol):
    """What the watchlist needs from `jobdash.store.Store`."""

    def entries(self) -> list[WatchEntry]: ...
    def snapshots(self) -> dict[WatchKey, Snapshot]: ...
    def snapshot(self, key: WatchKey) -> Snapshot | None: ...
    def add(self, entries: Iterable[WatchEntry]) -> Any: ...
    def remove(self, keys: Iterable[WatchKey]) -> list[WatchKey]: ...
    def set_label(self, key: WatchKey, label: str | None) -> bool: ...
    def has_changed(self) -> bool: ...
    def change_number(self) -> int: ...
    def entries_number(self) -> int: ...
    def record_many(self, updates: Iterable[PollUpdate]) -> Any: ...
    def record_server(self, info: ServerInfo) -> None: ...
    def servers(self) -> list[ServerInfo]: ...
    def finished_jobs(self) -> list[FinishedJob]: ...
    def preference(self, name: str) -> str | None: ...
    def set_preference(self, name: str, value: str) -> None: ...


class PollerControl(Protocol):
    """What the watchlist keeps in step with itself (`jobdash.poll.poller.Poller`)."""

    def add(
        self, keys: Iterable[WatchKey], snapshots: Mapping[WatchKey, Snapshot] | None = None
    ) -> None: ...
    def remove(self, keys: Iterable[WatchKey]) -> None: ...


@dataclass(frozen=True, slots=True)
class Added:
    entries: list[WatchEntry]
    duplicates: list[WatchKey]


@dataclass(frozen=True, slots=True)
class ExternalChange:
    """What another process added or removed since the last look."""

    added: list[WatchKey]
    removed: list[WatchKey]


class Watchlist:
    """Entries and snapshots in memory, persisted through the store on its own thread."""

    def __init__(
        self,
        store: WatchStore,
        entries: Iterable[WatchEntry],
        snapshots: Mapping[WatchKey, Snapshot],
        *,
        servers: Iterable[ServerInfo] = (),
        history: Iterable[FinishedJob] = (),
        preferences: Mapping[str, str] | None = None,
        thread: StoreThread | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._thread = thread or StoreThread()
        self._monotonic = monotonic
        self._writer = StoreWriter(store, monotonic, retry_after=WRITE_RETRY_AFTER)
        #: Updates on their way to the store thread, which takes them all at once (one
        #: transaction for every update that arrived meanwhile).
        self._outbox: dict[WatchKey, PollUpdate] = {}
        self._outbox_lock = threading.Lock()
        self._drain_queued = False
        self._poller: PollerControl | None = None
        self._closed = False
        self.entries: dict[WatchKey, WatchEntry] = {}
        self.snapshots: dict[WatchKey, Snapshot] = {}
        self.last_refresh: datetime | None = None
        #: Jobs per state, overall and per connection (kept as updates arrive).
        self.tally = WatchTally()
        self._config_errors: dict[WatchKey, str] = {}
        self._short_ids: dict[str, str] = {}
        #: The servers behind sub-jobs, and finished jobs' durations (ETA, stall marks).
        self.servers = ServerJoin(servers)
        self.history = History(history)
        #: Remembered choices of the dashboard (the sort order), as stored.
        self.preferences: dict[str, str] = dict(preferences or {})
        #: The store's change number when the snapshots were read: following the database
        #: (`jobdash.poll.sharing`) starts after it.
        self.loaded_seq = 0
        #: The store's entries number when they were last read (None: read at next look).
        self._entries_seen: int | None = None
        self._set_entries(entries, snapshots)

    @classmethod
    def load(cls, store: WatchStore, **options: Any) -> Watchlist:
        """Read entries and snapshots once, before any loop runs (reads never wait on a lock)."""
        # Read first: a change written while the rest loads is then read again, not missed.
        since = store.change_number()
        entries_seen = store.entries_number()
        watchlist = cls(
            store,
            store.entries(),
            store.snapshots(),
            servers=store.servers(),
            history=store.finished_jobs(),
            preferences={
                name: value for name in PREFERENCES if (value := store.preference(name)) is not None
            },
            **options,
        )
        watchlist.loaded_seq = since
        watchlist._entries_seen = entries_seen
        return watchlist

    def attach(self, poller: PollerControl | None) -> None:
        """The poller to keep in step: it learns every entry added or removed from now on."""
        self._poller = poller

    # -- reading ---------------------------------------------------------------------------

    def job(self, key: WatchKey) -> Job | None:
        snapshot = self.snapshots.get(key)
        return snapshot.job if snapshot else None

    def short_id(self, key: WatchKey) -> str:
        """The id shown for `key`: short, and unambiguous among the watched ids."""
        return self._short_ids.get(key.job_id) or key.short_id

    def config_problem(self) -> str | None:
        """A credentials / permission error, worded once for the header."""
        for message in self._config_errors.values():
            return message
        return None

    def config_problem_count(self) -> int:
        return len(self._config_errors)

    def connection_states(self, endpoints: Iterable[EndpointState]) -> list[ConnectionState]:
        """Each watched connection's state (ok, throttled, offline, unauthorized, ...)."""
        tally = self.tally
        return connection_states(
            tally.group_labels,
            tally.group_counts,
            tally.group_errors,
            tally.group_fetched,
            endpoints,
        )

    @property
    def store_problem(self) -> str | None:
        """Why updates are waiting in memory (a locked or failing store); None when fine."""
        busy = self._thread.busy_for()
        if busy >= SLOW_STORE_SECONDS:
            return f"the store is locked or busy: a write has waited {busy:.0f}s"
        return self._writer.error

    # -- poll updates ----------------------------------------------------------------------

    def apply(self, update: PollUpdate) -> Snapshot | None:
        """Fold an update in and queue its write; None when the entry is no longer watched."""
        key = update.key
        if key not in self.entries:
            return None
        snapshot = merge_update(self.snapshots.get(key), update)
        self._put_snapshot(key, snapshot)
        if update.error is None:
            self._saw_fetch(update.fetched_at)
        if not update.followed:
            self._send_to_store(update)
        job = update.job
        if (
            job is not None
            and job.is_terminal
            and not update.same_answer
            and not self.history.knows(job.job_id)
        ):
            record = finished_job(job)
            if record is not None:
                self.history.add(record)
        return snapshot

    def _send_to_store(self, update: PollUpdate) -> None:
        """Queue a write; the store thread writes whatever has queued up in one go."""
        with self._outbox_lock:
            waiting = self._outbox.get(update.key)
            if waiting is not None and update.same_answer and not waiting.same_answer:
                # The waiting update carries a body not yet written: keep it, seen later.
                update = replace(
                    update,
                    same_answer=False,
                    transitions=waiting.transitions + update.transitions,
                )
            self._outbox[update.key] = update
            if self._drain_queued:
                return
            self._drain_queued = True
        self._thread.submit(self._drain_outbox)

    def _drain_outbox(self) -> None:
        """On the store thread: hand what is queued to the writer and write it."""
        with self._outbox_lock:
            batch, self._outbox = self._outbox, {}
            self._drain_queued = False
        for update in batch.values():
            self._writer.keep(update)
        self._writer.flush()

    def estimate(self, key: WatchKey, now: datetime) -> Estimate | None:
        """What history says about a running job (None once it has ended)."""
        job = self.job(key)
        return self.history.estimate(job, now) if job is not None else None

    def set_preference(self, name: str, value: str) -> None:
        """Remember a choice; written on the store's thread (a failure is only logged)."""
        self.preferences[name] = value

        def write() -> None:
            try:
                self._store.set_preference(name, value)
            except Exception as exc:
                log.warning("could not save the preference %s: %s", name, exc)

        self._submit_quietly(write)

    def _submit_quietly(self, write: Callable[[], None]) -> None:
        """Queue a best-effort write; once the watchlist has closed it is dropped."""
        if self._closed:
            log.info("the watchlist has closed; a late write is dropped")
            return
        self._thread.submit(write)

    def put_server(self, info: ServerInfo) -> None:
        """Keep a fetched server; written on the store's thread (a failed write is logged:
        the server is fetched again next time)."""
        self.servers.put(info)

        def write() -> None:
            try:
                self._store.record_server(info)
            except Exception as exc:
                log.warning("could not save server %s: %s", info.server_id, exc)

        self._submit_quietly(write)

    def retry_writes(self) -> None:
        """Try the updates kept in memory again (a timer calls this while the store fails)."""
        if self._writer.waiting and not self._thread.pending:
            self._thread.submit(self._writer.flush)

    # -- changes by the user ---------------------------------------------------------------

    async def add(self, entries: Iterable[WatchEntry]) -> Added:
        wanted = list(entries)
        result = await self._thread.run(lambda: self._store.add(wanted))
        added_keys = set(result.added)
        new = [
            entry for entry in wanted if entry.key in added_keys and entry.key not in self.entries
        ]
        for entry in new:
            self._add_entry(entry, None)
        self._entries_changed()
        if self._poller is not None and new:
            self._poller.add([entry.key for entry in new], {})
        return Added(new, list(result.duplicates))

    async def remove(self, keys: Iterable[WatchKey]) -> None:
        wanted = list(keys)
        await self._thread.run(lambda: self._store.remove(wanted))
        self._drop(wanted)

    async def set_label(self, key: WatchKey, label: str | None) -> None:
        await self._thread.run(lambda: self._store.set_label(key, label or None))
        entry = self.entries.get(key)
        if entry is not None:
            self.entries[key] = replace(entry, label=label or None)

    # -- changes by other processes --------------------------------------------------------

    async def pick_up_changes(self) -> ExternalChange:
        """Entries another jobdash added or removed (`jobdash add` in another pane)."""

        def read() -> tuple[list[WatchEntry], dict[WatchKey, Snapshot]] | None:
            if not self._store.has_changed():
                return None
            # Another process wrote; the lease and snapshots change every second when one
            # polls for this one, entries seldom: read them only when they did change.
            number = self._store.entries_number()
            if number == self._entries_seen:
                return None
            self._entries_seen = number
            entries = self._store.entries()
            # Only the new entries' snapshots: reading every one would decode the whole
            # watchlist for one job added in another pane.
            new = [entry.key for entry in entries if entry.key not in self.entries]
            found = {key: self._store.snapshot(key) for key in new}
            return entries, {key: snapshot for key, snapshot in found.items() if snapshot}

        found = await self._thread.run(read)
        if found is None:
            return ExternalChange([], [])
        entries, snapshots = found
        wanted = {entry.key: entry for entry in entries}
        removed = [key for key in self.entries if key not in wanted]
        self._drop(removed)
        added = [key for key in wanted if key not in self.entries]
        for key in added:
            self._add_entry(wanted[key], snapshots.get(key))
        # In the store's order, with labels set elsewhere.
        self.entries = dict(wanted)
        self._entries_changed()
        if self._poller is not None and added:
            self._poller.add(added, {k: snapshots[k] for k in added if k in snapshots})
        return ExternalChange(added, removed)

    def close(self) -> None:
        """`aclose` for callers without a loop: waits for the store's thread."""
        if self._closed:
            return
        self._closed = True
        try:
            self._thread.submit(self._drain_outbox).result()
        finally:
            self._thread.close()

    async def aclose(self) -> None:
        """Write what waits (as far as the store lets us) and stop the store's thread."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._thread.run(self._drain_outbox)
        finally:
            self._thread.close()

    # -- internals -------------------------------------------------------------------------

    def _set_entries(
        self, entries: Iterable[WatchEntry], snapshots: Mapping[WatchKey, Snapshot]
    ) -> None:
        for entry in entries:
            self._add_entry(entry, snapshots.get(entry.key))
            snapshot = snapshots.get(entry.key)
            if snapshot is not None and snapshot.error_kind is None and not snapshot.expired:
                self._saw_fetch(snapshot.fetched_at)
        self._entries_changed()

    def _add_entry(self, entry: WatchEntry, snapshot: Snapshot | None) -> None:
        self.entries[entry.key] = entry
        self.tally.join(entry)
        if snapshot is not None:
            self._put_snapshot(entry.key, snapshot)

    def _put_snapshot(self, key: WatchKey, snapshot: Snapshot) -> None:
        """Keep `snapshot` for a watched `key`, with the counts and config errors it implies."""
        entry = self.entries[key]
        self.tally.count(entry, self.snapshots.get(key), -1)
        self.snapshots[key] = snapshot
        self.tally.count(entry, snapshot, +1)
        if snapshot.error_kind in CONFIG_ERROR_KINDS:
            self._config_errors[key] = one_line(snapshot.error_message or snapshot.error_kind, 200)
        else:
            self._config_errors.pop(key, None)

    def _drop(self, keys: Iterable[WatchKey]) -> None:
        gone = [key for key in keys if key in self.entries]
        for key in gone:
            self.tally.leave(self.entries.pop(key), self.snapshots.pop(key, None))
            self._config_errors.pop(key, None)
        if gone:
            self._entries_changed()
            if self._poller is not None:
                self._poller.remove(gone)

    def _entries_changed(self) -> None:
        self._short_ids = short_ids(key.job_id for key in self.entries)

    def _saw_fetch(self, fetched_at: datetime | None) -> None:
        if fetched_at is not None and (self.last_refresh is None or fetched_at > self.last_refresh):
            self.last_refresh = fetched_at
