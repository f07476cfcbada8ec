"""DDS: `GET /v3/{project_id}/jobs?id={job_id}` at `dds.`, RDS's `{"job": {...}}` answer with
`progress` (`"9%"`, `""` when not running) and no `entities`. A running job's answer may
already carry `ended`, so only a finished job's is read. DDS documents no list of jobs."""

from __future__ import annotations

from jobdash.services.base import JobService, job_id_only
from jobdash.services.rds import database_job_adapter, job_path

SERVICE = JobService(
    name="dds",
    title="DDS",
    host="dds",
    job_path=job_path,
    adapt=database_job_adapter("progress"),
    job_ids_in=job_id_only,
)
