"""EVS, BMS, VBS and IMS: jobs at `/v1/{project_id}/jobs/{job_id}` in ECS's shape or near it."""

from __future__ import annotations

from datetime import UTC, datetime

from service_helpers import read_job, read_value

from jobdash.api.model import JobStatus
from jobdash.services import bms, ecs, evs, ims, vbs


def test_v1_services_ask_the_ecs_job_path_at_their_own_host() -> None:
    for service, host in ((evs, "evs"), (bms, "bms"), (vbs, "vbs"), (ims, "ims")):
        assert service.SERVICE.host == host
        assert service.SERVICE.job_path("p1", "j1") == "/v1/p1/jobs/j1"


def test_evs_batch_failure_reads_per_disk() -> None:
    job = read_job(evs.SERVICE, "evs_batch_failed.json")
    assert job.status == JobStatus.FAIL
    assert job.service_status == "FAIL"
    assert job.job_type == "batchCreateVolume"
    assert job.begin_time == datetime(2025, 4, 2, 13, 20, 5, 310000, tzinfo=UTC)
    assert job.end_time == datetime(2025, 4, 2, 13, 20, 44, 907000, tzinfo=UTC)
    assert (job.error_code, job.fail_reason) == ("EVS.2024", "volume is error!")
    assert job.sub_job_keys == [
        "4a9e0c2b7f3d11ef8a1c0242ac120003",
        "4a9e0c2b7f3d11ef8a1c0242ac120004",
    ]
    assert [sub.status for sub in job.sub_jobs] == ["SUCCESS", "FAIL"]
    failed = job.failed_sub_jobs[0]
    assert failed.resource_id == "7d1e3f5a-2b4c-4d6e-8f0a-1b2c3d4e5f6a"
    assert failed.raw["resource_name"] == "logs-b"
    assert failed.raw["resource_type"] == "volume"
    assert job.failure_summary() == [("EVS.2024", 1, "volume is error!")]


def test_evs_running_extend_names_its_disk_and_has_no_end() -> None:
    job = read_job(evs.SERVICE, "evs_extend_running.json")
    assert job.status == JobStatus.RUNNING
    assert job.end_time is None
    assert job.resource_id == "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
    assert job.resource_name == "db-data"
    assert job.progress is None


def test_bms_reads_as_ecs_does() -> None:
    job = read_job(bms.SERVICE, "bms_batch_failed.json")
    assert bms.SERVICE.adapt is None
    assert job.status == JobStatus.FAIL
    assert job.total_sub_jobs == 2
    assert [sub.server_id for sub in job.failed_sub_jobs] == [
        "c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f"
    ]


def test_vbs_top_level_sub_jobs_become_the_jobs_sub_jobs() -> None:
    job = read_job(vbs.SERVICE, "vbs_backup_running.json")
    assert job.status == JobStatus.RUNNING
    assert job.service_status == "RUNNING"
    assert job.end_time is None
    assert job.resource_id == "2f4a6c8e-0b1d-4e3f-a5b7-c9d1e3f5a7b9"
    assert job.resource_type == "backup"
    assert job.sub_job_count == 2
    assert job.status_counts() == {"SUCCESS": 1, "RUNNING": 1}
    first, second = job.sub_jobs
    assert first.end_time == datetime(2025, 2, 27, 22, 0, 31, 540000, tzinfo=UTC)
    assert second.resource_id == "2f4a6c8e-0b1d-4e3f-a5b7-c9d1e3f5a7b9"


def test_ims_sub_job_results_become_sub_jobs_with_their_images() -> None:
    job = read_job(ims.SERVICE, "ims_ova_failed.json")
    assert job.status == JobStatus.FAIL
    assert job.progress == 50.0
    assert (job.error_code, job.fail_reason) == (
        "IMG.0057",
        "the image file cannot be read from the bucket",
    )
    assert job.sub_job_keys == [
        "ff8080829b2c3d4e019c5d6e7f800102",
        "ff8080829b2c3d4e019c5d6e7f800103",
    ]
    assert job.total_sub_jobs == 2
    done, failed = job.sub_jobs
    assert done.resource_id == "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d"
    assert done.raw["resource_name"] == "erp-sys"
    assert failed.status == JobStatus.FAIL
    assert failed.raw["resource_name"] == "erp-data"
    assert failed.raw["resource_id"] is None


def test_ims_share_results_are_sub_jobs_whatever_the_case() -> None:
    job = read_job(ims.SERVICE, "ims_share.json")
    assert job.status == JobStatus.SUCCESS
    assert [sub.status for sub in job.sub_jobs] == ["SUCCESS", "FAIL"]
    assert [sub.service_status for sub in job.sub_jobs] == ["success", "fail"]
    assert job.sub_jobs[1].entities["project_id"] == "b2c3d4e5f6a74b8c9d0e1f2a3b4c5d6e"
    assert job.sub_job_keys == ["#1", "#2"]


def test_ims_nested_sub_job_results_are_flattened_depth_first() -> None:
    def nested(name: str, *children: dict[str, object]) -> dict[str, object]:
        return {
            "job_id": name,
            "status": "RUNNING",
            "entities": {"sub_jobs_result": list(children)},
        }

    answer = nested("top", nested("a", nested("a1"), nested("a2")), nested("b"))
    job = read_value(ims.SERVICE, answer)
    assert job.sub_job_keys == ["a", "a1", "a2", "b"]


def test_ims_very_deep_nesting_does_not_exhaust_the_stack() -> None:
    answer: dict[str, object] = {"job_id": "leaf", "status": "INIT"}
    for level in range(5000):
        answer = {
            "job_id": f"j{level}",
            "status": "RUNNING",
            "entities": {"sub_jobs_result": [answer]},
        }
    adapted = ims.SERVICE.read(answer)
    assert len(adapted["entities"]["sub_jobs"]) == 5000


def test_v1_create_answers_name_their_job() -> None:
    for service in (evs, bms, vbs, ims):
        assert service.SERVICE.job_ids_in is ecs.job_id_field
        assert service.SERVICE.job_ids_in({"job_id": "abc"}) == ["abc"]
        assert service.SERVICE.job_ids_in({"order_id": "o1"}) == []
        assert service.SERVICE.job_ids_in(["abc"]) == []
