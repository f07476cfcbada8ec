"""Simulated ECS servers: what `GET /v1/{project_id}/cloudservers/{server_id}` answers for
the servers the simulator's jobs create, derived (like the jobs) from the plans at any
moment: BUILD while its creation runs, ACTIVE after, ERROR with a fault when the creation
failed, SHUTOFF after a stop, and gone (404 `itemNotFound`) once a delete succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jobdash.simulator.clock import format_api_time
from jobdash.simulator.jobs import SubJobPlan

#: Flavor of created servers when the request names none.
DEFAULT_FLAVOR = "s3.medium.2"
#: Sub-job type -> (status while it runs, task state while it runs, status after success).
_EFFECTS: dict[str, tuple[str | None, str, str | None]] = {
    "createServer": ("BUILD", "spawning", "ACTIVE"),
    "createSingleServer": ("BUILD", "spawning", "ACTIVE"),
    "startServer": (None, "powering-on", "ACTIVE"),
    "stopServer": (None, "powering-off", "SHUTOFF"),
    "rebootServer": ("REBOOT", "rebooting", "ACTIVE"),
    "deleteServer": (None, "deleting", None),
    "deleteSingleServer": (None, "deleting", None),
}
_VM_STATES = {
    "BUILD": "building",
    "ACTIVE": "active",
    "SHUTOFF": "stopped",
    "REBOOT": "active",
    "ERROR": "error",
}


@dataclass(slots=True)
class SimServer:
    server_id: str
    name: str
    flavor: str
    #: The sub-jobs that act on it, in the order they were planned (its creation first).
    operations: list[SubJobPlan] = field(default_factory=list)

    def render(self, now_ms: int) -> dict[str, Any] | None:
        """The details body at `now_ms`; None before it exists or after it was deleted."""
        if not self.operations or now_ms < self.operations[0].begin_ms:
            return None
        status = "BUILD"
        task_state: str | None = None
        fault: dict[str, Any] | None = None
        updated_ms = self.operations[0].begin_ms
        for sub in self.operations:
            if now_ms < sub.start_ms:
                break
            running, task, after = _EFFECTS.get(sub.job_type, (None, None, None))
            if now_ms < sub.end_ms:
                status = running or status
                task_state = task
                updated_ms = sub.start_ms
                continue
            task_state = None
            updated_ms = sub.end_ms
            is_creation = sub.job_type.startswith("create")
            if sub.failure is None:
                if sub.job_type.startswith("delete"):
                    return None
                status = after or status
                fault = None
            elif is_creation:
                status = "ERROR"
                fault = {
                    "code": 500,
                    "message": sub.failure.errorcode_message,
                    "details": f"{sub.failure.error_code}: creation of {self.server_id} failed",
                    "created": format_api_time(sub.end_ms),
                }
        created = format_api_time(self.operations[0].begin_ms)
        body: dict[str, Any] = {
            "id": self.server_id,
            "name": self.name,
            "status": status,
            "OS-EXT-STS:vm_state": _VM_STATES.get(status, "active"),
            "OS-EXT-STS:task_state": task_state,
            "flavor": {"id": self.flavor, "name": self.flavor},
            "created": created.replace(".000Z", "Z"),
            "updated": format_api_time(updated_ms),
            "metadata": {},
            "progress": 0,
        }
        if fault is not None:
            body["fault"] = fault
        return {"server": body}


class ServerBook:
    """Every server the simulator's jobs created. Not thread-safe: the caller holds a lock."""

    def __init__(self) -> None:
        self._servers: dict[str, SimServer] = {}

    def created(self, subs: tuple[SubJobPlan, ...], name: str, flavor: str | None = None) -> None:
        """A create job's sub-jobs: one server each, named as ECS names a batch."""
        many = len(subs) > 1
        for index, sub in enumerate(subs, start=1):
            server_name = f"{name}-{index:04d}" if many else name
            server = SimServer(sub.server_id, server_name, flavor or DEFAULT_FLAVOR)
            server.operations.append(sub)
            self._servers[sub.server_id] = server

    def acted_on(self, subs: tuple[SubJobPlan, ...]) -> None:
        """A batch action or delete: each sub-job joins its server's history (if known)."""
        for sub in subs:
            server = self._servers.get(sub.server_id)
            if server is not None:
                server.operations.append(sub)

    def render(self, server_id: str, now_ms: int) -> dict[str, Any] | None:
        server = self._servers.get(server_id)
        return server.render(now_ms) if server is not None else None
