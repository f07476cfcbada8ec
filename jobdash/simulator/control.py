"""`/_sim/...`: the simulator's own control endpoints, for tests and tooling (loopback only)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import jobdash.simulator.responses as r
from jobdash.simulator.clock import format_api_time, to_ms
from jobdash.simulator.http import Request, Response
from jobdash.simulator.jobs import sim_options

if TYPE_CHECKING:
    from jobdash.simulator.cloud import SimulatedCloud

CONTROL_PREFIX = "/_sim/"


def _is_loopback(peer: str) -> bool:
    return peer.startswith("127.") or peer in ("::1", "::ffff:127.0.0.1")


def control_response(app: SimulatedCloud, request: Request) -> Response:
    if not _is_loopback(request.peer):
        return r.json_response(403, {"error": {"code": "Sim.0403", "message": "loopback only"}})
    name = request.path[len(CONTROL_PREFIX) :].rstrip("/")
    try:
        body = json.loads(request.body) if request.body else {}
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return _action(app, request.method, name, body)
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        message = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        return r.json_response(400, {"error": {"code": "Sim.0400", "message": message}})


def _action(app: SimulatedCloud, method: str, name: str, body: dict[str, Any]) -> Response:
    if name == "faults" and method == "POST":
        app.inject(
            body["fault"],
            count=body.get("count", 1),
            job_id=body.get("job_id"),
            status=body.get("status"),
            retry_after=body.get("retry_after"),
            latency_ms=body.get("latency_ms"),
        )
        return r.json_response(201, {"faults": app.pending_faults()})
    if name == "faults" and method == "GET":
        return r.json_response(200, {"faults": app.pending_faults()})
    if name == "faults" and method == "DELETE":
        app.clear_faults()
        return r.json_response(200, {"faults": []})
    if name == "advance" and method == "POST":
        now = app.advance(float(body["seconds"]))
        return r.json_response(200, {"now": format_api_time(to_ms(now))})
    if name == "stats" and method == "GET":
        return r.json_response(200, app.stats())
    if name.startswith("jobs/") and method == "POST":
        # Jobs of the other services, also those whose real API hands out no job id.
        fail_count, duration = sim_options(body.get("_sim"))
        job_id = app.create_service_job(
            name.removeprefix("jobs/"),
            body.get("count", 1),
            kind=body.get("kind"),
            name=body.get("name"),
            fail_count=fail_count,
            duration=duration,
            project_id=body.get("project_id"),
        )
        return r.json_response(201, {"job_id": job_id})
    if name == "jobs" and method == "POST":
        return r.json_response(201, {"job_id": app.put_job(body)})
    return r.unknown_api("")
