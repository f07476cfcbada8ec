"""BMS: `GET /v1/{project_id}/jobs/{job_id}` at `bms.`, answered exactly as ECS answers.

Batch create and operate jobs list one sub-job per bare-metal server
(`entities.server_id`, or `nic_id`), so the model reads them as it reads ECS's and no
adaptation is needed. Create, operate and volume calls answer `{"job_id": ...}`."""

from __future__ import annotations

from jobdash.services.base import JobService
from jobdash.services.ecs import job_id_field, v1_job_path

SERVICE = JobService(
    name="bms",
    title="BMS",
    host="bms",
    job_path=v1_job_path,
    job_ids_in=job_id_field,
)
