"""Huawei Cloud DEH (dedicated hosts): a create answers a job id (`jobId` or `job_id`)
that is polled at the ECS endpoint, on ECS's job path, in ECS's shape; the host it made is
named three `entities` deep (`entities.entities.entities[0].resourceId`). Known from the
Huawei terraform provider's code rather than from a published API page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobdash.services.base import ECS_STATUSES, JobService, ecs_style, field, nonempty
from jobdash.services.ecs import job_id_field, v1_job_path


def adapt(data: Any) -> Any:
    """A DEH job in the model's shape: its host as the resource."""
    if not isinstance(data, Mapping):
        return data
    adapted = ecs_style(data, ECS_STATUSES)
    hosts = field(data, "entities", "entities", "entities")
    first = hosts[0] if isinstance(hosts, list) and hosts else None
    host = nonempty(field(first, "resourceId"))
    if host:
        adapted["resource_id"] = host
        adapted["resource_type"] = nonempty(field(first, "resourceType")) or "host"
    entities = data.get("entities")
    adapted["entities"] = dict(entities) if isinstance(entities, Mapping) else {}
    return adapted


SERVICE = JobService(
    name="deh",
    title="DEH",
    # Its jobs answer at the ECS endpoint, not at a DEH one.
    host="ecs",
    job_path=v1_job_path,
    adapt=adapt,
    job_ids_in=job_id_field,
)
