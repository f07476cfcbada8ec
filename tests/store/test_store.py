"""The watchlist store against real SQLite files."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobdash.api.errors import NotFoundError, ServerError, ThrottledError
from jobdash.api.model import Job, parse_job, parse_job_text, raw_dict
from jobdash.config import paths
from jobdash.store import schema as store_schema
from jobdash.store.core import Store
from jobdash.store.schema import SCHEMA_VERSION
from jobdash.store.sqlite import StoreError
from jobdash.watch.values import PollUpdate, WatchEntry, WatchKey

ECS = "https://ecs.eu-de.example.test"
ECS_NL = "https://ecs.eu-nl.example.test"
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def key(job_id: str, project_id: str = "proj-a", endpoint: str = ECS) -> WatchKey:
    return WatchKey(endpoint, project_id, job_id)


def job(job_id: str, status: str, subs: dict[str, str] | None = None, **extra: object) -> Job:
    body: dict[str, object] = {"job_id": job_id, "status": status, **extra}
    if subs is not None:
        body["entities"] = {
            "sub_jobs": [
                {"job_id": sub_id, "status": sub_status} for sub_id, sub_status in subs.items()
            ]
        }
    return parse_job(body)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db" / "watchlist.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path) as opened:
        yield opened


# -- opening ------------------------------------------------------------------------------


def test_default_path_is_in_the_xdg_state_dir_and_directory_is_private(isolated_dirs: Path) -> None:
    with Store() as opened:
        assert opened.path == paths.database_file()
        assert opened.path.is_relative_to(Path(os.environ["XDG_STATE_HOME"]))
        opened.add([WatchEntry(key("j1"))])
    assert paths.database_file().is_file()
    assert stat.S_IMODE(paths.database_file().parent.stat().st_mode) == 0o700


def test_database_is_in_wal_mode_with_current_schema_version(db_path: Path) -> None:
    Store(db_path).close()
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw.close()


def test_entries_survive_reopening(db_path: Path) -> None:
    with Store(db_path) as first:
        first.add([WatchEntry(key("j1"), label="web", profile="otc-de", added_at=T0)])
    with Store(db_path) as second:
        assert second.entries() == [
            WatchEntry(key("j1"), label="web", profile="otc-de", added_at=T0)
        ]


# -- entries ------------------------------------------------------------------------------


def test_add_reports_added_and_duplicates(store: Store) -> None:
    first = store.add([WatchEntry(key("j1")), WatchEntry(key("j2"))])
    assert first.added == [key("j1"), key("j2")]
    assert first.duplicates == []
    again = store.add(
        [WatchEntry(key("j2"), label="new label"), WatchEntry(key("j3")), WatchEntry(key("j3"))]
    )
    assert again.added == [key("j3")]
    assert again.duplicates == [key("j2"), key("j3")]
    # A duplicate leaves the existing entry as it was.
    assert [e.label for e in store.entries()] == [None, None, None]


def test_same_job_id_in_two_projects_or_endpoints_is_two_entries(store: Store) -> None:
    keys = [key("same"), key("same", project_id="proj-b"), key("same", endpoint=ECS_NL)]
    result = store.add([WatchEntry(k) for k in keys])
    assert result.added == keys
    assert store.find("same") == keys
    assert store.remove([key("same", project_id="proj-b")]) == [key("same", project_id="proj-b")]
    assert store.find("same") == [keys[0], keys[2]]


def test_entries_are_in_added_order_with_their_fields(store: Store) -> None:
    store.add([WatchEntry(key("zz"), label="last letter", profile="otc", added_at=T0)])
    before = datetime.now(UTC)
    store.add([WatchEntry(key("aa")), WatchEntry(key("mm"), label="")])
    after = datetime.now(UTC)
    entries = store.entries()
    assert [e.key.job_id for e in entries] == ["zz", "aa", "mm"]
    assert entries[0] == WatchEntry(key("zz"), label="last letter", profile="otc", added_at=T0)
    assert entries[1].label is None and entries[1].profile is None
    assert entries[1].added_at is not None and before <= entries[1].added_at <= after
    assert entries[1].added_at.tzinfo is not None
    assert entries[2].label is None  # an empty label is no label


def test_naive_added_time_is_taken_as_utc(store: Store) -> None:
    store.add([WatchEntry(key("j1"), added_at=datetime(2024, 1, 2, 3, 4, 5))])
    assert store.entries()[0].added_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_remove_returns_only_what_was_there(store: Store) -> None:
    store.add([WatchEntry(key("j1")), WatchEntry(key("j2"))])
    assert store.remove([key("j2"), key("nope"), key("j2")]) == [key("j2")]
    assert [e.key for e in store.entries()] == [key("j1")]
    assert store.remove([]) == []


def test_remove_drops_the_snapshot(store: Store) -> None:
    store.add([WatchEntry(key("j1"))])
    store.record(PollUpdate(key("j1"), at(0), job=job("j1", "RUNNING")))
    store.remove([key("j1")])
    store.add([WatchEntry(key("j1"))])
    assert store.snapshot(key("j1")) is None


def test_find_exact_and_by_prefix(store: Store) -> None:
    store.add([WatchEntry(key("ff80808288d41e1b018990260955686a")), WatchEntry(key("ff80aaaa"))])
    assert store.find("ff80aaaa") == [key("ff80aaaa")]
    assert store.find("ff80") == []
    assert store.find("ff80", prefix=True) == [
        key("ff80808288d41e1b018990260955686a"),
        key("ff80aaaa"),
    ]
    assert store.find("ff808082", prefix=True) == [key("ff80808288d41e1b018990260955686a")]
    assert store.find("%", prefix=True) == []  # no wildcard semantics


def test_set_label(store: Store) -> None:
    store.add([WatchEntry(key("j1"), label="old")])
    assert store.set_label(key("j1"), "new") is True
    assert store.entries()[0].label == "new"
    assert store.set_label(key("j1"), None) is True
    assert store.entries()[0].label is None
    assert store.set_label(key("missing"), "x") is False
    assert [e.key for e in store.entries()] == [key("j1")]


def test_remove_finished_takes_terminal_and_expired_entries(store: Store) -> None:
    names = ["ok", "failed", "running", "expired", "never-fetched", "error-only", "done-then-error"]
    store.add([WatchEntry(key(name)) for name in names])
    store.record(PollUpdate(key("ok"), at(1), job=job("ok", "SUCCESS")))
    store.record(PollUpdate(key("failed"), at(1), job=job("failed", "FAIL")))
    store.record(PollUpdate(key("running"), at(1), job=job("running", "RUNNING", {"s": "SUCCESS"})))
    store.record(PollUpdate(key("expired"), at(1), job=job("expired", "RUNNING")))
    store.record(PollUpdate(key("expired"), at(2), expired=True, error=NotFoundError("gone")))
    store.record(PollUpdate(key("error-only"), at(1), error=ServerError("boom")))
    store.record(PollUpdate(key("done-then-error"), at(1), job=job("done-then-error", "SUCCESS")))
    store.record(PollUpdate(key("done-then-error"), at(2), error=ThrottledError("slow down")))
    removed = store.remove_finished()
    assert removed == [key("ok"), key("failed"), key("expired"), key("done-then-error")]
    assert [e.key.job_id for e in store.entries()] == ["running", "never-fetched", "error-only"]
    assert store.remove_finished() == []


# -- record -------------------------------------------------------------------------------


def test_first_snapshot_keeps_the_body(store: Store) -> None:
    store.add([WatchEntry(key("j1"))])
    body = job("j1", "RUNNING", {"s1": "INIT", "s2": "RUNNING"}, job_type="createServer")
    store.record(PollUpdate(key("j1"), at(0), job=body))
    snapshot = store.snapshot(key("j1"))
    assert snapshot is not None
    assert snapshot.job is not None and raw_dict(snapshot.job) == raw_dict(body)
    assert snapshot.job.job_type == "createServer"
    assert snapshot.fetched_at == at(0)
    assert (snapshot.expired, snapshot.error_kind, snapshot.error_message) == (False, None, None)


def test_answer_bytes_are_stored_as_they_arrived(store: Store, db_path: Path) -> None:
    store.add([WatchEntry(key("j1"))])
    # Spacing, key order and escapes as a server wrote them: kept, never encoded again.
    sent = rb'{"status" : "RUNNING",  "job_id":"j1", "fail_reason":"caf\u00e9 \ud800"}'
    store.record(PollUpdate(key("j1"), at(0), job=parse_job_text(sent)))
    with sqlite3.connect(db_path) as raw:
        (stored,) = raw.execute("SELECT raw_json FROM snapshots").fetchone()
    raw.close()
    assert stored == sent
    snapshot = store.snapshot(key("j1"))
    assert snapshot.job.body == sent
    assert snapshot.job.fail_reason == "café \N{REPLACEMENT CHARACTER}"


def test_identical_body_only_moves_fetched_at(store: Store, db_path: Path) -> None:
    store.add([WatchEntry(key("j1"))])
    body = job("j1", "RUNNING", {"s1": "INIT"})
    store.record(PollUpdate(key("j1"), at(0), job=body))
    # Log every write of the body column, to see whether the row is rewritten.
    with sqlite3.connect(db_path) as raw:
        raw.execute("CREATE TABLE body_writes (at TEXT)")
        raw.execute(
            "CREATE TRIGGER log_body_writes AFTER UPDATE OF raw_json ON snapshots"
            " BEGIN INSERT INTO body_writes VALUES (new.fetched_at); END"
        )
    raw.close()
    store.record(PollUpdate(key("j1"), at(3), job=body, same_answer=True))
    assert store.snapshot(key("j1")).fetched_at == at(3)
    store.record(PollUpdate(key("j1"), at(4), job=job("j1", "RUNNING", {"s1": "RUNNING"})))
    with sqlite3.connect(db_path) as raw:
        writes = raw.execute("SELECT at FROM body_writes").fetchall()
    raw.close()
    assert len(writes) == 1  # only the fetch that brought a different body


def test_body_change_without_status_change_updates_snapshot_only(store: Store) -> None:
    store.add([WatchEntry(key("j1"))])
    store.record(PollUpdate(key("j1"), at(0), job=job("j1", "RUNNING", {"s1": "RUNNING"})))
    later = job("j1", "RUNNING", {"s1": "RUNNING"}, begin_time="2024-05-01T12:00:01.000Z")
    store.record(PollUpdate(key("j1"), at(2), job=later))
    snapshot = store.snapshot(key("j1"))
    assert snapshot.job.begin_time == datetime(2024, 5, 1, 12, 0, 1, tzinfo=UTC)
    assert snapshot.fetched_at == at(2)


def test_error_keeps_the_snapshot_and_a_later_job_clears_it(store: Store) -> None:
    store.add([WatchEntry(key("j1"))])
    body = job("j1", "RUNNING", {"s1": "INIT"})
    store.record(PollUpdate(key("j1"), at(0), job=body))
    store.record(
        PollUpdate(key("j1"), at(5), error=ThrottledError("Too many requests", http_status=429))
    )
    snapshot = store.snapshot(key("j1"))
    assert snapshot.job is not None and raw_dict(snapshot.job) == raw_dict(body)
    assert snapshot.fetched_at == at(0)
    assert (snapshot.error_kind, snapshot.error_message) == ("throttled", "Too many requests")
    # The next good fetch (identical body) clears the error.
    store.record(PollUpdate(key("j1"), at(9), job=body, same_answer=True))
    snapshot = store.snapshot(key("j1"))
    assert (snapshot.error_kind, snapshot.error_message, snapshot.fetched_at) == (None, None, at(9))


def test_error_before_any_snapshot_is_kept(store: Store) -> None:
    store.add([WatchEntry(key("j1"))])
    store.record(PollUpdate(key("j1"), at(0), error=ServerError("internal error")))
    snapshot = store.snapshot(key("j1"))
    assert snapshot is not None
    assert (snapshot.job, snapshot.fetched_at, snapshot.error_kind) == (None, None, "server")
    assert store.snapshots() == {key("j1"): snapshot}


def test_expired_keeps_the_last_snapshot(store: Store, db_path: Path) -> None:
    store.add([WatchEntry(key("j1"))])
    body = job("j1", "SUCCESS", {"s1": "SUCCESS"})
    store.record(PollUpdate(key("j1"), at(0), job=body))
    store.record(PollUpdate(key("j1"), at(1), error=ServerError("blip")))
    store.record(PollUpdate(key("j1"), at(60), expired=True, error=NotFoundError("job not found")))
    with Store(db_path) as reopened:
        snapshot = reopened.snapshot(key("j1"))
    assert snapshot.expired is True
    assert snapshot.job is not None and raw_dict(snapshot.job) == raw_dict(body)
    assert snapshot.fetched_at == at(0)
    assert snapshot.error_kind is None


def test_job_seen_again_after_expiry_clears_the_flag(store: Store) -> None:
    store.add([WatchEntry(key("j1"))])
    store.record(PollUpdate(key("j1"), at(0), job=job("j1", "SUCCESS")))
    store.record(PollUpdate(key("j1"), at(1), expired=True))
    store.record(PollUpdate(key("j1"), at(2), job=job("j1", "SUCCESS")))
    assert store.snapshot(key("j1")).expired is False


def test_record_for_a_removed_entry_does_not_resurrect_it(store: Store) -> None:
    store.add([WatchEntry(key("j1")), WatchEntry(key("j2"))])
    store.remove([key("j1")])
    store.record(PollUpdate(key("j1"), at(0), job=job("j1", "RUNNING", {"s1": "INIT"})))
    store.record(PollUpdate(key("j1"), at(1), error=ServerError("x")))
    store.record(PollUpdate(key("j1"), at(2), expired=True))
    store.record(PollUpdate(key("never-added"), at(0), job=job("never-added", "RUNNING")))
    assert [e.key for e in store.entries()] == [key("j2")]
    assert store.snapshot(key("j1")) is None
    assert store.snapshots() == {}


def test_update_older_than_the_snapshot_is_ignored(store: Store) -> None:
    store.add([WatchEntry(key("j1"))])
    store.record(PollUpdate(key("j1"), at(10), job=job("j1", "SUCCESS")))
    store.record(PollUpdate(key("j1"), at(5), job=job("j1", "RUNNING")))
    store.record(PollUpdate(key("j1"), at(6), error=ServerError("late")))
    snapshot = store.snapshot(key("j1"))
    assert (snapshot.job.status, snapshot.fetched_at, snapshot.error_kind) == (
        "SUCCESS",
        at(10),
        None,
    )


def test_snapshots_in_added_order_and_text_survives(store: Store) -> None:
    store.add([WatchEntry(key("b")), WatchEntry(key("a")), WatchEntry(key("c"))])
    odd = "naïve 日本 \x1b[31m \ud800 end"
    store.record(PollUpdate(key("a"), at(0), job=job("a", "FAIL", fail_reason=odd)))
    store.record(PollUpdate(key("b"), at(0), job=job("b", "RUNNING")))
    snapshots = store.snapshots()
    assert list(snapshots) == [key("b"), key("a")]
    # A lone surrogate cannot be shown or written as UTF-8: it comes back replaced.
    assert snapshots[key("a")].job.fail_reason == "naïve 日本 \x1b[31m \ufffd end"


def test_naive_fetch_time_is_taken_as_utc(store: Store) -> None:
    store.add([WatchEntry(key("j1"))])
    store.record(PollUpdate(key("j1"), datetime(2024, 5, 1, 12, 0, 0), job=job("j1", "RUNNING")))
    assert store.snapshot(key("j1")).fetched_at == T0


def test_store_can_be_used_from_another_thread(store: Store) -> None:
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(store.add([WatchEntry(key("t"))])))
    worker.start()
    worker.join()
    assert results and results[0].added == [key("t")]


def test_closed_store_refuses_calls(db_path: Path) -> None:
    opened = Store(db_path)
    opened.close()
    opened.close()
    with pytest.raises(StoreError, match="closed"):
        opened.entries()


# -- files that cannot be used ------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 64,
        b"\x89PNG\r\n\x1a\n" + os.urandom(5000),
        b"these are my notes, not a database\n" * 200,
    ],
    ids=["garbage", "random", "text"],
)
def test_unreadable_file_raises_and_is_left_untouched(db_path: Path, content: bytes) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(content)
    with pytest.raises(StoreError) as raised:
        Store(db_path)
    message = str(raised.value)
    assert str(db_path) in message
    assert "move it aside" in message
    assert raised.value.path == db_path
    assert db_path.read_bytes() == content
    assert sorted(p.name for p in db_path.parent.iterdir()) == [db_path.name]


def test_foreign_sqlite_database_is_refused_untouched(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as raw:
        raw.execute("CREATE TABLE recipes (name TEXT)")
    raw.close()
    content = db_path.read_bytes()
    with pytest.raises(StoreError, match="not a jobdash watchlist") as raised:
        Store(db_path)
    assert str(db_path) in str(raised.value)
    assert db_path.read_bytes() == content


def test_newer_schema_version_is_refused(db_path: Path) -> None:
    Store(db_path).close()
    with sqlite3.connect(db_path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    content = db_path.read_bytes()
    with pytest.raises(StoreError, match="newer jobdash") as raised:
        Store(db_path)
    assert str(db_path) in str(raised.value)
    assert f"schema version {SCHEMA_VERSION + 1}" in str(raised.value)
    assert db_path.read_bytes() == content


def test_older_schema_is_migrated_in_order_keeping_data(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(db_path) as old:
        old.add([WatchEntry(key("j1"), label="kept")])
    applied: list[str] = []

    def add_notes(connection: sqlite3.Connection) -> None:
        applied.append("notes")
        connection.execute("ALTER TABLE entries ADD COLUMN note TEXT")

    def fill_notes(connection: sqlite3.Connection) -> None:
        applied.append("fill")
        connection.execute("UPDATE entries SET note = 'migrated'")

    monkeypatch.setattr(
        store_schema, "MIGRATIONS", (*store_schema.MIGRATIONS, add_notes, fill_notes)
    )
    monkeypatch.setattr(store_schema, "SCHEMA_VERSION", SCHEMA_VERSION + 2)
    with Store(db_path) as upgraded:
        assert [e.label for e in upgraded.entries()] == ["kept"]
    with Store(db_path):
        pass  # already current: no step runs again
    assert applied == ["notes", "fill"]
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 2
        assert raw.execute("SELECT note FROM entries").fetchall() == [("migrated",)]
    raw.close()


def test_write_while_locked_too_long_raises(db_path: Path) -> None:
    Store(db_path).close()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with Store(db_path, busy_timeout=0.2) as waiting:
            with pytest.raises(StoreError, match="locked") as raised:
                waiting.add([WatchEntry(key("j1"))])
            assert str(db_path) in str(raised.value)
            # Reading still works in WAL mode while another process writes.
            assert waiting.entries() == []
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with Store(db_path) as later:
        assert later.add([WatchEntry(key("j1"))]).added == [key("j1")]


def test_opening_while_locked_too_long_raises(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("CREATE TABLE IF NOT EXISTS placeholder (x)")
    holder.execute("DROP TABLE placeholder")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked") as raised:
            Store(db_path, busy_timeout=0.2)
        assert str(db_path) in str(raised.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_damaged_pages_raise_a_store_error_naming_the_file(db_path: Path) -> None:
    with Store(db_path) as opened:
        opened.add([WatchEntry(key(f"job-{n:04d}"), label="x" * 200) for n in range(300)])
    assert not db_path.with_name(db_path.name + "-wal").exists()  # checkpointed on close
    content = bytearray(db_path.read_bytes())
    page_size = int.from_bytes(content[16:18], "big")
    # Keep the header page, overwrite every other page with junk.
    content[page_size:] = bytes([0xA5]) * (len(content) - page_size)
    db_path.write_bytes(bytes(content))
    with pytest.raises(StoreError) as raised, Store(db_path) as damaged:
        damaged.entries()
    assert str(db_path) in str(raised.value)
    assert "move it aside" in str(raised.value)
    assert db_path.read_bytes() == bytes(content)


def test_path_that_is_a_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as raised:
        Store(tmp_path)
    assert str(tmp_path) in str(raised.value)


def test_a_version_3_watchlist_keeps_its_snapshots_as_json_text(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file as jobdash wrote it before snapshots kept the answer's bytes: JSON text in
    # raw_json, a status map beside it, and a transitions table.
    monkeypatch.setattr(store_schema, "MIGRATIONS", store_schema.MIGRATIONS[:3])
    monkeypatch.setattr(store_schema, "SCHEMA_VERSION", 3)
    Store(db_path).close()
    with sqlite3.connect(db_path) as raw:
        raw.execute(
            "INSERT INTO entries (endpoint, project_id, job_id, added_at) VALUES (?, ?, ?, ?)",
            (ECS, "proj-a", "j1", at(0).isoformat()),
        )
        raw.execute(
            "INSERT INTO snapshots (entry_id, raw_json, status, statuses, fetched_at)"
            " VALUES (1, ?, 'SUCCESS', '{}', ?)",
            ('{"job_id":"j1","status":"SUCCESS","fail_reason":"caf\\u00e9"}', at(0).isoformat()),
        )
        raw.execute(
            "INSERT INTO transitions (entry_id, old_status, new_status, at) VALUES (1, NULL, 'SUCCESS', ?)",
            (at(0).isoformat(),),
        )
    raw.close()
    monkeypatch.undo()
    with Store(db_path) as upgraded:
        snapshot = upgraded.snapshot(key("j1"))
        assert snapshot.job.status == "SUCCESS" and snapshot.job.fail_reason == "café"
        assert upgraded.entries()[0].key.service == "ecs"  # every older entry is ECS's
        assert upgraded.remove_finished() == [key("j1")]
    with sqlite3.connect(db_path) as raw:
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        columns = {row[1] for row in raw.execute("PRAGMA table_info(snapshots)")}
    raw.close()
    assert "transitions" not in tables and "statuses" not in columns
