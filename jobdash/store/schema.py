"""The watchlist schema and the steps that bring an older database up to date.

`PRAGMA user_version` holds how many steps of `MIGRATIONS` a file has had. A new step is
appended to the list (never edit a released one); opening an older file applies the missing
steps in order, in one transaction. A file with a higher version than `SCHEMA_VERSION` was
written by a newer jobdash and is refused, untouched.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from jobdash.store.side_tables import backfill_finished
from jobdash.store.sqlite import StoreError, Transactions

Migration = Callable[[sqlite3.Connection], None]

#: Marks the file as a jobdash watchlist (`PRAGMA application_id`), ASCII "JbDs".
APPLICATION_ID = 0x4A624473


def _statements(*sql: str) -> Migration:
    def apply(connection: sqlite3.Connection) -> None:
        for statement in sql:
            connection.execute(statement)

    return apply


def _then(first: Migration, second: Migration) -> Migration:
    def apply(connection: sqlite3.Connection) -> None:
        first(connection)
        second(connection)

    return apply


MIGRATIONS: tuple[Migration, ...] = (
    # 1: entries, the latest snapshot of each, and status transitions.
    _statements(
        """
        CREATE TABLE entries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            endpoint TEXT NOT NULL,
            project_id TEXT NOT NULL,
            job_id TEXT NOT NULL,
            label TEXT,
            profile TEXT,
            added_at TEXT NOT NULL,
            UNIQUE (endpoint, project_id, job_id)
        )
        """,
        "CREATE INDEX entries_by_job_id ON entries (job_id)",
        """
        CREATE TABLE snapshots (
            entry_id INTEGER PRIMARY KEY REFERENCES entries (id) ON DELETE CASCADE,
            -- The job body exactly as last fetched (JSON text), NULL until one arrives.
            raw_json TEXT,
            -- The job's status, and {"": job status, sub-job id: status} as JSON,
            -- so that diffing and finding finished jobs needs no parsing of raw_json.
            status TEXT,
            statuses TEXT,
            fetched_at TEXT,
            expired INTEGER NOT NULL DEFAULT 0,
            error_kind TEXT,
            error_message TEXT,
            error_at TEXT
        )
        """,
        """
        CREATE TABLE transitions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            entry_id INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
            -- NULL for the job itself.
            sub_job_id TEXT,
            old_status TEXT,
            new_status TEXT NOT NULL,
            at TEXT NOT NULL
        )
        """,
        "CREATE INDEX transitions_by_entry ON transitions (entry_id, id)",
    ),
    # 2: the connection each entry was added with, beside `profile` (the cloud's name):
    # how it authenticated, its region and project name. Never a secret.
    _statements(
        "ALTER TABLE entries ADD COLUMN auth_method TEXT",
        "ALTER TABLE entries ADD COLUMN region TEXT",
        "ALTER TABLE entries ADD COLUMN project_name TEXT",
    ),
    # 3: the servers behind sub-jobs, and the history of finished jobs (ETA, stall alarms,
    # `jobdash history`); neither is tied to an entry, so both outlive `rm`.
    _then(
        _statements(
            """
        CREATE TABLE servers (
            endpoint TEXT NOT NULL,
            project_id TEXT NOT NULL,
            server_id TEXT NOT NULL,
            -- The server object as fetched (JSON text); NULL when it was gone (404).
            raw_json TEXT,
            gone INTEGER NOT NULL DEFAULT 0,
            fetched_at TEXT NOT NULL,
            -- The failed sub-job the fetch was made for; NULL when the user asked.
            for_sub_job TEXT,
            PRIMARY KEY (endpoint, project_id, server_id)
        )
        """,
            """
        CREATE TABLE finished_jobs (
            job_id TEXT PRIMARY KEY,
            job_type TEXT NOT NULL,
            sub_jobs_total INTEGER NOT NULL,
            status TEXT NOT NULL,
            duration REAL NOT NULL,
            longest_gap REAL NOT NULL,
            -- The failed sub-jobs' error codes, a JSON list.
            error_codes TEXT NOT NULL,
            end_time TEXT
        )
        """,
            "CREATE INDEX finished_jobs_by_type ON finished_jobs (job_type)",
            # The dashboard's remembered choices (the sort order), by name.
            "CREATE TABLE preferences (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ),
        backfill_finished,
    ),
    # 4: snapshots hold the answer's bytes as they arrived (a BLOB in `raw_json`; older
    # rows keep their JSON text). Changes are found by the poller and carried in its
    # updates, so the per-sub-job status map and the transitions table, which nothing
    # read back, go.
    _statements(
        "DROP TABLE transitions",
        "ALTER TABLE snapshots DROP COLUMN statuses",
    ),
    # 5: the service whose job API an entry's job belongs to (ECS for every older entry).
    _statements("ALTER TABLE entries ADD COLUMN service TEXT NOT NULL DEFAULT 'ecs'"),
    # 6: what a fetched resource is: `server` (ECS, every older row), or another service's
    # `volume`, `image`, `node`, `cluster`, `instance`, whose stored answer reads by it.
    _statements("ALTER TABLE servers ADD COLUMN kind TEXT NOT NULL DEFAULT 'server'"),
    # 7: one poller per watchlist. The lease says which process polls; the others follow
    # the database: every write of a snapshot or server carries the next number of the
    # `changes` counter (`seq`; `body_seq` when the answer itself changed), so a follower
    # reads only what changed since it last looked. `entries` counts additions, removals
    # and labels; followers ask the poller for refreshes through `refresh_requests`.
    _statements(
        "ALTER TABLE snapshots ADD COLUMN seq INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE snapshots ADD COLUMN body_seq INTEGER NOT NULL DEFAULT 0",
        # How far the endpoint's clock was ahead of the poller's at the last answer, so a
        # follower shows running times against the cloud's clock as the poller does.
        "ALTER TABLE snapshots ADD COLUMN clock_offset REAL",
        "CREATE INDEX snapshots_by_seq ON snapshots (seq)",
        "ALTER TABLE servers ADD COLUMN seq INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX servers_by_seq ON servers (seq)",
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT INTO counters (name, value) VALUES ('changes', 0), ('entries', 0)",
        """
        CREATE TABLE poll_lease (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            -- A random id of the polling process's run, with its host and pid to show.
            holder TEXT NOT NULL,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            -- Wall-clock seconds (Unix time): the lease is free from then on.
            expires_at REAL NOT NULL,
            period REAL NOT NULL,
            -- The poller's view of each endpoint (rate, throttling), JSON, for followers.
            endpoints TEXT
        )
        """,
        """
        CREATE TABLE refresh_requests (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            -- NULL endpoint: refresh every entry.
            endpoint TEXT,
            project_id TEXT,
            job_id TEXT,
            asked_at REAL NOT NULL
        )
        """,
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


def _header(connection: sqlite3.Connection) -> tuple[int, int, bool]:
    """(user_version, application_id, whether the file holds any table at all)."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    application_id = connection.execute("PRAGMA application_id").fetchone()[0]
    has_tables = (
        connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' LIMIT 1"
        ).fetchone()
        is not None
    )
    return version, application_id, has_tables


