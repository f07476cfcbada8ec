"""The poller's guard around the store, against a real SQLite file held by another connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobdash.api.model import parse_job
from jobdash.poll.store_writer import STORE_RETRY_AFTER, StoreWriter
from jobdash.store.core import Store
from jobdash.watch.values import PollUpdate, Snapshot, WatchEntry, WatchKey

ENDPOINT = "https://ecs.eu-de.example"
AT = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def key(job_id: str) -> WatchKey:
    return WatchKey(ENDPOINT, "proj", job_id)


def update(job_id: str, status: str) -> PollUpdate:
    return PollUpdate(key(job_id), AT, job=parse_job({"job_id": job_id, "status": status}))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "watchlist.sqlite3", busy_timeout=0.05) as opened:
        opened.add([WatchEntry(key("a")), WatchEntry(key("b"))])
        yield opened


@pytest.fixture
def locked(store: Store) -> Iterator[sqlite3.Connection]:
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    yield holder
    if holder.in_transaction:
        holder.execute("ROLLBACK")
    holder.close()


def stored_status(store: Store, job_id: str) -> str | None:
    snapshot = store.snapshots().get(key(job_id))
    return snapshot.job.status if snapshot is not None and snapshot.job is not None else None


def test_a_locked_store_is_reported_not_raised_and_updates_wait(
    store: Store, locked: sqlite3.Connection
) -> None:
    clock = Clock()
    writer = StoreWriter(store, clock)
    writer.record(update("a", "RUNNING"))
    assert writer.error is not None
    assert writer.error.startswith("could not record an update in the store: ")
    assert "is locked" in writer.error and "StoreError" not in writer.error
    writer.record(update("a", "SUCCESS"))
    writer.record(update("b", "FAIL"))
    locked.execute("ROLLBACK")
    clock.now += STORE_RETRY_AFTER / 2
    writer.flush()  # still inside the pause after a failure: nothing is tried
    assert stored_status(store, "a") is None
    clock.now += STORE_RETRY_AFTER
    writer.flush()
    assert writer.error is None
    # Only the latest update per job waited, and both reached the file.
    assert (stored_status(store, "a"), stored_status(store, "b")) == ("SUCCESS", "FAIL")


class UnreadableStore:
    """A store whose reads fail the way a broken disk makes them fail."""

    def record(self, update: PollUpdate) -> None:
        raise AssertionError("not written in this test")

    def snapshots(self) -> dict[WatchKey, Snapshot]:
        raise OSError(5, "Input/output error")

    def entries(self) -> list[WatchEntry]:
        raise OSError(5, "Input/output error")


def test_reads_that_fail_give_none_with_the_reason() -> None:
    writer = StoreWriter(UnreadableStore(), Clock())
    assert writer.entries() is None
    assert (
        writer.error
        == "could not read the watchlist from the store: OSError: [Errno 5] Input/output error"
    )
    assert writer.snapshots() is None
    assert writer.error is not None and writer.error.startswith("could not read snapshots from")


def test_forget_drops_an_update_waiting_for_a_locked_store(
    store: Store, locked: sqlite3.Connection
) -> None:
    clock = Clock()
    writer = StoreWriter(store, clock)
    writer.record(update("a", "RUNNING"))
    writer.record(update("b", "RUNNING"))
    writer.forget(key("a"))
    locked.execute("ROLLBACK")
    clock.now += STORE_RETRY_AFTER + 1
    writer.flush()
    assert stored_status(store, "a") is None and stored_status(store, "b") == "RUNNING"
    assert writer.error is None


def test_an_update_the_store_cannot_write_is_skipped_and_the_others_saved(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from jobdash.store import snapshots

    real_stored_body = snapshots.stored_body

    def refuses_a(job):  # type: ignore[no-untyped-def]
        if job.job_id == "a":
            raise ValueError("a value SQLite cannot take")
        return real_stored_body(job)

    monkeypatch.setattr(snapshots, "stored_body", refuses_a)
    clock = Clock()
    writer = StoreWriter(store, clock)
    writer.record(update("a", "RUNNING"))
    writer.record(update("b", "SUCCESS"))
    assert stored_status(store, "b") == "SUCCESS"
    assert stored_status(store, "a") is None
    assert writer.skipped == 1
    assert "skipped an update" in caplog.text and "job a" in caplog.text
    # Nothing waits behind it: later updates of both are written at once.
    monkeypatch.setattr(snapshots, "stored_body", real_stored_body)
    writer.record(update("a", "SUCCESS"))
    assert stored_status(store, "a") == "SUCCESS"
    assert writer.error is None


def test_store_record_names_the_job_it_cannot_save(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobdash.store import snapshots
    from jobdash.store.sqlite import RecordError

    monkeypatch.setattr(
        snapshots, "stored_body", lambda job: (_ for _ in ()).throw(OverflowError("big"))
    )
    with pytest.raises(RecordError, match="cannot save the update of job a"):
        store.record(update("a", "RUNNING"))
