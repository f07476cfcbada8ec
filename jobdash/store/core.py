"""`Store`: the persistent watchlist, shared safely by every jobdash process of a user.

Here: opening the file, transactions, the entries themselves, and the calls for the
rest, whose SQL lives with what it stores: snapshots in `jobdash.store.snapshots`, the
tables beside the watchlist (servers, history, preferences) in `jobdash.store.side_tables`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from jobdash.api.model import TERMINAL_STATUSES, Job
from jobdash.api.server import ServerInfo
from jobdash.config.paths import database_file
from jobdash.store.codec import (
    BAD_VALUE_ERRORS,
    KEY_MATCH,
    AddResult,
    failure_reason,
    key_params,
    parse_time_text,
    text_or_none,
    time_text,
)
from jobdash.store.schema import migrate, needs_migration
from jobdash.store.sharing import (
    CHANGES,
    ENTRIES,
    Holder,
    Lease,
    SnapshotChange,
    ask_refresh,
    counter,
    next_number,
    read_lease,
    release_lease,
    snapshot_changes,
    take_lease,
    take_refresh_requests,
)
from jobdash.store.side_tables import (
    load_finished,
    load_preference,
    load_servers,
    save_finished,
    save_preference,
    save_server,
)
from jobdash.store.snapshots import (
    load_snapshot,
    load_snapshots,
    record_updates,
)
from jobdash.store.sqlite import (
    RecordError,
    StoreError,
    Transactions,
    connect,
    ensure_directory,
)
from jobdash.text.safe import one_line
from jobdash.watch.history import FinishedJob
from jobdash.watch.values import PollUpdate, Snapshot, WatchEntry, WatchKey

T = TypeVar("T")


class Store:
    """The watchlist in an SQLite file (WAL mode), safe to use from several processes.

    Every write is one `BEGIN IMMEDIATE` transaction, retried while another process holds
    the lock, for up to `busy_timeout` seconds. Methods may be called from any thread.
    A file that is corrupt, foreign, too new or locked for too long raises `StoreError`;
    the store never deletes or recreates it.
    """

    def __init__(self, path: Path | None = None, *, busy_timeout: float = 10.0) -> None:
        self.path: Path = Path(path) if path is not None else database_file()
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._closed = False
        ensure_directory(self.path)
        connection = connect(self.path, busy_timeout)
        self._transactions = Transactions(connection, self.path, busy_timeout)
        try:
            self._prepare()
            self._data_version = self._read_data_version()
        except BaseException:
            connection.close()
            raise

    def _prepare(self) -> None:
        plain = self._transactions.plain
        plain(lambda c: c.execute("PRAGMA foreign_keys = ON"))
        # The first read: a file that is not a database, or not ours, or too new, stops here.
        outdated = needs_migration(self._transactions)
        plain(lambda c: c.execute("PRAGMA journal_mode = WAL").fetchone())
        # In WAL mode NORMAL loses no committed transaction when a process dies.
        plain(lambda c: c.execute("PRAGMA synchronous = NORMAL"))
        if outdated:
            migrate(self._transactions)

    # -- plumbing ----------------------------------------------------------------------

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            self._check_open()
            return self._transactions.write(work)

    def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            self._check_open()
            return self._transactions.read(work)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the watchlist database {self.path} is closed", path=self.path)

    def _read_data_version(self) -> int:
        return self._transactions.plain(lambda c: c.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._transactions.connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- entries -----------------------------------------------------------------------

    def add(self, entries: Iterable[WatchEntry]) -> AddResult:
        """Add entries in one transaction; a key already watched is left as it is."""
        now = datetime.now(UTC)
        rows = [
            (
                *key_params(e.key),
                text_or_none(e.label),
                e.profile,
                time_text(e.added_at or now),
                e.auth_method,
                text_or_none(e.region),
                text_or_none(e.project_name),
                e.key.service,
                e.key,
            )
            for e in entries
        ]

        def work(connection: sqlite3.Connection) -> AddResult:
            added: list[WatchKey] = []
            duplicates: list[WatchKey] = []
            for *values, key in rows:
                cursor = connection.execute(
                    "INSERT INTO entries (endpoint, project_id, job_id, label, profile, added_at,"
                    " auth_method, region, project_name, service)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (endpoint, project_id, job_id) DO NOTHING",
                    values,
                )
                (added if cursor.rowcount == 1 else duplicates).append(key)
            if added:
                next_number(connection, ENTRIES)
            return AddResult(added, duplicates)

        return self._write(work)

    def remove(self, keys: Iterable[WatchKey]) -> list[WatchKey]:
        """Remove entries with their snapshots; returns those that existed."""
        wanted = list(dict.fromkeys(keys))

        def work(connection: sqlite3.Connection) -> list[WatchKey]:
            gone = [
                key
                for key in wanted
                if connection.execute(
                    f"DELETE FROM entries WHERE {KEY_MATCH}", key_params(key)
                ).rowcount
            ]
            if gone:
                next_number(connection, ENTRIES)
            return gone

        return self._write(work)

    def remove_finished(self, within: Iterable[WatchKey] | None = None) -> list[WatchKey]:
        """Remove entries whose last snapshot is terminal (SUCCESS/FAIL) or expired; with
        `within`, only among those keys (one connection's entries)."""
        allowed = None if within is None else set(within)
        terminal = sorted(str(status) for status in TERMINAL_STATUSES)
        marks = ", ".join("?" for _ in terminal)

        def work(connection: sqlite3.Connection) -> list[WatchKey]:
            rows = connection.execute(
                "SELECT e.id, e.endpoint, e.project_id, e.job_id, e.service"
                " FROM entries e JOIN snapshots s ON s.entry_id = e.id"
                f" WHERE s.expired = 1 OR s.status IN ({marks}) ORDER BY e.id",
                terminal,
            ).fetchall()
            if allowed is not None:
                rows = [row for row in rows if WatchKey(*row[1:]) in allowed]
            connection.executemany("DELETE FROM entries WHERE id = ?", [(row[0],) for row in rows])
            if rows:
                next_number(connection, ENTRIES)
            return [WatchKey(*row[1:]) for row in rows]

        return self._write(work)

    def entries(self) -> list[WatchEntry]:
        """Every entry, in the order they were added."""

        def work(connection: sqlite3.Connection) -> list[WatchEntry]:
            rows = connection.execute(
                "SELECT endpoint, project_id, job_id, service, label, profile, added_at, auth_method,"
                " region, project_name FROM entries ORDER BY id"
            ).fetchall()
            return [
                WatchEntry(
                    key=WatchKey(endpoint, project_id, job_id, service),
                    label=label,
                    profile=profile,
                    added_at=parse_time_text(added_at),
                    auth_method=auth_method,
                    region=region,
                    project_name=project_name,
                )
                for (
                    endpoint,
                    project_id,
                    job_id,
                    service,
                    label,
                    profile,
                    added_at,
                    auth_method,
                    region,
                    project_name,
                ) in rows
            ]

        return self._read(work)

    def set_label(self, key: WatchKey, label: str | None) -> bool:
        """Set (or with None or "" clear) a label; False when the key is not watched."""

        def work(connection: sqlite3.Connection) -> bool:
            found = connection.execute(
                f"UPDATE entries SET label = ? WHERE {KEY_MATCH}",
                (text_or_none(label), *key_params(key)),
            ).rowcount
            if found:
                next_number(connection, ENTRIES)
            return bool(found)

        return self._write(work)

    def find(self, job_id: str, *, prefix: bool = False) -> list[WatchKey]:
        """Keys watching this job id, at any endpoint or project, in added order.

        With `prefix=True`, keys whose job id starts with `job_id` (a short id as shown).
        """
        if prefix:
            where, params = "substr(job_id, 1, ?) = ?", (len(job_id), job_id)
        else:
            where, params = "job_id = ?", (job_id,)
        rows = self._read(
            lambda c: c.execute(
                f"SELECT endpoint, project_id, job_id, service FROM entries WHERE {where}"
                " ORDER BY id",
                params,
            ).fetchall()
        )
        return [WatchKey(*row) for row in rows]

    # -- snapshots ---------------------------------------------------------------------

    def record(self, update: PollUpdate) -> None:
        """Keep what one fetch produced (`jobdash.store.snapshots.record_update`)."""
        self.record_many((update,))

    def record_many(self, updates: Iterable[PollUpdate]) -> None:
        """Keep what a batch of fetches produced, in one transaction.

        An update holding a value the database cannot take is left out: the others are
        written one by one, then `RecordError` names the jobs left out, so that the caller
        can drop those updates rather than retry them forever.
        """
        batch = list(updates)
        if not batch:
            return
        try:
            self._write(lambda c: record_updates(c, batch))
            return
        except BAD_VALUE_ERRORS as exc:
            if len(batch) == 1:
                raise self._cannot_save(batch, exc) from exc
        refused: list[PollUpdate] = []
        last: BaseException | None = None
        for update in batch:
            try:
                self._write(lambda c, u=update: record_updates(c, (u,)))
            except BAD_VALUE_ERRORS as exc:
                refused.append(update)
                last = exc
        if refused and last is not None:
            raise self._cannot_save(refused, last)

    def _cannot_save(self, refused: list[PollUpdate], exc: BaseException) -> RecordError:
        jobs = ", ".join(one_line(update.key.job_id, 64) for update in refused[:5])
        return RecordError(
            f"cannot save the update of job {jobs} to {self.path} ({failure_reason(exc)})",
            path=self.path,
        )

    def snapshot(self, key: WatchKey) -> Snapshot | None:
        """The last snapshot of an entry; None if it is not watched or was never fetched."""
        return self._read(lambda c: load_snapshot(c, key))

    def snapshots(self) -> dict[WatchKey, Snapshot]:
        """The snapshot of every entry that has one, in added order."""
        return self._read(load_snapshots)

    # -- beside the watchlist ----------------------------------------------------------

    def record_server(self, info: ServerInfo) -> None:
        self._write(lambda c: save_server(c, info, next_number(c, CHANGES)))

    def servers(self) -> list[ServerInfo]:
        return self._read(load_servers)

    def record_finished(self, job: Job) -> None:
        """Add a job that has ended to the history (without watching it)."""
        self._write(lambda c: save_finished(c, job))

    def finished_jobs(self) -> list[FinishedJob]:
        return self._read(load_finished)

    def preference(self, name: str) -> str | None:
        return self._read(lambda c: load_preference(c, name))

    def set_preference(self, name: str, value: str) -> None:
        self._write(lambda c: save_preference(c, name, value))

    # -- other processes ---------------------------------------------------------------

    def change_number(self) -> int:
        """The number of the last snapshot or server write: followers read what came after."""
        return self._read(lambda c: counter(c, CHANGES))

    def entries_number(self) -> int:
        """Moves on whenever any process adds, removes or labels an entry."""
        return self._read(lambda c: counter(c, ENTRIES))

    def snapshot_changes(self, since: int) -> list[SnapshotChange]:
        return self._read(lambda c: snapshot_changes(c, since))

    def server_changes(self, since: int) -> list[ServerInfo]:
        return self._read(lambda c: load_servers(c, since))

    def take_lease(
        self, me: Holder, now: float, period: float, endpoints: str | None = None
    ) -> Lease:
        """Take or renew the polling lease; see `jobdash.store.sharing.take_lease`."""
        return self._write(lambda c: take_lease(c, me, now, period, endpoints))

    def read_lease(self, now: float) -> Lease:
        return self._read(lambda c: read_lease(c, now))

    def release_lease(self, me: Holder) -> None:
        self._write(lambda c: release_lease(c, me))

    def ask_refresh(self, keys: Iterable[WatchKey] | None, now: float) -> None:
        wanted = None if keys is None else list(keys)
        self._write(lambda c: ask_refresh(c, wanted, now))

    def take_refresh_requests(self) -> list[WatchKey | None]:
        return self._write(take_refresh_requests)

    def has_changed(self) -> bool:
        """True if another connection (or process) committed since the last call.

        Cheap: SQLite answers from shared memory without reading any table. This
        connection's own writes do not count.
        """
        with self._lock:
            self._check_open()
            version = self._read_data_version()
            changed = version != self._data_version
            self._data_version = version
            return changed
