"""Snapshots and transitions: the last answer for each watched job, its status changes.

`record` folds one poll update into the stored snapshot in one transaction and notes the
transitions; the rest reads them back. `Store` inherits these methods.
"""

from __future__ import annotations

import contextlib
import gc
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

from jobdash.store.codec import (
    BAD_VALUE_ERRORS,
    KEY_MATCH,
    MAX_ERROR_MESSAGE,
    StatusMap,
    failure_reason,
    job_json,
    key_params,
    parse_time_text,
    snapshot_from_row,
    time_text,
)
from jobdash.store.side_tables import save_finished
from jobdash.store.sqlite import RecordError, UsesTransactions
from jobdash.text.safe import one_line, without_surrogates
from jobdash.watch.values import PollUpdate, Snapshot, Transition, WatchKey

_SNAPSHOT_COLUMNS = (
    "e.endpoint, e.project_id, e.job_id, s.raw_json, s.fetched_at, s.expired, "
    "s.error_kind, s.error_message"
)


class SnapshotRows(UsesTransactions):
    """`Store`'s calls for snapshots and transitions; the store provides its transactions."""

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
                f"SELECT id FROM entries WHERE {KEY_MATCH}", key_params(key)
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
            save_finished(connection, update.job)
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
                key_params(key),
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
        # Tens of thousands of acyclic objects at once: the cycle collector would walk the
        # growing heap again and again for nothing (a tenth of the dashboard's first frame).
        with paused_gc():
            return {snapshot.key: snapshot for snapshot in map(snapshot_from_row, rows)}

    def transitions(self, key: WatchKey) -> list[Transition]:
        """Every status transition of the job and its sub-jobs, oldest first."""
        rows = self._read(
            lambda c: c.execute(
                "SELECT t.sub_job_id, t.old_status, t.new_status, t.at"
                " FROM transitions t JOIN entries e ON e.id = t.entry_id"
                " WHERE e.endpoint = ? AND e.project_id = ? AND e.job_id = ? ORDER BY t.id",
                key_params(key),
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


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """The cycle collector off for a bulk load of acyclic data (refcounting still frees)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
