"""CCE: Kubernetes-style Job objects (v3 and v2 spellings), nested sub-jobs, the v2 list."""

from __future__ import annotations

from datetime import UTC, datetime

from service_helpers import decoded, read_job, read_value

from jobdash.api.model import JobStatus
from jobdash.services.cce import SERVICE


def test_cce_job_path_is_v3() -> None:
    assert SERVICE.host == "cce"
    assert SERVICE.job_path("p1", "u1") == "/api/v3/projects/p1/jobs/u1"


def test_v3_failed_node_job() -> None:
    job = read_job(SERVICE, "cce_v3_node_failed.json")
    assert job.job_id == "2c4e6a80-2f1b-11f0-a3c5-0255ac100021"
    assert job.job_type == "CreateNode"
    assert job.status == JobStatus.FAIL
    assert job.service_status == "Failed"
    assert job.fail_reason == "create node failed: 1 of 1 nodes could not be created"
    assert job.begin_time == datetime(2025, 5, 12, 10, 15, 40, 118000, tzinfo=UTC)
    assert job.end_time == datetime(2025, 5, 12, 10, 24, 2, 907000, tzinfo=UTC)
    # No resource of its own yet: the job is on the cluster.
    assert job.resource_id == "8f0a2c4e-2a10-11f0-9d3b-0255ac100010"
    assert job.resource_type == "cluster"


def test_v3_sub_jobs_are_flattened_depth_first() -> None:
    job = read_job(SERVICE, "cce_v3_node_failed.json")
    assert job.sub_job_keys == [
        "2c5a7b91-2f1b-11f0-a3c5-0255ac100021",
        "2c6b8ca2-2f1b-11f0-a3c5-0255ac100021",
        "2c7c9db3-2f1b-11f0-a3c5-0255ac100021",
    ]
    node, vm, pool = job.sub_jobs
    assert [sub.job_type for sub in job.sub_jobs] == [
        "CreateNode",
        "CreateNodeVM",
        "UpdateNodePool",
    ]
    assert [sub.status for sub in job.sub_jobs] == ["FAIL", "FAIL", "INIT"]
    assert vm.fail_reason == "ECS quota exceeded"
    assert vm.resource_id == "e3f5a7b9-c1d3-4e5f-a7b9-c1d3e5f7a9b1"
    assert vm.raw["resource_name"] == "workers-node-7"
    assert vm.begin_time is None and vm.end_time is None
    assert node.end_time == datetime(2025, 5, 12, 10, 24, 1, 770000, tzinfo=UTC)
    # A job still initialising has no end even when the object was updated.
    assert pool.end_time is None and pool.fail_reason is None
    assert pool.resource_id == "8f0a2c4e-2a10-11f0-9d3b-0255ac100010"
    assert job.failure_summary() == [
        ("(no code)", 2, "sub job CreateNodeVM failed"),
    ]


def test_v2_spelling_reads_the_same() -> None:
    job = read_job(SERVICE, "cce_v2_success.json")
    assert job.status == JobStatus.SUCCESS
    assert job.service_status == "Success"
    assert job.job_type == "ScaleupCluster"
    assert job.fail_reason is None
    assert job.end_time == datetime(2025, 6, 3, 9, 8, 39, 998000, tzinfo=UTC)
    assert job.resource_id == "7d9f1b32-4c5e-4f60-8a7b-9c0d1e2f3a4b"
    assert job.resource_name == "batch-node-3"
    (vm,) = job.sub_jobs
    assert vm.status == JobStatus.SUCCESS
    assert vm.end_time == datetime(2025, 6, 3, 9, 7, 58, 400000, tzinfo=UTC)
    assert vm.entities["cluster_id"] == "6c8e0a21-3a2c-11f0-b4d6-0255ac100044"


def test_running_job_has_no_end_and_no_failure() -> None:
    answer = decoded("cce_v3_node_failed.json")
    answer["status"] = {"phase": "Running", "reason": "creating"}
    job = read_value(SERVICE, answer)
    assert job.status == JobStatus.RUNNING
    assert job.end_time is None
    assert job.fail_reason is None


def test_create_answers_name_their_job() -> None:
    assert SERVICE.job_ids_in is not None
    assert SERVICE.job_ids_in(decoded("cce_v2_success.json")) == [
        "5b7d9f10-3a2c-11f0-b4d6-0255ac100044"
    ]
    node = {"kind": "Node", "metadata": {"uid": "n1"}, "status": {"jobID": "job-7"}}
    assert SERVICE.job_ids_in(node) == ["job-7"]
    assert SERVICE.job_ids_in({"jobid": "job-8"}) == ["job-8"]
    assert SERVICE.job_ids_in({"job_id": "ecs-job"}) == []
    assert SERVICE.job_ids_in({"kind": "Job", "metadata": {"uid": ""}}) == []
    assert SERVICE.job_ids_in("Job") == []


def test_v2_list_gives_owner_jobs_only() -> None:
    assert SERVICE.listing is not None
    since = datetime(2025, 6, 1, tzinfo=UTC)
    assert SERVICE.listing.path("p1", since) == "/api/v2/projects/p1/jobs"
    assert SERVICE.listing.read(decoded("cce_v2_list.json")) == [
        ("11aa22bb-0000-11f0-8000-0255ac100001", datetime(2025, 6, 1, 7, 0, 0, 500000, tzinfo=UTC)),
        ("11aa22bb-0000-11f0-8000-0255ac100003", None),
    ]
    assert SERVICE.listing.read({"items": []}) == []
