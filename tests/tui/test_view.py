"""The dashboard's data without any UI: merging updates, the watchlist's counts, filtering,
short ids."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from tui_sample import (
    BATCH_ID,
    DELETE_ID,
    ENDPOINT,
    FROZEN,
    PROJECT,
    STOP_ID,
    batch_body,
    delete_body,
    stop_body,
)

from jobdash.api.errors import NotFoundError, ServerError, UnauthorizedError
from jobdash.api.ids import short_ids
from jobdash.api.model import parse_job
from jobdash.store.core import Store
from jobdash.tui.view import Filter, visible_jobs, visible_sub_jobs
from jobdash.watch.values import PollUpdate, Snapshot, WatchEntry, WatchKey, merge_update
from jobdash.watch.watchlist import Watchlist


def key(job_id: str) -> WatchKey:
    return WatchKey(ENDPOINT, PROJECT, job_id)


@pytest.fixture
def watchlist(tmp_path: Path) -> Iterator[Watchlist]:
    """Three jobs (running with failures, failed, succeeded) in a real SQLite store."""
    with Store(tmp_path / "watchlist.sqlite3") as store:
        store.add(
            [
                WatchEntry(key(BATCH_ID), "web tier"),
                WatchEntry(key(STOP_ID)),
                WatchEntry(key(DELETE_ID)),
            ]
        )
        loaded = Watchlist.load(store)
        for body in (batch_body(), stop_body(), delete_body()):
            loaded.apply(PollUpdate(key(body["job_id"]), FROZEN, job=parse_job(body)))
        yield loaded
        loaded.close()


def visible(flt: Filter, watchlist: Watchlist) -> list[tuple[str, tuple[str, ...]]]:
    """(job id, keys of the sub-jobs shown) for each job the filter shows."""
    result = []
    for shown_key in visible_jobs(flt, watchlist):
        subs = visible_sub_jobs(
            flt, watchlist.entries[shown_key], watchlist.snapshots.get(shown_key)
        )
        result.append((shown_key.job_id, tuple(sub_key for sub_key, _ in subs or [])))
    return result


def test_an_error_keeps_the_last_job_and_records_the_error() -> None:
    job = parse_job(batch_body())
    previous = Snapshot(key(BATCH_ID), job, FROZEN - timedelta(seconds=10))
    merged = merge_update(previous, PollUpdate(key(BATCH_ID), FROZEN, error=ServerError("boom")))
    assert merged.job is job
    # The poller repeats the last job beside the error: still an error, not a fresh fetch.
    repeated = PollUpdate(key(BATCH_ID), FROZEN, job=job, error=ServerError("boom"))
    assert merge_update(previous, repeated) == merged
    assert merged.fetched_at == previous.fetched_at
    assert (merged.error_kind, merged.error_message) == ("server", "boom")
    fresh = merge_update(merged, PollUpdate(key(BATCH_ID), FROZEN, job=job))
    assert fresh.error_kind is None and fresh.fetched_at == FROZEN


def test_expiry_keeps_the_last_job() -> None:
    job = parse_job(delete_body())
    previous = Snapshot(key(DELETE_ID), job, FROZEN)
    merged = merge_update(previous, PollUpdate(key(DELETE_ID), FROZEN, job=job, expired=True))
    assert merged.expired and merged.job is job and merged.error_kind is None
    assert merged.fetched_at == previous.fetched_at


def test_counts_and_last_refresh(watchlist: Watchlist) -> None:
    assert watchlist.tally.counts == {"RUNNING": 1, "FAIL": 1, "SUCCESS": 1}
    assert watchlist.last_refresh == FROZEN
    later = FROZEN + timedelta(seconds=5)
    watchlist.apply(PollUpdate(key(BATCH_ID), later, error=NotFoundError("x")))
    assert watchlist.last_refresh == FROZEN  # failed fetches do not count as a refresh
    # The batch keeps its last job beside the error, so it is still counted as running.
    assert watchlist.tally.counts == {"RUNNING": 1, "FAIL": 1, "SUCCESS": 1}
    done = {**batch_body(), "status": "SUCCESS"}
    watchlist.apply(PollUpdate(key(BATCH_ID), later, job=parse_job(done)))
    assert watchlist.tally.counts == {"FAIL": 1, "SUCCESS": 2}


def test_failed_only_keeps_jobs_with_failures_and_only_their_failed_sub_jobs(
    watchlist: Watchlist,
) -> None:
    shown = dict(visible(Filter(failed_only=True), watchlist))
    assert set(shown) == {BATCH_ID, STOP_ID}
    batch = parse_job(batch_body())
    assert shown[BATCH_ID] == tuple(s.job_id for s in batch.sub_jobs if s.failed)
    assert len(shown[STOP_ID]) == 1


def test_text_filter_matches_label_type_server_id_and_error_code(watchlist: Watchlist) -> None:
    ((job_id, subs),) = visible(Filter(text="WEB TIER"), watchlist)
    assert job_id == BATCH_ID and len(subs) == 20  # a matching job shows all its sub-jobs
    ((job_id, subs),) = visible(Filter(text="ecs.0603"), watchlist)
    assert job_id == STOP_ID and len(subs) == 1
    ((job_id, subs),) = visible(Filter(text="05c0ffee"), watchlist)  # a server id in the batch
    assert job_id == BATCH_ID and len(subs) == 1
    assert [job_id for job_id, _ in visible(Filter(text="deleteServer"), watchlist)] == [DELETE_ID]
    assert visible(Filter(text="no such thing"), watchlist) == []


def test_config_problem_is_reported_for_unauthorized_entries(watchlist: Watchlist) -> None:
    assert watchlist.config_problem() is None
    error = UnauthorizedError("not authorized: the token is missing, invalid or expired")
    watchlist.apply(PollUpdate(key(STOP_ID), FROZEN, error=error))
    assert watchlist.config_problem() == error.message
    assert watchlist.config_problem_count() == 1
    watchlist.apply(PollUpdate(key(STOP_ID), FROZEN, job=parse_job(stop_body())))
    assert watchlist.config_problem() is None


def test_short_ids_are_unique_prefixes_or_head_and_tail() -> None:
    ids = ["0f1e2d3c4b5a69788796a5b4c3d2e1f0", "7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d", "7a6b5c4d9999"]
    shown = short_ids(ids)
    assert shown[ids[0]] == "0f1e2d3c"
    assert shown[ids[2]] == "7a6b5c4d9999"  # short enough to show whole
    assert shown[ids[1]] == "7a6b5c4d3"
    twins = short_ids([BATCH_ID, STOP_ID])
    assert twins[BATCH_ID] == "ff80…e20001" and twins[STOP_ID] == "ff80…e20002"


def test_filter_is_a_value() -> None:
    assert not Filter().active
    assert replace(Filter(), failed_only=True).active


def test_pasted_ids_are_validated_deduplicated_and_checked_against_the_watchlist() -> None:
    from jobdash.tui.screens.add import describe, parse_pasted

    text = f'{{"job_ids": ["{BATCH_ID}", "{STOP_ID}"]}}'
    request = parse_pasted(text, "  ", frozenset({BATCH_ID}))
    assert request.ids == [BATCH_ID, STOP_ID] and request.label is None
    assert describe(request).plain == "2 job ids to add. 1 already watched."
    messy = parse_pasted(f"{STOP_ID}\n{STOP_ID}\n../etc/passwd\n# a comment\n")
    assert messy.ids == [STOP_ID] and messy.repeated == 1
    assert [value for value, _ in messy.skipped] == ["../etc/passwd"]
    assert "Skipped 1:" in describe(messy).plain
