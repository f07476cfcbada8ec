"""DCS, SFS Turbo, CBR and ELB: jobs that are flat objects, some inside a wrapper."""

from __future__ import annotations

from datetime import UTC, datetime

from service_helpers import decoded, read_job, read_value

from jobdash.api.model import JobStatus
from jobdash.services import cbr, dcs, elb, sfs_turbo


def test_dcs_epoch_times_and_error_message() -> None:
    assert dcs.SERVICE.job_path("p1", "j1") == "/v2/p1/jobs/j1"
    job = read_job(dcs.SERVICE, "dcs_swap_failed.json")
    assert job.status == JobStatus.FAIL
    assert job.service_status == "FAIL"
    assert job.job_type == "masterStandbySwapJob"
    assert job.begin_time == datetime(2025, 7, 9, 8, 33, 20, 123000, tzinfo=UTC)
    assert job.end_time == datetime(2025, 7, 9, 8, 33, 51, 456000, tzinfo=UTC)
    assert (job.error_code, job.fail_reason) == ("DCS.4842", "standby node is not reachable")
    assert job.resource_id is None
    assert dcs.SERVICE.listing is None


def test_dcs_running_job_without_end() -> None:
    job = read_value(
        dcs.SERVICE,
        {"job_id": "j", "status": "RUNNING", "begin_time": "1752050000123", "end_time": ""},
    )
    assert job.status == JobStatus.RUNNING
    assert job.end_time is None
    assert job.fail_reason is None


def test_sfs_turbo_job_and_sub_jobs() -> None:
    assert sfs_turbo.SERVICE.name == "sfs-turbo"
    assert sfs_turbo.SERVICE.host == "sfs-turbo"
    assert sfs_turbo.SERVICE.job_path("p1", "j1") == "/v1/p1/sfs-turbo/jobs/j1"
    job = read_job(sfs_turbo.SERVICE, "sfs_turbo_extend_failed.json")
    assert job.status == JobStatus.FAIL
    assert job.service_status == "failed"
    assert job.begin_time == datetime(2025, 10, 6, 21, 44, 10, tzinfo=UTC)
    assert job.end_time == datetime(2025, 10, 6, 21, 47, 58, tzinfo=UTC)
    assert (job.error_code, job.fail_reason) == ("SFS.TURBO.0032", "EVS Resource Not Enough")
    assert job.sub_job_keys == [
        "6e8a0c2e-4f6b-4d8f-ab2d-4f6b8d0f2c4e",
        "7f9b1d3f-5a7c-4e9a-bc3e-5a7c9e1a3d5f",
    ]
    failed, waiting = job.sub_jobs
    assert (failed.status, failed.service_status) == (JobStatus.FAIL, "failed")
    assert (waiting.status, waiting.service_status) == (JobStatus.INIT, "waiting")
    assert waiting.begin_time is None and waiting.error_code is None
    assert job.failure_summary() == [("SFS.TURBO.0032", 1, "EVS Resource Not Enough")]


def test_sfs_turbo_error_words_of_its_own() -> None:
    job = read_value(
        sfs_turbo.SERVICE,
        {"job_id": "j", "status": "failed", "errCode": "SFS.TURBO.0030", "errMsg": "no ECS"},
    )
    assert (job.error_code, job.fail_reason) == ("SFS.TURBO.0030", "no ECS")


def test_cbr_failed_backup() -> None:
    assert cbr.SERVICE.job_path("p1", "l1") == "/v3/p1/operation-logs/l1"
    job = read_job(cbr.SERVICE, "cbr_backup_failed.json")
    assert job.job_id == "b8c9d0e1-f2a3-4b4c-9d5e-6f7a8b9c0d1e"
    assert job.job_type == "backup"
    assert job.status == JobStatus.FAIL
    assert job.service_status == "failed"
    assert job.begin_time == datetime(2025, 3, 14, 23, 0, 3, 520000, tzinfo=UTC)
    assert job.end_time == datetime(2025, 3, 14, 23, 12, 40, 871000, tzinfo=UTC)
    assert (job.error_code, job.fail_reason) == (
        "BackupService.6125",
        "A backup task is in progress.",
    )
    assert job.progress == 40.0
    assert (job.resource_id, job.resource_name, job.resource_type) == (
        "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b",
        "mail-01",
        "OS::Nova::Server",
    )


def test_cbr_running_restore() -> None:
    job = read_job(cbr.SERVICE, "cbr_restore_running.json")
    assert job.status == JobStatus.RUNNING
    assert job.end_time is None
    assert job.error_code is None and job.fail_reason is None
    assert job.progress == 75.0
    assert job.resource_type == "OS::Sfs::Turbo"


