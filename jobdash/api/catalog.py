"""Error code -> what it means for an operator and what to do next.

Each watched service has a table, ``jobdash/data/<service>_error_codes.json`` (ECS's is the
most complete): the codes, HTTP statuses and messages are the service's own; ``meaning``
and ``hint`` are written for jobdash users. Each table is read once, on first use.

Codes carry their service's prefix (``Ecs.``, ``EVS.``, ``IMG.``, ``DBS.``, ``CCE.``,
``BackupService.``, ...), so a code alone finds its table. ``Common.`` codes appear in
several tables with different wording; without a service the ECS entry answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

DATA_FILE = "ecs_error_codes.json"

#: Service name (as `jobdash.services` spells it) -> its table. ECS first: on a code that
#: several tables share, the first table wins when no service is given.
SERVICE_FILES: dict[str, str] = {
    "ecs": DATA_FILE,
    "evs": "evs_error_codes.json",
    "ims": "ims_error_codes.json",
    "cce": "cce_error_codes.json",
    "rds": "rds_error_codes.json",
    "cbr": "cbr_error_codes.json",
    "dcs": "dcs_error_codes.json",
    "sfs-turbo": "sfs_turbo_error_codes.json",
}

# Codes a sub-job of a server creation or batch operation realistically fails with:
# quota and capacity shortages, network and disk resources, image/flavor problems,
# billing blocks, and start/reboot/delete failures. The simulator draws from these.
_SUB_JOB_FAILURE_CODES = (
    "Ecs.0001",  # ECS quota
    "Ecs.0319",  # no capacity for the flavor
    "Ecs.0012",  # subnet out of IPs
    "Ecs.0013",  # EIP quota
    "Ecs.0021",  # EVS quota
    "Ecs.0044",  # disk type sold out
    "Ecs.0010",  # fixed IP taken
    "Ecs.0029",  # flavor unknown
    "Ecs.0031",  # image unknown
    "Ecs.0032",  # image not active
    "Ecs.0067",  # account balance
    "Ecs.0201",  # NIC creation
    "Ecs.0202",  # system disk creation
    "Ecs.0203",  # data disk creation
    "Ecs.0204",  # server creation
    "Ecs.0210",  # EIP binding
    "Ecs.0212",  # private IP allocation
    "Ecs.0100",  # server state forbids the action
    "Ecs.0226",  # start failed
    "Ecs.0227",  # reboot failed
    "Ecs.0501",  # delete failed
    "Ecs.0603",  # another operation running
    "Ecs.0605",  # server locked
)


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    code: str
    http_status: int | None
    message: str
    meaning: str
    hint: str
    #: The service whose table the entry comes from (`ecs`, `evs`, `sfs-turbo`, ...).
    service: str = "ecs"


def _key(code: str) -> str:
    return code.strip().casefold()


def _service_key(service: str) -> str:
    # `sfs_turbo`, `SFS Turbo` and `sfs-turbo` all name the same service.
    return "-".join(service.replace("_", " ").split()).casefold()


def services() -> list[str]:
    """The services that have a table, ECS first."""
    return list(SERVICE_FILES)


@cache
def _service_table(service: str) -> dict[str, ErrorInfo]:
    name = SERVICE_FILES[service]
    raw = resources.files("jobdash").joinpath("data", name).read_text(encoding="utf-8")
    table: dict[str, ErrorInfo] = {}
    for entry in json.loads(raw)["codes"]:
        status = entry.get("http_status")
        info = ErrorInfo(
            code=entry["code"],
            http_status=int(status) if status is not None else None,
            message=entry["message"],
            meaning=entry["meaning"],
            hint=entry["hint"],
            service=service,
        )
        table[_key(info.code)] = info
    return table


def _table_of(service: str) -> dict[str, ErrorInfo] | None:
    """`service`'s table, however its name is spelled; None for a service without one."""
    wanted = _service_key(service)
    return _service_table(wanted) if wanted in SERVICE_FILES else None


@cache
def _merged() -> dict[str, ErrorInfo]:
    merged: dict[str, ErrorInfo] = {}
    for service in SERVICE_FILES:
        for key, info in _service_table(service).items():
            merged.setdefault(key, info)
    return merged


def lookup(code: str | None, service: str | None = None) -> ErrorInfo | None:
    """The catalogue entry for `code`, ignoring case and surrounding whitespace; None if unknown.

    With `service`, that service's own entry wins over another table's; a code its table
    lacks (an ECS code in an EVS job, say) is still looked up in every table.
    """
    if not code:
        return None
    key = _key(code)
    own = _table_of(service) if service else None
    info = own.get(key) if own is not None else None
    return info if info is not None else _merged().get(key)


def describe(code: str | None, service: str | None = None) -> str:
    """One line, "meaning — hint", for display next to a code; "" when the code is unknown."""
    info = lookup(code, service)
    if info is None:
        return ""
    return f"{info.meaning} — {info.hint}"


def all_codes(service: str = "ecs") -> list[str]:
    """Every code in `service`'s table (ECS's unless told), in file order; [] for no table."""
    table = _table_of(service)
    return [] if table is None else [info.code for info in table.values()]


def failure_codes() -> list[ErrorInfo]:
    """Entries a failed sub-job of a create or batch operation plausibly reports."""
    table = _service_table("ecs")
    return [table[_key(code)] for code in _SUB_JOB_FAILURE_CODES if _key(code) in table]
