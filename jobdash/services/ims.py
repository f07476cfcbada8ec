"""IMS: `GET /v1/{project_id}/jobs/{job_id}` at `ims.`, ECS's shape with IMS's entities.

- The image made, copied or exported is `entities.image_id` (and `image_name`).
- Jobs that make several images (OVA import, one image per disk) list their sub-jobs in
  `entities.sub_jobs_result`, each a whole job object, and their ids in `sub_jobs_list`.
- Share jobs (adding, removing or updating an image's members) list one result per member
  project in `entities.results[]` (`image_id`, `project_id`, `status`): they become sub-jobs
  too. Their statuses are documented in upper case and sent in lower case.
- `process_percent` (with `current_task`) was documented until late 2025 and may still come.

Image calls answer `{"job_id": ...}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobdash.services.base import (
    FAILED,
    RUNNING,
    SUCCEEDED,
    WAITING,
    JobService,
    ecs_style,
    percent,
    status_from,
    text,
)
from jobdash.services.ecs import job_id_field, v1_job_path

_STATUSES = {
    "init": WAITING,
    "running": RUNNING,
    "success": SUCCEEDED,
    "fail": FAILED,
    # A member's result is a word of its own; these spellings are read as the job's.
    "failed": FAILED,
}


def _adapt_one(job: Mapping[str, Any]) -> dict[str, Any]:
    """One job object without its sub-jobs."""
    adapted = ecs_style(job, _STATUSES)
    progress = percent(job.get("process_percent"))
    if progress is not None:
        adapted["progress"] = progress
    raw_entities = job.get("entities")
    entities = dict(raw_entities) if isinstance(raw_entities, Mapping) else {}
    image = text(entities.get("image_id"))
    name = text(entities.get("image_name"))
    if image or name:
        adapted["resource_type"] = "image"
        adapted["resource_id"] = image or None
        adapted["resource_name"] = name or None
    adapted["entities"] = entities
    return adapted


def _member_result(result: Mapping[str, Any], job_type: Any) -> dict[str, Any]:
    """A share job's result for one member project, as a sub-job."""
    status, said = status_from(result.get("status"), _STATUSES)
    image = text(result.get("image_id")) or None
    project = text(result.get("project_id")) or None
    entities = {
        key: value for key, value in (("image_id", image), ("project_id", project)) if value
    }
    return {
        "job_type": job_type,
        "status": status,
        "service_status": said,
        "entities": entities,
        "resource_id": image,
        "resource_type": "image" if image else None,
    }


def adapt(data: Any) -> Any:
    """An IMS job in the model's shape: `sub_jobs_result` (flattened, depth first) and
    member results as `entities.sub_jobs`; the image as the resource."""
    if not isinstance(data, Mapping):
        return data
    adapted = _adapt_one(data)
    entities = adapted["entities"]
    subs: list[dict[str, Any]] = []
    # An explicit stack, not recursion: nesting the service never sends must not exhaust
    # the interpreter's.
    pending = _child_jobs(entities)
    while pending:
        child = _adapt_one(pending.pop())
        subs.append(child)
        pending.extend(_child_jobs(child["entities"]))
    results = entities.get("results")
    if isinstance(results, list):
        subs.extend(
            _member_result(result, data.get("job_type"))
            for result in results
            if isinstance(result, Mapping)
        )
    listed = entities.get("sub_jobs_list")
    if subs:
        entities["sub_jobs"] = subs
    if isinstance(listed, list) and "sub_jobs_total" not in entities:
        entities["sub_jobs_total"] = len(listed)
    return adapted


def _child_jobs(entities: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The sub-job objects under `entities`, last first (they are popped from a stack)."""
    children = entities.get("sub_jobs_result")
    if not isinstance(children, list):
        return []
    return [child for child in reversed(children) if isinstance(child, Mapping)]


SERVICE = JobService(
    name="ims",
    title="IMS",
    host="ims",
    job_path=v1_job_path,
    adapt=adapt,
    job_ids_in=job_id_field,
)
