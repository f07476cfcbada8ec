"""Snapshots: the last answer for each watched job, kept as the bytes it arrived as.

Plain functions of an open connection; `Store` runs them in its transactions. A batch of
poll updates is written in one transaction. An answer the same as the last one only moves
"fetched at"; a changed one stores its bytes untouched (nothing is encoded again) and, when
the job has just ended, its record in the history.
"""

from __future__ import annotations

import contextlib
import gc
import sqlite3
from collections.abc import Iterable, Iterator

from jobdash.store.codec import (
    MAX_ERROR_MESSAGE,
    key_params,
    parse_time_text,
    snapshot_from_row,
    stored_body,
    time_text,
)
from jobdash.store.sharing import CHANGES, next_number
from jobdash.store.side_tables import save_finished
from jobdash.text.safe import without_surrogates
from jobdash.watch.values import PollUpdate, Snapshot, WatchKey

SNAPSHOT_COLUMNS = (
    "e.endpoint, e.project_id, e.job_id, e.service, s.raw_json, s.fetched_at, s.expired, "
    "s.error_kind, s.error_message"
)


def record_updates(connection: sqlite3.Connection, updates: Iterable[PollUpdate]) -> None:
    """Write what a batch of fetches produced, under one change number; see `record_update`."""
    seq = next_number(connection, CHANGES)
    for update in updates:
        record_update(connection, update, seq)


def record_update(connection: sqlite3.Connection, update: PollUpdate, seq: int) -> None:
    """Keep what one fetch produced.

    A job answer replaces the snapshot and clears any error or expiry; the same answer as
    before (`same_answer`) only notes when it was seen. An error is kept beside the
    snapshot, which stays. `expired` marks the entry, keeping its last snapshot. Every write
    carries change number `seq` (and `body_seq` too when the answer changed), which is how
    other processes following the watchlist find it. An update
    for a key that is not watched (any more) is ignored, and so is one older than the
    stored snapshot (another process stored something newer).
    """
    key = update.key
    found = connection.execute(
        "SELECT e.id, s.fetched_at FROM entries e LEFT JOIN snapshots s ON s.entry_id = e.id"
        " WHERE e.endpoint = ? AND e.project_id = ? AND e.job_id = ?",
        key_params(key),
    ).fetchone()
    if found is None:
        return
    entry_id, stored_at_text = found
    stored_at = parse_time_text(stored_at_text)
    if stored_at is not None and stored_at > update.fetched_at:
        return
    at = time_text(update.fetched_at)
    if update.expired:
        connection.execute(
            "INSERT INTO snapshots (entry_id, expired, seq) VALUES (?, 1, ?) ON CONFLICT"
            " (entry_id) DO UPDATE SET expired = 1, error_kind = NULL, error_message = NULL,"
            " error_at = NULL, seq = excluded.seq",
            (entry_id, seq),
        )
        return
    if update.error is not None:
        connection.execute(
            "INSERT INTO snapshots (entry_id, error_kind, error_message, error_at, seq)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (entry_id) DO UPDATE SET"
            " error_kind = excluded.error_kind, error_message = excluded.error_message,"
            " error_at = excluded.error_at, seq = excluded.seq",
            (
                entry_id,
                str(update.error.kind),
                without_surrogates(update.error.message[:MAX_ERROR_MESSAGE]),
                at,
                seq,
            ),
        )
        return
    job = update.job
    if job is None:
        return
    if update.same_answer and stored_at_text is not None:
        connection.execute(
            "UPDATE snapshots SET fetched_at = ?, expired = 0, error_kind = NULL,"
            " error_message = NULL, error_at = NULL, seq = ?, clock_offset = ?"
            " WHERE entry_id = ?",
            (at, seq, update.clock_offset, entry_id),
        )
        return
    if job.is_terminal:
        # A new answer of an ended job: the history keeps the first it sees of each job.
        save_finished(connection, job)
    connection.execute(
        "INSERT INTO snapshots (entry_id, raw_json, status, fetched_at, expired,"
        " error_kind, error_message, error_at, seq, body_seq, clock_offset)"
        " VALUES (?, ?, ?, ?, 0, NULL, NULL, NULL, ?, ?, ?)"
        " ON CONFLICT (entry_id) DO UPDATE SET raw_json = excluded.raw_json,"
        " status = excluded.status, fetched_at = excluded.fetched_at, expired = 0,"
        " error_kind = NULL, error_message = NULL, error_at = NULL, seq = excluded.seq,"
        " body_seq = excluded.body_seq, clock_offset = excluded.clock_offset",
        (entry_id, stored_body(job), job.status, at, seq, seq, update.clock_offset),
    )


def load_snapshot(connection: sqlite3.Connection, key: WatchKey) -> Snapshot | None:
    row = connection.execute(
        f"SELECT {SNAPSHOT_COLUMNS} FROM entries e JOIN snapshots s ON s.entry_id = e.id"
        " WHERE e.endpoint = ? AND e.project_id = ? AND e.job_id = ?",
        key_params(key),
    ).fetchone()
    return snapshot_from_row(row) if row is not None else None


def load_snapshots(connection: sqlite3.Connection) -> dict[WatchKey, Snapshot]:
    """The snapshot of every entry that has one, in added order."""
    rows = connection.execute(
        f"SELECT {SNAPSHOT_COLUMNS} FROM entries e JOIN snapshots s ON s.entry_id = e.id"
        " ORDER BY e.id"
    ).fetchall()
    # Tens of thousands of acyclic objects at once: the cycle collector would walk the
    # growing heap again and again for nothing (a tenth of the dashboard's first frame).
    with paused_gc():
        return {snapshot.key: snapshot for snapshot in map(snapshot_from_row, rows)}


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
