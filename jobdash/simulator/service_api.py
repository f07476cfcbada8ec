"""The other services' job APIs: which path is whose, and what their list calls answer.

Several services share a path (`/v1/{project_id}/jobs/{job_id}` for ECS, EVS, BMS, IMS and
VBS; `/v3/{project_id}/jobs?id=` for RDS and DDS): a job id is looked up across all of them,
since ids are unique. Authentication, flow control and faults are the app's
(`jobdash.simulator.app`), the same for every service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from jobdash.simulator.clock import to_ms
from jobdash.simulator.service_bodies import (
    cbr_status,
    elb_job,
    rds_task,
    render,
    render_cce,
)
from jobdash.simulator.service_jobs import ServiceJob, ServiceJobBook

#: The services answering on the ECS job path, after ECS itself.
SHARED_V1 = ("evs", "bms", "ims", "vbs", "deh")


@dataclass(frozen=True, slots=True)
class JobRoute:
    route: str  # name in the request counters
    services: tuple[str, ...]  # where the id is looked up
    project_id: str
    job_id: str | None  # None: the service's list call
    v2: bool = False  # CCE's v2 spelling


_ROUTES: tuple[tuple[str, re.Pattern[str], tuple[str, ...], bool], ...] = (
    ("cce_job", re.compile(r"/api/v3/projects/([^/]+)/jobs/([^/]+)"), ("cce",), False),
    ("cce_job_v2", re.compile(r"/api/v2/projects/([^/]+)/jobs/([^/]+)"), ("cce",), True),
    ("cce_jobs_v2", re.compile(r"/api/v2/projects/([^/]+)/jobs/?"), ("cce",), True),
    ("rds_tasklist", re.compile(r"/v3/([^/]+)/tasklist/?"), ("rds",), False),
    ("db_job", re.compile(r"/v3/([^/]+)/jobs/?"), ("rds", "dds"), False),
    ("dcs_job", re.compile(r"/v2/([^/]+)/jobs/([^/]+)"), ("dcs",), False),
    ("cbr_log", re.compile(r"/v3/([^/]+)/operation-logs/([^/]+)"), ("cbr",), False),
    ("cbr_logs", re.compile(r"/v3/([^/]+)/operation-logs/?"), ("cbr",), False),
    ("sfs_turbo_job", re.compile(r"/v1/([^/]+)/sfs-turbo/jobs/([^/]+)"), ("sfs_turbo",), False),
    ("elb_job", re.compile(r"/v3/([^/]+)/elb/jobs/([^/]+)"), ("elb",), False),
    ("elb_jobs", re.compile(r"/v3/([^/]+)/elb/jobs/?"), ("elb",), False),
)


def match_route(path: str, query: str) -> JobRoute | None:
    """The service job route a path belongs to (not the ECS path: the app has that)."""
    for name, pattern, services, v2 in _ROUTES:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        parts = [unquote(part) for part in match.groups()]
        job_id = parts[1] if len(parts) > 1 else None
        if name == "db_job":
            # RDS and DDS name the job in the query: `?id=...`; "" when it is missing.
            job_id = query_values(query).get("id", "")
        return JobRoute(name, services, parts[0], job_id, v2)
    return None


def query_values(query: str) -> dict[str, str]:
    """The last value of each query parameter."""
    return {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}


def job_body(route: JobRoute, found: tuple[ServiceJob, int | None], now_ms: int, rid: str) -> Any:
    job, index = found
    if job.service == "cce":
        return render_cce(job, index, now_ms, v2=route.v2)
    return render(job, index, now_ms, rid)


def _int(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    text = params.get(name, "")
    if text == "":
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}")
    return int(text)


def _time(params: dict[str, str], name: str, pattern: str) -> int | None:
    text = params.get(name, "")
    if not text:
        return None
    try:
        return to_ms(datetime.strptime(text, pattern).replace(tzinfo=UTC))
    except ValueError as exc:
        raise ValueError(f"{name} must look like {pattern}") from exc


def list_body(route: JobRoute, book: ServiceJobBook, query: str, now_ms: int, rid: str) -> Any:
    """The answer of a list call; ValueError for an unusable parameter."""
    params = query_values(query)
    service = route.services[0]
    jobs = book.jobs(service, route.project_id, now_ms)
    if service == "cce":
        # A bare array, no filters or paging.
        return [render_cce(job, None, now_ms, v2=True) for job in jobs]
    if service == "rds":
        return _rds_tasks(jobs, params, now_ms)
    if service == "cbr":
        return _cbr_logs(jobs, params, now_ms)
    return _elb_jobs(jobs, params, now_ms, rid)


def _rds_tasks(jobs: list[ServiceJob], params: dict[str, str], now_ms: int) -> dict[str, Any]:
    offset = _int(params, "offset", 0, 0, 10**9)
    limit = _int(params, "limit", 10, 1, 50)
    # Epoch milliseconds (UTC), on the task's creation time.
    start = _int(params, "start_time", 0, 0, 10**15)
    end = _int(params, "end_time", 10**15, 0, 10**15)
    tasks = [rds_task(job, now_ms) for job in reversed(jobs)]
    tasks = [
        task
        for task in tasks
        if start <= task["create_time"] <= end
        and all(
            not params.get(key) or task[field] == params[key]
            for key, field in (
                ("id", "id"),
                ("instance_id", "instance_id"),
                ("name", "name"),
                ("status", "status"),
            )
        )
    ]
    return {
        "total_count": len(tasks),
        "actions": sorted({task["name"] for task in tasks}),
        "tasks": tasks[offset : offset + limit],
    }


def _cbr_logs(jobs: list[ServiceJob], params: dict[str, str], now_ms: int) -> dict[str, Any]:
    offset = _int(params, "offset", 0, 0, 10**9)
    limit = _int(params, "limit", 1000, 1, 1000)
    start = _time(params, "start_time", "%Y-%m-%dT%H:%M:%SZ")
    end = _time(params, "end_time", "%Y-%m-%dT%H:%M:%SZ")
    logs = []
    for job in reversed(jobs):
        begin = job.plan.begin_ms
        if (start is not None and begin < start) or (end is not None and begin > end):
            continue
        if params.get("status") and cbr_status(job, now_ms) != params["status"]:
            continue
        if params.get("operation_type") and job.kind != params["operation_type"]:
            continue
        if params.get("resource_id") and job.resource_ids[0] != params["resource_id"]:
            continue
        logs.append(render(job, None, now_ms)["operation_log"])
    return {
        "operation_logs": logs[offset : offset + limit],
        "count": len(logs),
        "limit": limit,
        "offset": offset,
    }


def _elb_jobs(
    jobs: list[ServiceJob], params: dict[str, str], now_ms: int, rid: str
) -> dict[str, Any]:
    limit = _int(params, "limit", 2000, 0, 2000)
    begin = _time(params, "begin_time", "%Y-%m-%dT%H:%M:%S")
    listed = [elb_job(job, now_ms) for job in jobs if begin is None or job.plan.begin_ms >= begin]
    for key in ("job_id", "job_type", "status", "error_code", "resource_id"):
        if params.get(key):
            listed = [item for item in listed if item[key] == params[key]]
    if params.get("page_reverse") == "true":
        listed.reverse()
    marker = params.get("marker")
    if marker:
        ids = [item["job_id"] for item in listed]
        listed = listed[ids.index(marker) + 1 :] if marker in ids else []
    page = listed[:limit] if limit else listed
    more = len(listed) > len(page)
    return {
        "jobs": page,
        "page_info": {
            "previous_marker": page[0]["job_id"] if page else None,
            "current_count": len(page),
            "next_marker": page[-1]["job_id"] if page and more else None,
        },
        "request_id": rid,
    }
