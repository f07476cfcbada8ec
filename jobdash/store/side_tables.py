"""The tables beside the watchlist: servers (and other services' resources) fetched for
failures, history, preferences.

The history holds finished jobs (durations, error codes); preferences are remembered
choices. Plain functions of an open connection; `Store` runs them in its transactions.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from jobdash.api.model import Job
from jobdash.api.server import Server, ServerInfo, parse_server, resource_as_server
from jobdash.services.resources import read_kind
from jobdash.store.codec import job_from_stored, parse_time_text, time_text
from jobdash.text.jsonsafe import clean_json
from jobdash.watch.history import FinishedJob, finished_job


def save_server(connection: sqlite3.Connection, info: ServerInfo, seq: int = 0) -> None:
    """Keep a fetched server (or resource); `seq` is the change number followers read by."""
    raw = (
        json.dumps(clean_json(dict(info.server.raw)), separators=(",", ":"))
        if info.server is not None
        else None
    )
    connection.execute(
        "INSERT INTO servers (endpoint, project_id, server_id, raw_json, gone, fetched_at,"
        " for_sub_job, kind, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (endpoint,"
        " project_id, server_id) DO UPDATE SET raw_json = excluded.raw_json,"
        " gone = excluded.gone, fetched_at = excluded.fetched_at,"
        " for_sub_job = excluded.for_sub_job, kind = excluded.kind, seq = excluded.seq",
        (
            info.endpoint,
            info.project_id,
            info.server_id,
            raw,
            int(info.gone),
            time_text(info.fetched_at),
            info.for_sub_job,
            info.kind,
            seq,
        ),
    )


def _stored(kind: str, data: Any, server_id: str) -> Server | None:
    """A stored answer read again: a server's as ECS's, another resource's by its kind."""
    if kind == "server":
        return parse_server(data, server_id)
    read = read_kind(kind, data)
    if read is None:
        return None
    return resource_as_server(server_id, read.name, read.status, read.message, data)


def load_servers(connection: sqlite3.Connection, since: int | None = None) -> list[ServerInfo]:
    """Every stored server, or with `since` those written after that change number."""
    where, params = ("WHERE seq > ?", (since,)) if since is not None else ("", ())
    rows = connection.execute(
        "SELECT endpoint, project_id, server_id, raw_json, gone, fetched_at, for_sub_job,"
        f" kind FROM servers {where} ORDER BY fetched_at",
        params,
    ).fetchall()
    found = []
    for endpoint, project_id, server_id, raw, gone, fetched_at, for_sub_job, kind in rows:
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        at = parse_time_text(fetched_at)
        if at is None:
            continue
        server = _stored(kind, data, server_id) if data is not None and not gone else None
        found.append(
            ServerInfo(endpoint, project_id, server_id, at, server, bool(gone), for_sub_job, kind)
        )
    return found


def save_finished(connection: sqlite3.Connection, job: Job) -> None:
    """Keep a job that has ended in the history (once; later snapshots change nothing)."""
    record = finished_job(job)
    if record is None:
        return
    connection.execute(
        "INSERT INTO finished_jobs (job_id, job_type, sub_jobs_total, status, duration,"
        " longest_gap, error_codes, end_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (job_id) DO NOTHING",
        (
            record.job_id,
            record.job_type,
            record.sub_jobs_total,
            record.status,
            record.duration,
            record.longest_gap,
            json.dumps(list(record.error_codes)),
            time_text(record.end_time) if record.end_time else None,
        ),
    )


def load_finished(connection: sqlite3.Connection) -> list[FinishedJob]:
    rows = connection.execute(
        "SELECT job_id, job_type, sub_jobs_total, status, duration, longest_gap, error_codes,"
        " end_time FROM finished_jobs ORDER BY end_time"
    ).fetchall()
    records = []
    for job_id, job_type, total, status, duration, gap, codes, end_time in rows:
        try:
            code_list = tuple(str(code) for code in json.loads(codes))
        except (ValueError, TypeError):
            code_list = ()
        records.append(
            FinishedJob(
                job_id,
                job_type,
                int(total),
                status,
                float(duration),
                float(gap),
                code_list,
                parse_time_text(end_time),
            )
        )
    return records


def backfill_finished(connection: sqlite3.Connection) -> None:
    """History from the terminal snapshots a database already holds (schema step 2)."""
    for (raw,) in connection.execute(
        "SELECT raw_json FROM snapshots WHERE raw_json IS NOT NULL"
    ).fetchall():
        job = job_from_stored(raw)
        if job is not None:
            save_finished(connection, job)


def load_preference(connection: sqlite3.Connection, name: str) -> str | None:
    row = connection.execute("SELECT value FROM preferences WHERE name = ?", (name,)).fetchone()
    return row[0] if row is not None else None


def save_preference(connection: sqlite3.Connection, name: str, value: str) -> None:
    connection.execute(
        "INSERT INTO preferences (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, value),
    )