def _check(path: Path, version: int, application_id: int, has_tables: bool) -> None:
    if application_id not in (0, APPLICATION_ID) or (version == 0 and has_tables):
        raise StoreError(
            f"{path} is an SQLite database, but not a jobdash watchlist; jobdash leaves it "
            "untouched: move it aside or point jobdash at another file",
            path=path,
        )
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the watchlist database {path} was written by a newer jobdash (schema version "
            f"{version}; this jobdash knows up to {SCHEMA_VERSION}); upgrade jobdash, or move "
            "the file aside and run again to start a new watchlist",
            path=path,
        )


def needs_migration(transactions: Transactions) -> bool:
    """Check the file is ours and not too new; True when steps are missing.

    This is the first read of the file, so a file that is not a database fails here.
    """
    version, application_id, has_tables = transactions.read(_header)
    _check(transactions.path, version, application_id, has_tables)
    return version < SCHEMA_VERSION


def migrate(transactions: Transactions) -> None:
    """Apply the missing steps, in one write transaction (another process may race us)."""

    def apply(connection: sqlite3.Connection) -> None:
        version, application_id, has_tables = _header(connection)
        _check(transactions.path, version, application_id, has_tables)
        if version == SCHEMA_VERSION:
            return  # another process finished the same migration first
        for step in MIGRATIONS[version:]:
            step(connection)
        # Pragmas take no parameters; both values are integers from this module.
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")

    transactions.write(apply)
