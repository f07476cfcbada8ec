"""Several processes sharing one watchlist file, as `jobdash add` beside a running dashboard."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jobdash.store.core import Store
from jobdash.watch.values import WatchEntry, WatchKey

ENDPOINT = "https://ecs.eu-de.example.test"
PROJECT = "proj-a"
WRITERS = 8
ENTRIES_PER_WRITER = 50
#: Generous upper bound for a child process; the tests finish in a few seconds.
CHILD_TIMEOUT = 60

PRELUDE = """
import sys, time
from datetime import UTC, datetime
from pathlib import Path
from jobdash.api.model import parse_job
from jobdash.store.core import Store
from jobdash.watch.values import PollUpdate, WatchEntry, WatchKey
ENDPOINT, PROJECT = "https://ecs.eu-de.example.test", "proj-a"
"""

# Adds 50 distinct entries in transactions of 1 to 3 entries, reading the list in between.
WRITER = (
    PRELUDE
    + """
path, worker = Path(sys.argv[1]), int(sys.argv[2])
keys = [WatchKey(ENDPOINT, PROJECT, f"w{worker}-job{n:02d}") for n in range(50)]
added = 0
with Store(path) as store:
    position = 0
    while position < len(keys):
        size = 1 + position % 3
        batch = keys[position:position + size]
        added += len(store.add([WatchEntry(key, label=f"worker {worker}") for key in batch]).added)
        store.entries()
        position += size
print(added)
"""
)

# Records a snapshot of every entry, over and over, until told to stop; then one last pass.
RECORDER = (
    PRELUDE
    + """
path, ready, stop = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
statuses = ["INIT", "RUNNING", "SUCCESS"]
records = 0
with Store(path) as store:
    ready.write_text("ready")
    round_number = 0
    while True:
        last_round = stop.exists()
        for entry in store.entries():
            body = {
                "job_id": entry.key.job_id,
                "status": statuses[round_number % 3],
                "entities": {"sub_jobs": [{"job_id": "sub-1", "status": statuses[(round_number + 1) % 3]}]},
            }
            store.record(PollUpdate(entry.key, datetime.now(UTC), job=parse_job(body)))
            records += 1
        round_number += 1
        if last_round:
            break
print(records)
"""
)

# Commits 100 entries, then dies (SIGKILL from the test) in the middle of a big transaction.
KILLED_WRITER = (
    PRELUDE
    + """
path, marker = Path(sys.argv[1]), Path(sys.argv[2])
store = Store(path)
store.add([WatchEntry(WatchKey(ENDPOINT, PROJECT, f"committed-{n:03d}")) for n in range(100)])
body = {"job_id": "committed-000", "status": "RUNNING"}
store.record(PollUpdate(WatchKey(ENDPOINT, PROJECT, "committed-000"), datetime.now(UTC), job=parse_job(body)))
connection = store._transactions.connection
# A tiny page cache makes SQLite spill uncommitted pages into the WAL file mid-transaction.
connection.execute("PRAGMA cache_size = 4")
def pause_mid_transaction():
    if connection.in_transaction and connection.total_changes > 3000 and not marker.exists():
        marker.write_text("inside the transaction")
        time.sleep(600)
    return 0
connection.set_progress_handler(pause_mid_transaction, 500)
store.add(
    WatchEntry(WatchKey(ENDPOINT, PROJECT, f"uncommitted-{n:06d}"), label="x" * 300)
    for n in range(50_000)
)
print("finished without being killed")
"""
)

ONE_SHOT = (
    PRELUDE
    + """
path, action, job_id = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
key = WatchKey(ENDPOINT, PROJECT, job_id)
with Store(path) as store:
    if action == "add":
        print(len(store.add([WatchEntry(key)]).added))
    elif action == "remove":
        print(len(store.remove([key])))
    elif action == "record":
        store.record(PollUpdate(key, datetime.now(UTC), job=parse_job({"job_id": job_id, "status": "SUCCESS"})))
        print(1)
    elif action == "read":
        print(len(store.entries()))
