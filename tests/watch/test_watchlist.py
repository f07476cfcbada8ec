"""The watchlist keeps the store, the in-memory state and the poller in step (real SQLite)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobdash.api.model import parse_job
from jobdash.store.core import Store
from jobdash.watch.values import PollUpdate, Snapshot, WatchEntry, WatchKey
from jobdash.watch.watchlist import Watchlist

NOW = datetime(2026, 3, 2, 9, 45, tzinfo=UTC)


def key(n: int) -> WatchKey:
    return WatchKey("https://ecs.example", "p" * 32, f"{n:032x}")


def job(n: int, status: str = "RUNNING") -> PollUpdate:
    body = {"job_id": key(n).job_id, "status": status, "job_type": "createServer"}
    return PollUpdate(key(n), NOW, job=parse_job(body))


class RecordingPoller:
    def __init__(self) -> None:
        self.added: list[WatchKey] = []
        self.removed: list[WatchKey] = []

    def add(
        self, keys: Iterable[WatchKey], snapshots: Mapping[WatchKey, Snapshot] | None = None
    ) -> None:
        self.added.extend(keys)

    def remove(self, keys: Iterable[WatchKey]) -> None:
        self.removed.extend(keys)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "watchlist.sqlite3"


@pytest.fixture
def watchlist(path: Path) -> Iterator[Watchlist]:
    with Store(path) as store:
        store.add([WatchEntry(key(1), "first")])
        loaded = Watchlist.load(store)
        yield loaded
        loaded.close()


async def test_add_remove_and_label_reach_the_store_memory_and_poller(
    watchlist: Watchlist, path: Path
) -> None:
    poller = RecordingPoller()
    watchlist.attach(poller)
    added = await watchlist.add([WatchEntry(key(2), "second"), WatchEntry(key(1))])
    assert [entry.key for entry in added.entries] == [key(2)]
    assert added.duplicates == [key(1)]
    assert poller.added == [key(2)]
    await watchlist.set_label(key(2), "renamed")
    await watchlist.remove([key(1)])
    assert list(watchlist.entries) == [key(2)] and poller.removed == [key(1)]
    assert watchlist.tally.counts == {"waiting": 1}
    with Store(path) as other:
        assert [(e.key, e.label) for e in other.entries()] == [(key(2), "renamed")]


async def test_updates_fold_in_at_once_and_reach_the_store_on_its_thread(
    watchlist: Watchlist, path: Path
) -> None:
    snapshot = watchlist.apply(job(1, "SUCCESS"))
    assert snapshot is not None and watchlist.job(key(1)) is snapshot.job
    assert watchlist.tally.counts == {"SUCCESS": 1}
    assert watchlist.apply(job(9)) is None  # not watched: ignored
    await watchlist.aclose()
    with Store(path) as other:
        stored = other.snapshots()[key(1)]
    assert stored.job is not None and stored.job.status == "SUCCESS"


async def test_changes_made_by_another_process_are_picked_up(
    watchlist: Watchlist, path: Path
) -> None:
    poller = RecordingPoller()
    watchlist.attach(poller)
    with Store(path) as other:
        other.add([WatchEntry(key(3), "from another pane")])
        other.record(job(3, "FAIL"))
        other.remove([key(1)])
    change = await watchlist.pick_up_changes()
    assert change.added == [key(3)] and change.removed == [key(1)]
    assert list(watchlist.entries) == [key(3)]
    assert watchlist.tally.counts == {"FAIL": 1}
    assert poller.added == [key(3)] and poller.removed == [key(1)]
    again = await watchlist.pick_up_changes()
    assert again.added == [] and again.removed == []
