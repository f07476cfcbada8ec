"""The job model: the documented example verbatim, and every odd shape the API sends."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from jobdash.api.model import (
    JobStatus,
    ResponseShapeError,
    parse_job,
    parse_job_text,
    parse_time,
    raw_dict,
    status_icon,
)
from jobdash.text.format import format_duration

# Verbatim from querying_job_execution_status.rst, "Example Response".
EXAMPLE_RESPONSE = """
{
    "status": "SUCCESS",
    "entities": {
        "sub_jobs_total": 1,
        "sub_jobs": [
            {
                "status": "SUCCESS",
                "entities": {
                    "server_id": "bae51750-0089-41a1-9b18-5c777978ff6d"
                },
                "job_id": "2c9eb2c5544cbf6101544f0635672b60",
                "job_type": "createSingleServer",
                "begin_time": "2016-04-25T20:04:47.591Z",
                "end_time": "2016-04-25T20:08:21.328Z",
                "error_code": null,
                "fail_reason": null
            }
        ]
    },
    "job_id": "2c9eb2c5544cbf6101544f0602af2b4f",
    "job_type": "createServer",
    "begin_time": "2016-04-25T20:04:34.604Z",
    "end_time": "2016-04-25T20:08:41.593Z",
    "error_code": null,
    "fail_reason": null
}
"""


def test_documented_example_parses_exactly() -> None:
    job = parse_job_text(EXAMPLE_RESPONSE)
    assert job.job_id == "2c9eb2c5544cbf6101544f0602af2b4f"
    assert job.job_type == "createServer"
    assert job.status == JobStatus.SUCCESS
    assert job.is_terminal and not job.failed
    assert job.begin_time == datetime(2016, 4, 25, 20, 4, 34, 604000, tzinfo=UTC)
    assert job.end_time == datetime(2016, 4, 25, 20, 8, 41, 593000, tzinfo=UTC)
    assert job.error_code is None and job.fail_reason is None
    assert job.message is None and job.code is None
    assert job.sub_jobs_total == 1
    assert job.total_sub_jobs == 1 and job.finished_sub_jobs == 1
    (sub,) = job.sub_jobs
    assert sub.job_id == "2c9eb2c5544cbf6101544f0635672b60"
    assert sub.job_type == "createSingleServer"
    assert sub.status == "SUCCESS"
    assert sub.server_id == "bae51750-0089-41a1-9b18-5c777978ff6d"
    assert sub.resource_id == sub.server_id
    assert sub.nic_id is None and sub.errorcode_message is None
    assert sub.begin_time == datetime(2016, 4, 25, 20, 4, 47, 591000, tzinfo=UTC)
    assert sub.duration() == pytest.approx(213.737)
    assert job.duration() == pytest.approx(246.989)
    assert job.status_counts() == {"SUCCESS": 1}
    assert job.failed_sub_jobs == ()
    assert job.failure_summary() == []
    assert raw_dict(job) == json.loads(EXAMPLE_RESPONSE)


@pytest.mark.parametrize("value", ["", None, "   ", "not a time", 17, "2016-13-45T99:00:00Z"])
def test_unusable_times_are_none(value: object) -> None:
    assert parse_time(value) is None


def test_times_without_zone_are_utc() -> None:
    assert parse_time("2016-04-25T20:04:47") == datetime(2016, 4, 25, 20, 4, 47, tzinfo=UTC)
    assert parse_time("2016-04-25T22:04:47.5+02:00") == datetime(
        2016, 4, 25, 20, 4, 47, 500000, tzinfo=UTC
    )


def test_running_job_with_odd_fields() -> None:
    body = {
        "status": "RUNNING",
        "job_id": "a" * 32,
        "job_type": "batchCreateVolumes",
        "begin_time": "2026-11-29T05:00:00.000Z",
        "end_time": "",
        "entities": {
            "volume_id": "vol-1",
            "sub_jobs": [
                {"status": "RUNNING", "job_id": "s1", "entities": None, "end_time": None},
                {"status": "SHELVED", "job_id": "s2"},
                "not a sub-job",
                {"status": None, "job_id": 42},
            ],
        },
        "brand_new_field": {"nested": [1, 2]},
    }
    job = parse_job(body)
    assert job.status == "RUNNING" and not job.is_terminal
    assert job.end_time is None
    assert job.sub_jobs_total is None
    assert job.total_sub_jobs == 3  # the string entry is skipped
    assert job.entities["volume_id"] == "vol-1"
    assert [s.status for s in job.sub_jobs] == ["RUNNING", "SHELVED", "UNKNOWN"]
    assert job.sub_jobs[0].entities == {}
    assert job.sub_jobs[2].job_id == "42"
    assert status_icon("SHELVED") == "?"
    assert job.raw["brand_new_field"] == {"nested": [1, 2]}
    now = datetime(2026, 11, 29, 5, 1, 30, tzinfo=UTC)
    assert job.duration(now) == 90.0
    assert job.finished_sub_jobs == 0


def test_minimal_and_null_entities() -> None:
    job = parse_job({"status": "INIT", "entities": None})
    assert job.job_id is None and job.job_type is None
    assert job.sub_jobs == () and job.total_sub_jobs == 0
    assert job.duration() is None
    assert parse_job({}).status == "UNKNOWN"


def test_pending_payment_is_not_terminal() -> None:
    job = parse_job({"status": "PENDING_PAYMENT", "job_id": "x"})
    assert job.status == JobStatus.PENDING_PAYMENT
    assert not job.is_terminal
    assert status_icon(job.status) == "$"


def test_announced_total_larger_than_listed() -> None:
    job = parse_job({"status": "RUNNING", "entities": {"sub_jobs_total": "20", "sub_jobs": []}})
    assert job.sub_jobs_total == 20 and job.total_sub_jobs == 20


def test_failure_summary_groups_by_code() -> None:
    def sub(code: str | None, reason: str | None, message: str | None = None) -> dict:
        return {
            "status": "FAIL",
            "job_id": f"s-{code}-{reason}",
            "error_code": code,
            "fail_reason": reason,
            "entities": {"errorcode_message": message} if message else {},
        }

    body = {
        "status": "FAIL",
        "entities": {
            "sub_jobs": [
                sub("Ecs.0319", None, "insufficient resources for flavor s3.large"),
                sub("Ecs.0319", "no capacity"),
                sub("Ecs.0013", "EIP quota"),
                {"status": "SUCCESS", "job_id": "ok"},
                sub(None, None),
            ]
        },
    }
    job = parse_job(body)
    assert len(job.failed_sub_jobs) == 4
    assert job.failure_summary() == [
        ("Ecs.0319", 2, "insufficient resources for flavor s3.large"),
        ("(no code)", 1, ""),
        ("Ecs.0013", 1, "EIP quota"),
    ]
    assert job.status_counts() == {"FAIL": 4, "SUCCESS": 1}


def test_failed_job_without_sub_jobs_summarises_itself() -> None:
    job = parse_job({"status": "FAIL", "error_code": "Ecs.0001", "fail_reason": "quota"})
    assert job.failure_summary() == [("Ecs.0001", 1, "quota")]


@pytest.mark.parametrize("text", ["", "<html>busy</html>", "[1, 2]", "null", '"job"', "{"])
def test_unreadable_bodies_raise_shape_error(text: str) -> None:
    with pytest.raises(ResponseShapeError):
        parse_job_text(text)


def test_model_is_immutable() -> None:
    job = parse_job_text(EXAMPLE_RESPONSE)
    with pytest.raises(AttributeError):
        job.status = "FAIL"  # type: ignore[misc]
    with pytest.raises(TypeError):
        job.entities["x"] = 1  # type: ignore[index]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, ""), (0, "0s"), (59.9, "59s"), (61, "1m01s"), (3600, "1h00m"), (90061, "1d01h")],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_a_sub_job_says_what_kind_of_resource_it_acts_on() -> None:
    def kind(entities: object) -> str:
        body = {"status": "RUNNING", "entities": {"sub_jobs": [{"entities": entities}]}}
        return parse_job(body).sub_jobs[0].resource_kind

    assert kind({"server_id": "s1"}) == "server"
    assert kind({"nic_id": "n1"}) == "nic"
    assert kind({"volume_id": "v1", "name": "data-01"}) == "volume"
    assert kind({"image_id": "i1"}) == "image"
    assert kind({"cluster_id": "c1"}) == "cluster"
    assert kind({"resource_id": "r1"}) == "resource"
    assert kind(None) == "resource"
