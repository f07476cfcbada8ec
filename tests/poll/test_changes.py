"""The one change detector: `jobdash.poll.changes.compare`, from answers to what changed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from jobdash.api.model import Job, parse_job, parse_job_text
from jobdash.poll.changes import UNCHANGED, compare
from jobdash.watch.values import Transition

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def job(status: str, subs: dict[str, str] | None = None, **extra: object) -> Job:
    body: dict[str, object] = {"job_id": "j1", "status": status, **extra}
    if subs is not None:
        body["entities"] = {
            "sub_jobs": [{"job_id": sub_id, "status": s} for sub_id, s in subs.items()]
        }
    return parse_job(body)


def test_the_first_answer_reports_every_status_as_first_seen_and_no_change() -> None:
    changes = compare(None, job("RUNNING", {"s1": "INIT", "s2": "RUNNING"}), at(0))
    assert changes.changed is False
    assert changes.transitions == (
        Transition("j1", None, None, "RUNNING", at(0)),
        Transition("j1", "s1", None, "INIT", at(0)),
        Transition("j1", "s2", None, "RUNNING", at(0)),
    )


def test_the_same_job_object_is_unchanged_without_looking_inside() -> None:
    first = job("RUNNING", {"s1": "INIT"})
    assert compare(first, first, at(1)) is UNCHANGED


def test_equal_answers_in_other_bytes_are_unchanged() -> None:
    body = {"job_id": "j1", "status": "RUNNING", "entities": {"sub_jobs": [{"status": "INIT"}]}}
    one = parse_job_text(json.dumps(body).encode())
    other = parse_job_text(json.dumps(body, indent=2).encode())
    changes = compare(one, other, at(1))
    assert (changes.changed, changes.sub_jobs, changes.transitions) == (False, (), ())


def test_status_changes_of_job_and_sub_jobs_are_named_by_key() -> None:
    before = job("RUNNING", {"s1": "INIT", "s2": "INIT"})
    after = job("FAIL", {"s1": "SUCCESS", "s2": "INIT", "s3": "FAIL"})
    changes = compare(before, after, at(9))
    assert changes.changed is True
    assert changes.previous_status == "RUNNING"
    assert changes.sub_jobs == ("s1", "s3")
    assert changes.transitions == (
        Transition("j1", None, "RUNNING", "FAIL", at(9)),
        Transition("j1", "s1", "INIT", "SUCCESS", at(9)),
        Transition("j1", "s3", None, "FAIL", at(9)),
    )


def test_a_new_end_time_or_failure_text_is_a_change_without_a_transition() -> None:
    before = parse_job(
        {"job_id": "j1", "status": "RUNNING", "entities": {"sub_jobs": [{"job_id": "s1"}]}}
    )
    after = parse_job(
        {
            "job_id": "j1",
            "status": "RUNNING",
            "entities": {
                "sub_jobs": [
                    {"job_id": "s1", "end_time": "2024-05-01T12:00:09Z", "fail_reason": "quota"}
                ]
            },
        }
    )
    changes = compare(before, after, at(9))
    assert changes.changed is True
    assert changes.sub_jobs == ("s1",)
    assert changes.transitions == ()


def test_a_sub_job_that_went_away_is_a_change() -> None:
    changes = compare(
        job("RUNNING", {"s1": "INIT", "s2": "INIT"}), job("RUNNING", {"s1": "INIT"}), at(2)
    )
    assert changes.changed is True
    assert changes.sub_jobs == ()


def test_sub_jobs_without_id_are_told_apart_by_position() -> None:
    def positional(*statuses: str) -> Job:
        subs = [{"status": s} for s in statuses]
        return parse_job({"job_id": "j1", "status": "RUNNING", "entities": {"sub_jobs": subs}})

    changes = compare(positional("INIT", "INIT"), positional("INIT", "SUCCESS"), at(1))
    assert changes.sub_jobs == ("#2",)
    assert changes.transitions == (Transition("j1", "#2", "INIT", "SUCCESS", at(1)),)


def test_odd_statuses_are_reported_as_the_model_reads_them() -> None:
    before = parse_job(
        {
            "job_id": "j1",
            "status": "RUNNING",
            "entities": {"sub_jobs": [{"job_id": "s", "status": " INIT "}]},
        }
    )
    after = parse_job(
        {
            "job_id": "j1",
            "status": "RUNNING",
            "entities": {"sub_jobs": [{"job_id": "s", "status": 7}]},
        }
    )
    (transition,) = compare(before, after, at(1)).transitions
    assert (transition.old_status, transition.new_status) == ("INIT", "7")