def test_cbr_statuses() -> None:
    expected = {
        "success": JobStatus.SUCCESS,
        "skipped": JobStatus.SUCCESS,
        "failed": JobStatus.FAIL,
        "running": JobStatus.RUNNING,
        "timeout": JobStatus.FAIL,
        "waiting": JobStatus.INIT,
        "paused": "paused",
    }
    for word, status in expected.items():
        job = read_value(cbr.SERVICE, {"operation_log": {"id": "l", "status": word}})
        assert (job.status, job.service_status) == (status, word)


def test_cbr_list() -> None:
    assert cbr.SERVICE.job_ids_in is None
    assert cbr.SERVICE.listing is not None
    since = datetime(2025, 3, 15, 1, 30, 5, 250000, tzinfo=UTC)
    assert cbr.SERVICE.listing.path("p1", since) == (
        "/v3/p1/operation-logs?start_time=2025-03-15T01:30:05Z&limit=100&offset=0"
    )
    assert cbr.SERVICE.listing.read(decoded("cbr_list.json")) == [
        ("a3b4c5d6-e7f8-4a9b-0c1d-2e3f4a5b6c7d", datetime(2025, 3, 15, 1, 0, 0, 90000, tzinfo=UTC)),
        ("b4c5d6e7-f8a9-4b0c-1d2e-3f4a5b6c7d8e", datetime(2025, 3, 15, 2, 0, tzinfo=UTC)),
    ]
    assert cbr.SERVICE.listing.read([]) == []


def test_elb_job_with_listener_sub_jobs() -> None:
    assert elb.SERVICE.job_path("p1", "j1") == "/v3/p1/elb/jobs/j1"
    job = read_job(elb.SERVICE, "elb_clone_failed.json")
    assert job.job_type == "cloneListener"
    assert job.status == JobStatus.FAIL
    assert job.service_status == "ROLLBACK_FAIL"
    assert job.begin_time == datetime(2025, 11, 20, 16, 2, 11, tzinfo=UTC)
    assert job.end_time == datetime(2025, 11, 20, 16, 2, 58, tzinfo=UTC)
    assert (job.error_code, job.fail_reason) == (
        "ELB.8907",
        "port 443 is already used by another listener",
    )
    assert job.resource_id == "ab12cd34-ef56-4a78-9b0c-1d2e3f4a5b6c"
    failed, cancelled = job.sub_jobs
    assert (failed.status, cancelled.status) == (JobStatus.FAIL, JobStatus.ROLLED_BACK)
    assert cancelled.service_status == "CANCEL"
    assert failed.resource_id == "cd34ef56-ab12-4c78-8d9e-0f1a2b3c4d5e"
    assert failed.entities["listener_id"] == "cd34ef56-ab12-4c78-8d9e-0f1a2b3c4d5e"
    assert failed.raw["resource_type"] == "listener"
    assert job.failure_summary() == [
        ("ELB.8907", 1, "port 443 is already used by another listener")
    ]


def test_elb_statuses() -> None:
    expected = {
        "INIT": JobStatus.INIT,
        "RUNNING": JobStatus.RUNNING,
        "FAIL": JobStatus.FAIL,
        "SUCCESS": JobStatus.SUCCESS,
        "ROLLBACKING": JobStatus.RUNNING,
        "COMPLETE": JobStatus.SUCCESS,
        "ROLLBACK_FAIL": JobStatus.FAIL,
        "CANCEL": JobStatus.ROLLED_BACK,
    }
    for word, status in expected.items():
        job = read_value(elb.SERVICE, {"job": {"job_id": "j", "status": word}})
        assert (job.status, job.service_status) == (status, word)


def test_elb_list() -> None:
    assert elb.SERVICE.listing is not None
    since = datetime(2025, 11, 20, 15, 0, tzinfo=UTC)
    assert elb.SERVICE.listing.path("p1", since) == (
        "/v3/p1/elb/jobs?begin_time=2025-11-20T15:00:00&limit=100"
    )
    assert elb.SERVICE.listing.read(decoded("elb_list.json")) == [
        ("2d4e6f80-7b8c-4d9e-8fa0-2b3c4d5e6f70", datetime(2025, 11, 20, 15, 0, tzinfo=UTC)),
        ("3e5f7091-8c9d-4eaf-9fb1-3c4d5e6f7081", None),
    ]


def test_create_answers() -> None:
    for service in (dcs.SERVICE, elb.SERVICE, sfs_turbo.SERVICE):
        assert service.job_ids_in is not None
        assert service.job_ids_in({"job_id": "j1", "request_id": "r"}) == ["j1"]
        assert service.job_ids_in({"kind": "Cluster", "status": {"jobID": "c1"}}) == []
        assert service.job_ids_in({"id": "share-1", "name": "s", "status": "100"}) == []
        assert service.job_ids_in([]) == []
    assert sfs_turbo.SERVICE.job_ids_in is not None
    assert sfs_turbo.SERVICE.job_ids_in({"jobId": "j2"}) == ["j2"]
