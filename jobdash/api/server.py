"""An ECS server as `GET /v1/{project_id}/cloudservers/{server_id}` reports it, and what
jobdash learned about one: its details, or that it is gone (404 `itemNotFound`).

Parsing never raises on odd values: anything missing or of the wrong type reads as None.
Of the body only what jobdash shows is kept (`kept_server`), each text at most
MAX_FIELD_CHARS long: it is what the store keeps, and a server's answer can be megabytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jobdash.api.model import parse_time
from jobdash.text.safe import without_surrogates

#: What each ECS `status` means, in a few words (the service's status table, reworded).
SERVER_STATUS_MEANINGS: Mapping[str, str] = {
    "BUILD": "being created, not running yet",
    "REBOOT": "restarting",
    "HARD_REBOOT": "being forced to restart",
    "REBUILD": "being rebuilt",
    "MIGRATING": "moving to another host while running",
    "RESIZE": "changing its flavor",
    "ACTIVE": "running normally",
    "SHUTOFF": "stopped cleanly",
    "REVERT_RESIZE": "undoing a flavor change",
    "VERIFY_RESIZE": "checking a flavor change",
    "ERROR": "broken: an operation on it failed",
    "DELETED": "deleted",
    "SHELVED": "shelved (booted from an image)",
    "SHELVED_OFFLOADED": "shelved (booted from a volume)",
    "UNKNOWN": "the service does not know its state",
}
GONE = "GONE"
#: A kept text (a name, a fault's message or details) is cut to this many characters.
MAX_FIELD_CHARS = 2000
#: The fields of a server's answer that jobdash shows, and the parts of those that are
#: objects.
SERVER_FIELDS = (
    "id",
    "name",
    "status",
    "OS-EXT-STS:vm_state",
    "OS-EXT-STS:task_state",
    "created",
    "updated",
)
SERVER_PARTS = {"fault": ("code", "message", "details"), "flavor": ("id", "name")}
GONE_MEANING = "no longer exists: rolled back or deleted"


def status_meaning(status: str | None) -> str | None:
    if status == GONE:
        return GONE_MEANING
    return SERVER_STATUS_MEANINGS.get(status or "")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, Mapping | list):
        return None
    text = without_surrogates(str(value)[:MAX_FIELD_CHARS])
    return text or None


def bounded(value: Any) -> Any:
    """A scalar of an answer as kept: text cut to MAX_FIELD_CHARS; None for an object or
    a list (nothing kept holds one)."""
    if isinstance(value, str):
        return value[:MAX_FIELD_CHARS]
    if value is None or isinstance(value, bool | int | float):
        return value
    return None


def kept_server(body: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a server's answer jobdash shows, each text bounded."""
    kept = {name: bounded(body[name]) for name in SERVER_FIELDS if name in body}
    for name, inner in SERVER_PARTS.items():
        part = body.get(name)
        if isinstance(part, Mapping):
            kept[name] = {key: bounded(part[key]) for key in inner if key in part}
        elif part is not None:
            kept[name] = bounded(part)
    return kept


@dataclass(frozen=True, slots=True)
class Server:
    server_id: str
    name: str | None
    status: str | None
    vm_state: str | None
    task_state: str | None
    fault_code: str | None
    fault_message: str | None
    fault_details: str | None
    flavor: str | None
    created: datetime | None
    updated: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)


def parse_server(data: Any, server_id: str) -> Server:
    """The server in a details answer (`{"server": {...}}`, or the object itself)."""
    body = data.get("server") if isinstance(data, Mapping) else None
    if not isinstance(body, Mapping):
        body = data if isinstance(data, Mapping) else {}
    body = kept_server(body)
    fault = body.get("fault")
    fault = fault if isinstance(fault, Mapping) else {}
    flavor = body.get("flavor")
    flavor_name = (
        _text(flavor.get("name") or flavor.get("id"))
        if isinstance(flavor, Mapping)
        else _text(flavor)
    )
    return Server(
        server_id=_text(body.get("id")) or server_id,
        name=_text(body.get("name")),
        status=_text(body.get("status")),
        vm_state=_text(body.get("OS-EXT-STS:vm_state")),
        task_state=_text(body.get("OS-EXT-STS:task_state")),
        fault_code=_text(fault.get("code")),
        fault_message=_text(fault.get("message")),
        fault_details=_text(fault.get("details")),
        flavor=flavor_name,
        created=parse_time(body.get("created")),
        updated=parse_time(body.get("updated")),
        raw=body,
    )


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What a fetch of one server found. `server` is None when it is gone."""

    endpoint: str
    project_id: str
    server_id: str
    fetched_at: datetime
    server: Server | None = None
    gone: bool = False
    #: The failed sub-job whose failure made jobdash look (None when the user asked).
    for_sub_job: str | None = None
    #: What it is: `server` (ECS), or another service's `volume`, `image`, `node`, ...
    kind: str = "server"

    @property
    def status(self) -> str | None:
        return GONE if self.gone else (self.server.status if self.server else None)

    @property
    def name(self) -> str | None:
        return self.server.name if self.server else None

    def as_json(self) -> dict[str, Any]:
        """The shape `status --json` and the export carry (under jobdash's own key)."""
        server = self.server
        return {
            "kind": self.kind,
            "server_id": self.server_id,
            "gone": self.gone,
            "name": server.name if server else None,
            "status": self.status,
            "status_meaning": status_meaning(self.status),
            "fault": (
                {"code": server.fault_code, "message": server.fault_message}
                if server and (server.fault_code or server.fault_message)
                else None
            ),
            "flavor": server.flavor if server else None,
            "created": server.created.isoformat() if server and server.created else None,
            "updated": server.updated.isoformat() if server and server.updated else None,
            "fetched_at": self.fetched_at.isoformat(),
        }


def resource_as_server(
    resource_id: str, name: str | None, status: str | None, message: str | None, raw: Any
) -> Server:
    """Another service's resource (a volume, an image, a node, ...) in the shape the server
    join keeps: its status, and the service's message where a server has its fault.
    `raw`: the answer as it is kept (`jobdash.services.resources.ResourceApi.kept`)."""
    return Server(
        server_id=resource_id,
        name=_text(name),
        status=_text(status),
        vm_state=None,
        task_state=None,
        fault_code=None,
        fault_message=_text(message),
        fault_details=None,
        flavor=None,
        created=None,
        updated=None,
        raw=dict(raw) if isinstance(raw, Mapping) else {},
    )
