"""What lets one process poll for every jobdash on a watchlist: the lease that says who
polls, the change numbers followers read by, and the refresh requests they send.

Plain functions of an open connection; `Store` runs them in its transactions. Times of the
lease are wall-clock seconds (Unix time): processes share no other clock.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from jobdash.store.codec import snapshot_from_row
from jobdash.watch.values import Snapshot, WatchKey

#: The counter every snapshot or server write takes its number from.
CHANGES = "changes"
#: The counter additions, removals and labels of entries move.
ENTRIES = "entries"


@dataclass(frozen=True, slots=True)
class Holder:
    """A process that may poll: a random id for this run of it, and where it runs."""

    id: str
    host: str
    pid: int

    @property
    def label(self) -> str:
        return f"{self.host}:{self.pid}"


@dataclass(frozen=True, slots=True)
class Lease:
    """Who polls now (None: nobody, or a holder whose lease ran out or who has died)."""

    holder: Holder | None
    expires_at: float = 0.0
    #: The poller's endpoint states as it last published them (JSON), for followers.
    endpoints: str | None = None


@dataclass(frozen=True, slots=True)
class SnapshotChange:
    """A snapshot written since a follower last looked. `body_changed` False: the answer
    is the one the follower has (`snapshot.job` is then None, not read again)."""

    snapshot: Snapshot
    body_changed: bool
    seq: int
    #: Seconds the endpoint's clock was ahead of the poller's at that answer (None: unknown).
    clock_offset: float | None = None


def holder_alive(holder: Holder) -> bool:
    """False only when the holder certainly is gone: a process of this host that no longer
    exists. Another host's process cannot be checked; its lease has to run out."""
    if holder.host != socket.gethostname():
        return True
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: alive
    return True


def _current(
    connection: sqlite3.Connection, now: float, alive: Callable[[Holder], bool]
) -> tuple[Lease, bool]:
    """The lease as stored, and whether it still binds (not run out, holder alive)."""
    row = connection.execute(
        "SELECT holder, host, pid, expires_at, endpoints FROM poll_lease WHERE id = 1"
    ).fetchone()
    if row is None:
        return Lease(None), False
    holder_id, host, pid, expires_at, endpoints = row
    holder = Holder(holder_id, host, pid)
    binding = expires_at > now and alive(holder)
    return Lease(holder, expires_at, endpoints), binding


def read_lease(
    connection: sqlite3.Connection, now: float, alive: Callable[[Holder], bool] = holder_alive
) -> Lease:
    lease, binding = _current(connection, now, alive)
    return lease if binding else Lease(None)


def take_lease(
    connection: sqlite3.Connection,
    me: Holder,
    now: float,
    period: float,
    endpoints: str | None = None,
    alive: Callable[[Holder], bool] = holder_alive,
) -> Lease:
    """Take the lease, or renew it when `me` holds it; a lease someone else holds that
    still binds is left alone and returned. Run in a write transaction."""
    lease, binding = _current(connection, now, alive)
    if binding and lease.holder is not None and lease.holder.id != me.id:
        return lease
    expires_at = now + period
    connection.execute(
        "INSERT INTO poll_lease (id, holder, host, pid, expires_at, period, endpoints)"
        " VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET holder = excluded.holder,"
        " host = excluded.host, pid = excluded.pid, expires_at = excluded.expires_at,"
        " period = excluded.period, endpoints = excluded.endpoints",
        (me.id, me.host, me.pid, expires_at, period, endpoints),
    )
    return Lease(me, expires_at, endpoints)


def release_lease(connection: sqlite3.Connection, me: Holder) -> None:
    connection.execute("DELETE FROM poll_lease WHERE holder = ?", (me.id,))


# -- change numbers ------------------------------------------------------------------------


def next_number(connection: sqlite3.Connection, counter: str) -> int:
    """Move a counter on by one and return it (within the caller's write transaction)."""
    row = connection.execute(
        "UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value", (counter,)
    ).fetchone()
    return int(row[0])


def counter(connection: sqlite3.Connection, name: str) -> int:
    row = connection.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
    return int(row[0]) if row is not None else 0


def snapshot_changes(connection: sqlite3.Connection, since: int) -> list[SnapshotChange]:
    """Snapshots written after change number `since`, oldest first; the answer's bytes are
    read only where they changed after it."""
    rows = connection.execute(
        "SELECT e.endpoint, e.project_id, e.job_id, e.service,"
        " CASE WHEN s.body_seq > :since THEN s.raw_json END, s.fetched_at, s.expired,"
        " s.error_kind, s.error_message, s.body_seq > :since, s.seq, s.clock_offset"
        " FROM snapshots s JOIN entries e ON e.id = s.entry_id WHERE s.seq > :since"
        " ORDER BY s.seq",
        {"since": since},
    ).fetchall()
    return [
        SnapshotChange(snapshot_from_row(row[:9]), bool(row[9]), row[10], row[11]) for row in rows
    ]


# -- refresh requests ----------------------------------------------------------------------


def ask_refresh(
    connection: sqlite3.Connection, keys: Iterable[WatchKey] | None, now: float
) -> None:
    """Ask the polling process to fetch `keys` (None: every entry) ahead of its schedule."""
    if keys is None:
        connection.execute("INSERT INTO refresh_requests (asked_at) VALUES (?)", (now,))
        return
    connection.executemany(
        "INSERT INTO refresh_requests (endpoint, project_id, job_id, asked_at) VALUES (?, ?, ?, ?)",
        [(key.endpoint, key.project_id, key.job_id, now) for key in keys],
    )


def take_refresh_requests(connection: sqlite3.Connection) -> list[WatchKey | None]:
    """The refreshes asked for, oldest first (None: every entry), removed as they are read.
    A request for a job no longer watched is dropped."""
    rows = connection.execute(
        "SELECT r.endpoint, e.endpoint, e.project_id, e.job_id, e.service"
        " FROM refresh_requests r LEFT JOIN entries e ON e.endpoint = r.endpoint"
        " AND e.project_id = r.project_id AND e.job_id = r.job_id ORDER BY r.id"
    ).fetchall()
    if not rows:
        return []
    connection.execute("DELETE FROM refresh_requests")
    wanted: list[WatchKey | None] = []
    for asked_endpoint, endpoint, project_id, job_id, service in rows:
        if asked_endpoint is None:
            wanted.append(None)
        elif endpoint is not None:
            wanted.append(WatchKey(endpoint, project_id, job_id, service))
    return wanted
