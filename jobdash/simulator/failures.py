"""Realistic sub-job failures: ECS error codes with the messages and details the API reports."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class FailureKind:
    code: str
    message: str  # the API's message: `entities.errorcode_message`


@dataclass(frozen=True, slots=True)
class Failure:
    error_code: str
    fail_reason: str
    errorcode_message: str


# Used only when jobdash.api.catalog cannot be imported; the catalogue is the real source.
_FALLBACK = (
    FailureKind("Ecs.0001", "Insufficient ECS quota. Contact customer service to increase quota."),
    FailureKind(
        "Ecs.0204", "Failed to create the ECS. Try again later or contact customer service."
    ),
    FailureKind("Ecs.0603", "The commands are being executed. Try again later."),
)

# Codes that fit an operation; creation may fail with any code not listed under another one.
_OPERATION_CODES = {
    "start server": ("Ecs.0100", "Ecs.0226", "Ecs.0603", "Ecs.0605", "Ecs.0067"),
    "stop server": ("Ecs.0100", "Ecs.0603", "Ecs.0605"),
    "reboot server": ("Ecs.0100", "Ecs.0227", "Ecs.0603", "Ecs.0605"),
    "delete server": ("Ecs.0501", "Ecs.0603", "Ecs.0605"),
}
_NOT_FOR_CREATE = frozenset(code for codes in _OPERATION_CODES.values() for code in codes)


@lru_cache(maxsize=1)
def failure_kinds() -> tuple[FailureKind, ...]:
    """Failure codes from jobdash.api.catalog, in a stable order; a tiny fallback without it."""
    try:
        from jobdash.api.catalog import failure_codes
    except ImportError:
        return _FALLBACK
    kinds = [FailureKind(info.code, info.message) for info in failure_codes() if info.message]
    kinds.sort(key=lambda kind: kind.code)
    return tuple(kinds) or _FALLBACK


def kinds_for(operation: str) -> tuple[FailureKind, ...]:
    every = failure_kinds()
    wanted = _OPERATION_CODES.get(operation)
    if wanted is None:
        chosen = tuple(kind for kind in every if kind.code not in _NOT_FOR_CREATE)
    else:
        chosen = tuple(kind for kind in every if kind.code in wanted)
    return chosen or every


def draw_failure(rng: random.Random, *, operation: str, resource_id: str, job_id: str) -> Failure:
    """One failure for a sub-job, with a detail text in one of the styles ECS uses."""
    kind = rng.choice(kinds_for(operation))
    style = rng.randrange(3)
    if style == 0:
        reason = f"{operation} {resource_id} failed: {kind.code} {kind.message}"
    elif style == 1:
        # ECS often passes a downstream error body through verbatim as the reason.
        reason = json.dumps(
            {"error": {"code": kind.code, "message": kind.message, "job_id": job_id}},
            separators=(",", ":"),
        )
    else:
        reason = f"{kind.code}: {kind.message}"
    return Failure(error_code=kind.code, fail_reason=reason, errorcode_message=kind.message)
