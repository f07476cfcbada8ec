"""RDS and DDS: `{"job": ...}` answers at `/v3/{project_id}/jobs?id=`, RDS's task list."""

from __future__ import annotations

from datetime import UTC, datetime

from service_helpers import decoded, read_job, read_value

from jobdash.api.model import JobStatus
from jobdash.services import dds, rds


def test_job_paths_and_hosts() -> None:
    assert rds.SERVICE.job_path("p1", "j1") == "/v3/p1/jobs?id=j1"
    assert dds.SERVICE.job_path("p1", "j1") == "/v3/p1/jobs?id=j1"
    assert (rds.SERVICE.host, dds.SERVICE.host) == ("rds", "dds")


def test_rds_failed_job() -> None:
    job = read_job(rds.SERVICE, "rds_resize_failed.json")
    assert job.job_id == "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"
    assert job.job_type == "ResizeMysqlVolume"
    assert job.status == JobStatus.FAIL
    assert job.service_status == "Failed"
    assert job.begin_time == datetime(2025, 8, 11, 2, 30, 15, tzinfo=UTC)
    assert job.end_time == datetime(2025, 8, 11, 2, 36, 49, tzinfo=UTC)
    assert job.fail_reason == "resize volume failed."
    assert job.progress is None
    assert job.resource_id == "5a6b7c8d9e0f4a1b2c3d4e5f6a7b8c9din01"
    assert job.resource_name == "billing-db"
    assert job.sub_job_count == 0
    assert job.failure_summary() == [("(no code)", 1, "resize volume failed.")]


def test_rds_running_job_reads_its_progress() -> None:
    job = read_job(rds.SERVICE, "rds_create_running.json")
    assert job.status == JobStatus.RUNNING
    assert job.progress == 60.0
    assert job.end_time is None
    assert job.resource_name == "ledger-db"


def test_rds_complete_is_a_success_too() -> None:
    for word in ("Completed", "Complete", "COMPLETED"):
        answer = decoded("rds_create_running.json")
        answer["job"]["status"] = word
        answer["job"]["ended"] = "2025-08-11T03:20:00+0000"
        job = read_value(rds.SERVICE, answer)
        assert job.status == JobStatus.SUCCESS
        assert job.service_status == word
        assert job.end_time == datetime(2025, 8, 11, 3, 20, tzinfo=UTC)


def test_dds_running_job_ignores_its_early_end() -> None:
    job = read_job(dds.SERVICE, "dds_resize_running.json")
    assert job.status == JobStatus.RUNNING
    assert job.service_status == "Running"
    assert job.progress == 9.0
    assert job.begin_time == datetime(2025, 9, 30, 18, 5, 44, tzinfo=UTC)
    assert job.end_time is None
    assert job.fail_reason is None
    assert job.resource_id == "8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3fin02"


def test_create_answers_name_their_job() -> None:
    for service in (rds.SERVICE, dds.SERVICE):
        assert service.job_ids_in is not None
        assert service.job_ids_in({"instance": {"id": "i1"}, "job_id": "j1"}) == ["j1"]
        assert service.job_ids_in({"job_id": "j2"}) == ["j2"]
        assert service.job_ids_in({"kind": "Node", "status": {"jobID": "c"}}) == []
        assert service.job_ids_in({"operation_log": {"id": "x"}}) == []
        assert service.job_ids_in(None) == []


def test_rds_task_list() -> None:
    assert rds.SERVICE.listing is not None
    since = datetime(2025, 8, 11, tzinfo=UTC)
    assert rds.SERVICE.listing.path("p1", since) == (
        "/v3/p1/tasklist?offset=0&limit=50&start_time=1754870400000"
    )
    assert rds.SERVICE.listing.read(decoded("rds_tasklist.json")) == [
        ("e3f4a5b6-c7d8-4e9f-0a1b-2c3d4e5f6a7b", datetime(2025, 8, 11, 3, 0, tzinfo=UTC)),
        ("f4a5b6c7-d8e9-4f0a-1b2c-3d4e5f6a7b8c", datetime(2025, 8, 11, 4, 0, tzinfo=UTC)),
    ]
    assert rds.SERVICE.listing.read({"tasks": None}) == []
    assert dds.SERVICE.listing is None
