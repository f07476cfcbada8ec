"""Error code -> what it means for an operator and what to do next.

The table lives in ``jobdash/data/ecs_error_codes.json``: the codes, HTTP statuses and
messages are the API's own; ``meaning`` and ``hint`` are written for jobdash users.
It is read once, on first use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

DATA_FILE = "ecs_error_codes.json"

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


def _key(code: str) -> str:
    return code.strip().casefold()


@cache
def _table() -> dict[str, ErrorInfo]:
    raw = resources.files("jobdash").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    table: dict[str, ErrorInfo] = {}
    for entry in json.loads(raw)["codes"]:
        status = entry.get("http_status")
        info = ErrorInfo(
            code=entry["code"],
            http_status=int(status) if status is not None else None,
            message=entry["message"],
            meaning=entry["meaning"],
            hint=entry["hint"],
        )
        table[_key(info.code)] = info
    return table


def lookup(code: str | None) -> ErrorInfo | None:
    """The catalogue entry for `code`, ignoring case and surrounding whitespace; None if unknown."""
    if not code:
        return None
    return _table().get(_key(code))


def describe(code: str | None) -> str:
    """One line, "meaning — hint", for display next to a code; "" when the code is unknown."""
    info = lookup(code)
    if info is None:
        return ""
    return f"{info.meaning} — {info.hint}"


def all_codes() -> list[str]:
    """Every catalogued code, in catalogue order."""
    return [info.code for info in _table().values()]


def failure_codes() -> list[ErrorInfo]:
    """Entries a failed sub-job of a create or batch operation plausibly reports."""
    table = _table()
    return [table[_key(code)] for code in _SUB_JOB_FAILURE_CODES if _key(code) in table]
