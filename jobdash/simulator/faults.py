"""Injected faults for job GETs: throttling, server errors, broken bodies, drops, latency."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Faults that replace the answer; "latency" only delays it, "expire_tokens" acts at once.
RESPONSE_FAULTS = frozenset(
    {"throttle", "throttle_202", "server_error", "malformed", "html", "wrong_shape", "drop"}
)
FAULT_KINDS = RESPONSE_FAULTS | {"latency", "expire_tokens"}


@dataclass(slots=True)
class Fault:
    kind: str
    remaining: int | None  # None: until cleared
    job_id: str | None = None
    status: int | None = None
    retry_after: float | None = None
    latency_ms: float | None = None
    applied: int = field(default=0)

    def matches(self, job_id: str) -> bool:
        return self.job_id is None or self.job_id == job_id

    def as_dict(self) -> dict[str, Any]:
        return {
            "fault": self.kind,
            "remaining": self.remaining,
            "job_id": self.job_id,
            "status": self.status,
            "retry_after": self.retry_after,
            "latency_ms": self.latency_ms,
            "applied": self.applied,
        }


def make_fault(
    kind: str,
    *,
    count: int | None = 1,
    job_id: str | None = None,
    status: int | None = None,
    retry_after: float | None = None,
    latency_ms: float | None = None,
) -> Fault:
    """Validate the arguments of `inject` and build the fault."""
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault {kind!r}; expected one of {sorted(FAULT_KINDS)}")
    if count is not None and count < 1:
        raise ValueError("count must be at least 1, or None for 'until cleared'")
    if status is not None and not 100 <= status <= 599:
        raise ValueError("status must be an HTTP status code")
    if kind == "server_error" and status is None:
        status = 500
    if retry_after is not None and retry_after < 0:
        raise ValueError("retry_after must not be negative")
    if kind == "latency" and (latency_ms is None or latency_ms < 0):
        raise ValueError("the latency fault needs latency_ms >= 0")
    return Fault(
        kind=kind,
        remaining=count,
        job_id=job_id,
        status=status,
        retry_after=retry_after,
        latency_ms=latency_ms,
    )


class FaultBook:
    """Pending faults, consumed in the order they were injected. Caller holds a lock."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> list[dict[str, Any]]:
        return [fault.as_dict() for fault in self._faults]

    def take(self, job_id: str) -> tuple[float, Fault | None]:
        """For one job GET: total extra latency (ms) and the fault that replaces the answer.

        Every matching latency fault adds its delay; only the first matching
        response fault is used, so faults injected together apply one per request.
        """
        delay_ms = 0.0
        chosen: Fault | None = None
        for fault in self._faults:
            if not fault.matches(job_id):
                continue
            if fault.kind == "latency":
                delay_ms += fault.latency_ms or 0.0
                self._use(fault)
            elif chosen is None and fault.kind in RESPONSE_FAULTS:
                chosen = fault
                self._use(fault)
        self._faults = [f for f in self._faults if f.remaining is None or f.remaining > 0]
        return delay_ms, chosen

    @staticmethod
    def _use(fault: Fault) -> None:
        fault.applied += 1
        if fault.remaining is not None:
            fault.remaining -= 1
