"""`Store`: the persistent watchlist, shared safely by every jobdash process of a user."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from jobdash.api.model import TERMINAL_STATUSES
from jobdash.paths import database_file
from jobdash.store import extra, schema
from jobdash.store.codec import (
    BAD_VALUE_ERRORS,
    MAX_ERROR_MESSAGE,
    AddResult,
    StatusMap,
    Transition,
    failure_reason,
    job_json,
    parse_time_text,
    snapshot_from_row,
    text_or_none,
    time_text,
)
from jobdash.store.sqlite import (
    RecordError,
    StoreError,
    Transactions,
    connect,
    ensure_directory,
)
from jobdash.textsafe import one_line, without_surrogates
from jobdash.watch import PollUpdate, Snapshot, WatchEntry, WatchKey

T = TypeVar("T")

_KEY_MATCH = "endpoint = ? AND project_id = ? AND job_id = ?"
_SNAPSHOT_COLUMNS = (
    "e.endpoint, e.project_id, e.job_id, s.raw_json, s.fetched_at, s.expired, "
    "s.error_kind, s.error_message"
)


def _key_params(key: WatchKey) -> tuple[str, str, str]:
    return (key.endpoint, key.project_id, key.job_id)


class Store(extra.ExtraRows):
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
        needs_migration = schema.needs_migration(self._transactions)
        plain(lambda c: c.execute("PRAGMA journal_mode = WAL").fetchone())
        # In WAL mode NORMAL loses no committed transaction when a process dies.
        plain(lambda c: c.execute("PRAGMA synchronous = NORMAL"))
        if needs_migration:
            schema.migrate(self._transactions)

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
                *_key_params(e.key),
                text_or_none(e.label),
                e.profile,
                time_text(e.added_at or now),
                e.auth_method,
                text_or_none(e.region),
                text_or_none(e.project_name),
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
                    " auth_method, region, project_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (endpoint, project_id, job_id) DO NOTHING",
                    values,
                )
                (added if cursor.rowcount == 1 else duplicates).append(key)
            return AddResult(added, duplicates)

        return self._write(work)

    def remove(self, keys: Iterable[WatchKey]) -> list[WatchKey]:
        """Remove entries with their snapshots and transitions; returns those that existed."""
        wanted = list(dict.fromkeys(keys))

        def work(connection: sqlite3.Connection) -> list[WatchKey]:
            return [
                key
                for key in wanted
                if connection.execute(
                    f"DELETE FROM entries WHERE {_KEY_MATCH}", _key_params(key)
                ).rowcount
            ]

        return self._write(work)

    def remove_finished(self, within: Iterable[WatchKey] | None = None) -> list[WatchKey]:
        """Remove entries whose last snapshot is terminal (SUCCESS/FAIL) or expired; with
        `within`, only among those keys (one connection's entries)."""
        allowed = None if within is None else set(within)
        terminal = sorted(str(status) for status in TERMINAL_STATUSES)
        marks = ", ".join("?" for _ in terminal)

        def work(connection: sqlite3.Connection) -> list[WatchKey]:
            rows = connection.execute(
                "SELECT e.id, e.endpoint, e.project_id, e.job_id"
                " FROM entries e JOIN snapshots s ON s.entry_id = e.id"
                f" WHERE s.expired = 1 OR s.status IN ({marks}) ORDER BY e.id",
                terminal,
            ).fetchall()
            if allowed is not None:
                rows = [row for row in rows if WatchKey(*row[1:]) in allowed]
            connection.executemany("DELETE FROM entries WHERE id = ?", [(row[0],) for row in rows])
            return [WatchKey(*row[1:]) for row in rows]

        return self._write(work)

    def entries(self) -> list[WatchEntry]:
        """Every entry, in the order they were added."""

        def work(connection: sqlite3.Connection) -> list[WatchEntry]:
            rows = connection.execute(
                "SELECT endpoint, project_id, job_id, label, profile, added_at, auth_method,"
                " region, project_name FROM entries ORDER BY id"
            ).fetchall()
            return [
                WatchEntry(
                    key=WatchKey(endpoint, project_id, job_id),
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
        return bool(
            self._write(
                lambda c: (
                    c.execute(
                        f"UPDATE entries SET label = ? WHERE {_KEY_MATCH}",
                        (text_or_none(label), *_key_params(key)),
                    ).rowcount
                )
            )
        )

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
                f"SELECT endpoint, project_id, job_id FROM entries WHERE {where} ORDER BY id",
                params,
            ).fetchall()
        )
        return [WatchKey(*row) for row in rows]

    # -- snapshots and transitions -----------------------------------------------------

    def record(self, update: PollUpdate) -> list[Transition]:
        """Keep what one fetch produced, in one transaction; returns the transitions seen.

        A job replaces the snapshot (diffed against it for transitions) and clears any error
        or expiry. An error is kept beside the snapshot, which stays. `expired` marks the
        entry, keeping its last snapshot. An update for a key that is not watched (any more)
        is ignored, and so is one older than the stored snapshot.
        """
        key = update.key
        at = time_text(update.fetched_at)

        def work(connection: sqlite3.Connection) -> list[Transition]:
            found = connection.execute(
                f"SELECT id FROM entries WHERE {_KEY_MATCH}", _key_params(key)
            ).fetchone()
            if found is None:
                return []
            entry_id = found[0]
            stored = connection.execute(
                "SELECT raw_json, statuses, fetched_at FROM snapshots WHERE entry_id = ?",
                (entry_id,),
            ).fetchone()
            stored_at = parse_time_text(stored[2]) if stored is not None else None
            if stored_at is not None and stored_at > update.fetched_at:
                return []  # another poller already stored something newer
            if update.expired:
                connection.execute(
                    "INSERT INTO snapshots (entry_id, expired) VALUES (?, 1) ON CONFLICT (entry_id)"
                    " DO UPDATE SET expired = 1, error_kind = NULL, error_message = NULL, error_at = NULL",
                    (entry_id,),
                )
                return []
            if update.error is not None:
                connection.execute(
                    "INSERT INTO snapshots (entry_id, error_kind, error_message, error_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (entry_id) DO UPDATE SET"
                    " error_kind = excluded.error_kind, error_message = excluded.error_message,"
                    " error_at = excluded.error_at",
                    (
                        entry_id,
                        str(update.error.kind),
                        without_surrogates(update.error.message[:MAX_ERROR_MESSAGE]),
                        at,
                    ),
                )
                return []
            if update.job is None:
                return []
            return self._store_job(connection, entry_id, update, at, stored)

        try:
            return self._write(work)
        except BAD_VALUE_ERRORS as exc:
            raise RecordError(
                f"cannot save the update of job {one_line(key.job_id, 64)} to {self.path} "
                f"({failure_reason(exc)})",
                path=self.path,
            ) from exc

    def _store_job(
        self,
        connection: sqlite3.Connection,
        entry_id: int,
        update: PollUpdate,
        at: str,
        stored: tuple[str | None, str | None, str | None] | None,
    ) -> list[Transition]:
        assert update.job is not None
        raw_json = job_json(update.job)
        if stored is not None and stored[0] == raw_json:
            # Nothing changed: only note when it was seen, not another copy of the body.
            connection.execute(
                "UPDATE snapshots SET fetched_at = ?, expired = 0, error_kind = NULL,"
                " error_message = NULL, error_at = NULL WHERE entry_id = ?",
                (at, entry_id),
            )
            return []
        statuses = StatusMap.of(update.job)
        if update.job.is_terminal:
            extra.save_finished(connection, update.job)
        before = StatusMap.from_json(stored[1]) if stored is not None else None
        changes = statuses.changes_from(before)
        connection.execute(
            "INSERT INTO snapshots (entry_id, raw_json, status, statuses, fetched_at, expired,"
            " error_kind, error_message, error_at) VALUES (?, ?, ?, ?, ?, 0, NULL, NULL, NULL)"
            " ON CONFLICT (entry_id) DO UPDATE SET raw_json = excluded.raw_json,"
            " status = excluded.status, statuses = excluded.statuses,"
            " fetched_at = excluded.fetched_at, expired = 0, error_kind = NULL,"
            " error_message = NULL, error_at = NULL",
            (entry_id, raw_json, statuses.job, statuses.to_json(), at),
        )
        connection.executemany(
            "INSERT INTO transitions (entry_id, sub_job_id, old_status, new_status, at)"
            " VALUES (?, ?, ?, ?, ?)",
            [(entry_id, sub_job_id, old, new, at) for sub_job_id, old, new in changes],
        )
        return [
            Transition(update.key.job_id, sub_job_id, old, new, update.fetched_at)
            for sub_job_id, old, new in changes
        ]

    def snapshot(self, key: WatchKey) -> Snapshot | None:
        """The last snapshot of an entry; None if it is not watched or was never fetched."""
        row = self._read(
            lambda c: c.execute(
                f"SELECT {_SNAPSHOT_COLUMNS} FROM entries e JOIN snapshots s ON s.entry_id = e.id"
                " WHERE e.endpoint = ? AND e.project_id = ? AND e.job_id = ?",
                _key_params(key),
            ).fetchone()
        )
        return snapshot_from_row(row) if row is not None else None

    def snapshots(self) -> dict[WatchKey, Snapshot]:
        """The snapshot of every entry that has one, in added order."""
        rows = self._read(
            lambda c: c.execute(
                f"SELECT {_SNAPSHOT_COLUMNS} FROM entries e JOIN snapshots s ON s.entry_id = e.id"
                " ORDER BY e.id"
            ).fetchall()
        )
        return {snapshot.key: snapshot for snapshot in map(snapshot_from_row, rows)}

    def transitions(self, key: WatchKey) -> list[Transition]:
        """Every status transition of the job and its sub-jobs, oldest first."""
        rows = self._read(
            lambda c: c.execute(
                "SELECT t.sub_job_id, t.old_status, t.new_status, t.at"
                " FROM transitions t JOIN entries e ON e.id = t.entry_id"
                " WHERE e.endpoint = ? AND e.project_id = ? AND e.job_id = ? ORDER BY t.id",
                _key_params(key),
            ).fetchall()
        )
        return [
            Transition(
                key.job_id,
                sub_job_id,
                old,
                new,
                parse_time_text(at) or datetime.min.replace(tzinfo=UTC),
            )
            for sub_job_id, old, new, at in rows
        ]

    # -- other processes ---------------------------------------------------------------

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
