"""Huawei Cloud DEH: an ECS-shaped job at the ECS endpoint naming its host three levels deep."""

from __future__ import annotations

import json

from jobdash.api.model import parse_job
from jobdash.services.base import endpoint_for
from jobdash.services.registry import service

DEH = service("deh")
HOST = "5d1b2e4a-8c3f-4a6e-9b7d-1f2e3d4c5b6a"


def read(body: object) -> object:
    raw = json.dumps(body).encode()
    return parse_job(DEH.read(json.loads(raw)), raw)


def test_a_finished_job_names_the_host_it_made() -> None:
    job = read(
        {
            "job_id": "ff80808288d41e1b0189a3c2d0f14b99",
            "job_type": "createDedicatedHost",
            "status": "SUCCESS",
            "begin_time": "2025-03-11T09:12:04.118Z",
            "end_time": "2025-03-11T09:14:31.902Z",
            "entities": {"entities": {"entities": [{"resourceId": HOST, "resourceType": "host"}]}},
        }
    )
    assert (job.status, job.service_status) == ("SUCCESS", "SUCCESS")
    assert (job.resource_id, job.resource_type) == (HOST, "host")
    assert job.end_time is not None and job.sub_job_count == 0


def test_odd_bodies_do_not_raise() -> None:
    for entities in (
        None,
        [],
        {"entities": None},
        {"entities": {"entities": "x"}},
        {"entities": {"entities": [None]}},
    ):
        job = read({"job_id": "j", "status": "RUNNING", "entities": entities})
        assert job.status == "RUNNING" and job.resource_id is None
    assert DEH.read("not a job") == "not a job"


def test_its_jobs_are_asked_for_at_the_ecs_endpoint() -> None:
    ecs = "https://ecs.ap-southeast-1.myhuaweicloud.com"
    assert endpoint_for(ecs, DEH) == ecs
    assert DEH.job_path("p", "j") == "/v1/p/jobs/j"
    assert DEH.job_ids_in({"jobId": "abc"}) == ["abc"]
    assert DEH.job_ids_in({"job_id": "def"}) == ["def"]
