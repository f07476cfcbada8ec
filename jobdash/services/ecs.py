"""ECS: `GET /v1/{project_id}/jobs/{job_id}` at `ecs.`; the shape every other adapter maps to.

A create, batch or delete call answers `{"job_id": ...}` (a yearly/monthly order answers
`order_id` instead, which is not a job)."""

from __future__ import annotations

from typing import Any

from jobdash.services.base import JobService, field, text


def v1_job_path(project_id: str, job_id: str) -> str:
    return f"/v1/{project_id}/jobs/{job_id}"


def job_id_field(answer: Any) -> list[str]:
    """`{"job_id": ...}` (or `jobId`), as ECS-style create calls answer."""
    found = text(field(answer, "job_id")) or text(field(answer, "jobId"))
    return [found] if found else []


SERVICE = JobService(
    name="ecs",
    title="ECS",
    host="ecs",
    job_path=v1_job_path,
    job_ids_in=job_id_field,
)