"""
)


def start(script: str, *args: object, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=CHILD_TIMEOUT)
    assert process.returncode == 0, err
    return out.strip()


def wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + CHILD_TIMEOUT
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"child exited early: {process.communicate()[1]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"child never wrote {path.name}")
        time.sleep(0.01)


def integrity(path: Path) -> str:
    raw = sqlite3.connect(path)
    try:
        return raw.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        raw.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "watchlist.sqlite3"


def test_parallel_adds_while_a_watcher_records_lose_nothing(
    db_path: Path, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    ready, stop = tmp_path / "recorder-ready", tmp_path / "recorder-stop"
    recorder = start(RECORDER, db_path, ready, stop, env=subprocess_env)
    try:
        wait_for(ready, recorder)
        writers = [start(WRITER, db_path, worker, env=subprocess_env) for worker in range(WRITERS)]
        added = [finish(writer) for writer in writers]
    finally:
        stop.write_text("stop")
        records = int(finish(recorder))
    assert added == [str(ENTRIES_PER_WRITER)] * WRITERS
    assert integrity(db_path) == "ok"
    with Store(db_path) as store:
        entries = store.entries()
        snapshots = store.snapshots()
    expected = {f"w{w}-job{n:02d}" for w in range(WRITERS) for n in range(ENTRIES_PER_WRITER)}
    assert len(entries) == WRITERS * ENTRIES_PER_WRITER
    assert {entry.key.job_id for entry in entries} == expected
    # Each writer's own entries keep the order it added them in.
    for worker in range(WRITERS):
        mine = [e.key.job_id for e in entries if e.label == f"worker {worker}"]
        assert mine == sorted(mine) and len(mine) == ENTRIES_PER_WRITER
    # The recorder's last pass ran after every add had committed, so it saw them all.
    assert set(snapshots) == {entry.key for entry in entries}
    assert records >= WRITERS * ENTRIES_PER_WRITER


def test_processes_creating_a_new_database_at_once(
    db_path: Path, subprocess_env: dict[str, str]
) -> None:
    assert not db_path.parent.exists()
    children = [
        start(ONE_SHOT, db_path, "add", f"job-{n}", env=subprocess_env) for n in range(WRITERS)
    ]
    assert [finish(child) for child in children] == ["1"] * WRITERS
    assert integrity(db_path) == "ok"
    with Store(db_path) as store:
        assert sorted(e.key.job_id for e in store.entries()) == [f"job-{n}" for n in range(WRITERS)]


def test_writer_killed_mid_transaction_leaves_committed_data_intact(
    db_path: Path, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    marker = tmp_path / "inside-transaction"
    writer = start(KILLED_WRITER, db_path, marker, env=subprocess_env)
    try:
        wait_for(marker, writer)
        wal = db_path.with_name(db_path.name + "-wal")
        assert wal.stat().st_size > 100_000  # uncommitted pages really reached the disk
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.communicate(timeout=CHILD_TIMEOUT)
    assert writer.returncode == -signal.SIGKILL
    with Store(db_path, busy_timeout=2.0) as store:
        job_ids = [entry.key.job_id for entry in store.entries()]
        assert job_ids == [f"committed-{n:03d}" for n in range(100)]
        snapshot = store.snapshot(WatchKey(ENDPOINT, PROJECT, "committed-000"))
        assert (
            snapshot is not None and snapshot.job is not None and snapshot.job.status == "RUNNING"
        )
        # The lock the dead process held is gone: writing works at once.
        assert store.add([WatchEntry(WatchKey(ENDPOINT, PROJECT, "after"))]).added
    assert integrity(db_path) == "ok"


def test_has_changed_sees_other_processes_and_nothing_else(
    db_path: Path, subprocess_env: dict[str, str]
) -> None:
    def run(action: str, job_id: str) -> str:
        return finish(start(ONE_SHOT, db_path, action, job_id, env=subprocess_env))

    with Store(db_path) as store:
        assert store.has_changed() is False
        assert run("add", "other-1") == "1"
        assert store.has_changed() is True
        assert store.has_changed() is False  # reported once
        assert [e.key.job_id for e in store.entries()] == ["other-1"]
        assert run("read", "-") == "1"  # a reader commits nothing
        assert store.has_changed() is False
        store.add([WatchEntry(WatchKey(ENDPOINT, PROJECT, "mine"))])
        assert store.has_changed() is False  # its own writes are known already
        assert run("remove", "other-1") == "1"
        assert store.has_changed() is True
        assert [e.key.job_id for e in store.entries()] == ["mine"]
        assert run("record", "mine") == "1"
        assert store.has_changed() is True
        assert store.has_changed() is False


def test_has_changed_sees_another_connection_in_the_same_process(db_path: Path) -> None:
    with Store(db_path) as dashboard, Store(db_path) as cli:
        assert dashboard.has_changed() is False
        cli.add([WatchEntry(WatchKey(ENDPOINT, PROJECT, "j1"))])
        assert dashboard.has_changed() is True
        assert dashboard.has_changed() is False
        cli.remove([WatchKey(ENDPOINT, PROJECT, "nothing-there")])
        assert dashboard.has_changed() is False  # an empty delete still commits nothing visible
