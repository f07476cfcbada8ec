"""When jobs open and close by themselves: decided once per job, within a row budget."""

from __future__ import annotations

from tui_sample import BATCH_ID, DELETE_ID, ENDPOINT, PROJECT, batch_body, delete_body

from jobdash.api.model import parse_job
from jobdash.tui.expansion import ExpansionPolicy, Move
from jobdash.watch.values import WatchKey

BATCH = WatchKey(ENDPOINT, PROJECT, BATCH_ID)
DONE = WatchKey(ENDPOINT, PROJECT, DELETE_ID)


def test_a_job_opens_once_when_it_first_has_sub_jobs_and_fits_the_budget() -> None:
    policy = ExpansionPolicy(budget=25)
    batch = parse_job(batch_body())  # 20 sub-jobs, two failed
    assert policy.first(BATCH, None, rows_open=0) is None  # nothing to show yet
    assert policy.first(BATCH, batch, rows_open=0) is True
    assert policy.first(BATCH, batch, rows_open=0) is None  # decided: the user's choice stays
    other = WatchKey(ENDPOINT, PROJECT, "b" * 32)
    assert policy.first(other, batch, rows_open=20) is False  # 40 rows would pass the budget


def test_finished_jobs_start_closed_and_close_once_when_they_end_well() -> None:
    policy = ExpansionPolicy()
    done = parse_job(delete_body())
    assert policy.first(DONE, done, rows_open=0) is False
    running = parse_job({**delete_body(), "status": "RUNNING", "end_time": ""})
    fresh = WatchKey(ENDPOINT, PROJECT, "c" * 32)
    assert policy.first(fresh, running, rows_open=0) is True
    assert policy.after_update(fresh, done, is_open=True, rows_open=2) is Move.CLOSE
    assert policy.after_update(fresh, done, is_open=True, rows_open=2) is None
    policy.collapse_done = False
    later = WatchKey(ENDPOINT, PROJECT, "d" * 32)
    assert policy.first(later, done, rows_open=0) is True


def test_a_job_opens_on_its_first_failure_and_a_hidden_job_comes_back_as_it_was() -> None:
    policy = ExpansionPolicy()
    running = parse_job({**delete_body(), "status": "RUNNING", "end_time": ""})
    assert policy.first(DONE, running, rows_open=0) is True
    failed = parse_job(batch_body())
    assert policy.after_update(DONE, failed, is_open=False, rows_open=0) is Move.OPEN
    assert policy.after_update(DONE, failed, is_open=False, rows_open=0) is None
    policy.hidden(DONE, was_open=False)
    assert policy.first(DONE, failed, rows_open=0) is False
