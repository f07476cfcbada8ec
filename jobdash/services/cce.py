"""CCE: `GET /api/v3/projects/{project_id}/jobs/{job_id}` at `cce.`, a Kubernetes-style object.

v3: `{"kind": "Job", "metadata": {uid, creationTimestamp, updateTimestamp}, "spec": {type,
clusterUID, resourceID, resourceName, subJobs[]}, "status": {phase, reason}}`, phases
`Initializing`, `Running`, `Success`, `Failed`. `spec.subJobs` are whole Job objects that
nest again (a node job's VM sub-job has its own), flattened here depth first. Times are Go's
`2020-02-02 08:12:40.672772389 +0000 UTC`.

v2 (the same job at `/api/v2/...`, and its list) spells the spec in lower case (`clusteruid`,
`resourceid`, `resourcename`, `subjobs`), keeps the state in `status.status` and adds
`status.completionTime`; both shapes are read.

Cluster and node calls answer the cluster or node with the job in `status.jobID`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jobdash.services.base import (
    FAILED,
    RUNNING,
    SUCCEEDED,
    WAITING,
    JobService,
    ListApi,
    end_time_text,
    field,
    job_named,
    nonempty,
    parse_loose_time,
    time_text,
)

_STATUSES = {
    "initializing": WAITING,
    "running": RUNNING,
    "success": SUCCEEDED,
    "failed": FAILED,
}


def job_path(project_id: str, job_id: str) -> str:
    return f"/api/v3/projects/{project_id}/jobs/{job_id}"


def _spec(job: Mapping[str, Any], v3: str, v2: str) -> Any:
    value = field(job, "spec", v3)
    return value if value is not None else field(job, "spec", v2)


def _adapt_one(job: Mapping[str, Any]) -> dict[str, Any]:
    """One Job object without its sub-jobs."""
    word = field(job, "status", "phase")
    if word is None:
        word = field(job, "status", "status")
    adapted = job_named(
        job,
        _STATUSES,
        job_id=field(job, "metadata", "uid"),
        job_type=field(job, "spec", "type"),
        status=word,
    )
    adapted["begin_time"] = time_text(field(job, "metadata", "creationTimestamp"))
    # Without a completion time, the last update is when a finished job finished.
    adapted["end_time"] = end_time_text(
        adapted["status"],
        field(job, "status", "completionTime"),
        field(job, "metadata", "updateTimestamp"),
    )
    if adapted["status"] == FAILED:
        said_why = [
            why
            for why in (
                nonempty(field(job, "status", "reason")),
                nonempty(field(job, "status", "message")),
            )
            if why
        ]
        if len(said_why) == 2 and said_why[0] == said_why[1]:
            said_why.pop()
        adapted["fail_reason"] = ": ".join(said_why) or None
    else:
        adapted["fail_reason"] = None
    adapted["error_code"] = None  # CCE gives none; a failure is explained by its reason
    resource = nonempty(_spec(job, "resourceID", "resourceid"))
    name = nonempty(_spec(job, "resourceName", "resourcename"))
    cluster = nonempty(_spec(job, "clusterUID", "clusteruid"))
    entities: dict[str, Any] = {}
    if resource or name:
        adapted["resource_id"] = resource
        adapted["resource_name"] = name
        if resource:
            entities["resource_id"] = resource
    elif cluster:
        # A job on the cluster as a whole (a node job before its node exists) names none.
        adapted["resource_id"] = cluster
        adapted["resource_type"] = "cluster"
    if cluster:
        entities["cluster_id"] = cluster
    adapted["entities"] = entities
    return adapted


def _child_jobs(job: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The sub-job objects of a Job, last first (they are popped from a stack)."""
    children = _spec(job, "subJobs", "subjobs")
    if not isinstance(children, list):
        return []
    return [child for child in reversed(children) if isinstance(child, Mapping)]


def adapt(data: Any) -> Any:
    """A CCE Job in the model's shape, its nested sub-jobs flattened depth first."""
    if not isinstance(data, Mapping):
        return data
    adapted = _adapt_one(data)
    subs: list[dict[str, Any]] = []
    # An explicit stack, not recursion: absurd nesting must not exhaust the interpreter's.
    pending = _child_jobs(data)
    while pending:
        child = pending.pop()
        subs.append(_adapt_one(child))
        pending.extend(_child_jobs(child))
    if subs:
        adapted["entities"]["sub_jobs"] = subs
    return adapted


def job_ids_in(answer: Any) -> list[str]:
    """A Job object's uid, or the job a cluster or node answer names in `status.jobID`
    (also as a top-level `jobID`/`jobid`, as some CCE calls answer)."""
    if not isinstance(answer, Mapping):
        return []
    if answer.get("kind") == "Job":
        found = nonempty(field(answer, "metadata", "uid"))
        return [found] if found else []
    for place in (answer.get("status"), answer):
        if isinstance(place, Mapping):
            found = nonempty(place.get("jobID")) or nonempty(place.get("jobid"))
            if found:
                return [found]
    return []


def list_path(project_id: str, since: datetime) -> str:
    # The v2 list takes no filters and no paging: every job the project still has.
    return f"/api/v2/projects/{project_id}/jobs"


def read_list(page: Any) -> list[tuple[str, datetime | None]]:
    """The jobs in the v2 list (a bare array); sub-jobs, which name their owner job, are
    left to their owners."""
    if not isinstance(page, list):
        return []
    found: list[tuple[str, datetime | None]] = []
    for item in page:
        uid = nonempty(field(item, "metadata", "uid"))
        if uid is None or nonempty(_spec(item, "ownerJob", "ownerjob")):
            continue
        found.append((uid, parse_loose_time(field(item, "metadata", "creationTimestamp"))))
    return found


SERVICE = JobService(
    name="cce",
    title="CCE",
    host="cce",
    job_path=job_path,
    adapt=adapt,
    job_ids_in=job_ids_in,
    listing=ListApi(path=list_path, read=read_list),
)
