"""The dashboard's state without any UI: merging updates, filtering, short ids."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

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
from jobdash.api.model import parse_job
from jobdash.tui.state import DashboardState, Filter, merge_update, short_ids
from jobdash.watch import PollUpdate, Snapshot, WatchEntry, WatchKey


def key(job_id: str) -> WatchKey:
    return WatchKey(ENDPOINT, PROJECT, job_id)


def state_with_jobs() -> DashboardState:
    entries = [
        WatchEntry(key(BATCH_ID), "web tier"),
        WatchEntry(key(STOP_ID)),
        WatchEntry(key(DELETE_ID)),
    ]
    state = DashboardState(entries)
    for body in (batch_body(), stop_body(), delete_body()):
        state.apply(PollUpdate(key(body["job_id"]), FROZEN, job=parse_job(body)))
    return state


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


def test_counts_and_last_refresh() -> None:
    state = state_with_jobs()
    assert state.counts() == {"RUNNING": 1, "FAIL": 1, "SUCCESS": 1}
    assert state.last_refresh == FROZEN
    state.apply(PollUpdate(key(BATCH_ID), FROZEN + timedelta(seconds=5), error=NotFoundError("x")))
    assert state.last_refresh == FROZEN  # failed fetches do not count as a refresh


def test_failed_only_keeps_jobs_with_failures_and_only_their_failed_sub_jobs() -> None:
    state = state_with_jobs()
    state.filter = Filter(failed_only=True)
    visible = {item.key.job_id: item.sub_keys for item in state.visible()}
    assert set(visible) == {BATCH_ID, STOP_ID}
    batch = parse_job(batch_body())
    assert visible[BATCH_ID] == tuple(s.job_id for s in batch.sub_jobs if s.failed)
    assert len(visible[STOP_ID]) == 1


def test_text_filter_matches_label_type_server_id_and_error_code() -> None:
    state = state_with_jobs()
    state.filter = Filter(text="WEB TIER")
    assert [item.key.job_id for item in state.visible()] == [BATCH_ID]
    assert len(state.visible()[0].sub_keys) == 20  # a matching job shows all its sub-jobs
    state.filter = Filter(text="ecs.0603")
    (stop,) = state.visible()
    assert stop.key.job_id == STOP_ID and len(stop.sub_keys) == 1
    state.filter = Filter(text="05c0ffee")  # a server id inside the batch
    (batch,) = state.visible()
    assert batch.key.job_id == BATCH_ID and len(batch.sub_keys) == 1
    state.filter = Filter(text="deleteServer")
    assert [item.key.job_id for item in state.visible()] == [DELETE_ID]
    state.filter = Filter(text="no such thing")
    assert state.visible() == []


def test_set_entries_reports_added_and_removed_and_keeps_snapshots() -> None:
    state = state_with_jobs()
    new = WatchEntry(key("a" * 32))
    added, removed = state.set_entries([WatchEntry(key(BATCH_ID), "renamed"), new])
    assert added == [new.key]
    assert set(removed) == {key(STOP_ID), key(DELETE_ID)}
    assert state.entries[key(BATCH_ID)].label == "renamed"
    assert state.snapshots[key(BATCH_ID)].job is not None


def test_config_problem_is_reported_for_unauthorized_entries() -> None:
    state = state_with_jobs()
    assert state.config_problem() is None
    error = UnauthorizedError("not authorized: the token is missing, invalid or expired")
    state.apply(PollUpdate(key(STOP_ID), FROZEN, error=error))
    assert state.config_problem() == error.message


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
