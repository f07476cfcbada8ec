"""Which service a pasted create (or operate) answer comes from, where its shape says so.

Most services answer a create call with a bare `{"job_id": ...}`; such an answer could be
any of them, so it is not recognised and the caller decides (`--service`, the dialog's
choice, else ECS). The shapes that do say where they come from:

- CCE: a Job object (`{"kind": "Job", "metadata": {"uid": ...}}`) or a cluster or node
  answer naming its job in `status.jobID`;
- RDS and DDS: `job_id` with the instance created, told apart by `datastore.type`
  (a relational engine is RDS, `DDS-...` is DDS); without a datastore they look alike;
- ELB: `job_id` beside the load balancers or listeners the call cloned or created;
- CBR: an operation log (`{"operation_log": {...}}`) or a page of them, the only place
  CBR's task ids are found.

A JSON list of answers is recognised when every item is, as the same service.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jobdash.services import cce
from jobdash.services.base import endpoint_for, field, job_id_only, text
from jobdash.services.registry import DEFAULT_SERVICE, UnknownServiceError, service

#: `datastore.type` words of the relational engines RDS runs (read without regard to case).
RELATIONAL_ENGINES = frozenset(
    {"mysql", "postgresql", "sqlserver", "mariadb", "microsoft sql server"}
)
#: Keys beside `job_id` that only ELB's clone and batch answers carry.
_ELB_KEYS = (
    "loadbalancer",
    "loadbalancers",
    "loadbalancer_id",
    "loadbalancer_list",
    "listener",
    "listeners",
    "listener_list",
)


def recognise(answer: Any) -> tuple[str, list[str]] | None:
    """(service name, job ids) of a decoded answer whose shape names its service; None
    for anything else, a bare `{"job_id": ...}` included. Never raises on odd input."""
    try:
        if isinstance(answer, list):
            return _recognise_list(answer)
        return _recognise_one(answer)
    except RecursionError:
        return None


def recognise_text(pasted: str) -> tuple[str, list[str]] | None:
    """`recognise` for text that is one JSON document; None for any other text."""
    stripped = pasted.strip()
    if not stripped or stripped[0] not in "{[":
        return None
    try:
        decoded = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    return recognise(decoded)


def _recognise_list(answers: list[Any]) -> tuple[str, list[str]] | None:
    if not answers:
        return None
    found: list[tuple[str, list[str]] | None] = [_recognise_one(item) for item in answers]
    names = {item[0] for item in found if item is not None}
    if None in found or len(names) != 1:
        return None
    ids = [job_id for item in found if item is not None for job_id in item[1]]
    return names.pop(), list(dict.fromkeys(ids))


def _recognise_one(answer: Any) -> tuple[str, list[str]] | None:
    if not isinstance(answer, Mapping):
        return None
    for reader in (_cce, _database, _elb, _cbr):
        found = reader(answer)
        if found is not None:
            return found
    return None


def _cce(answer: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    # A `kind` is CCE's Kubernetes-style mark; `status.jobID` its cluster and node answers.
    named = isinstance(answer.get("kind"), str) or text(field(answer, "status", "jobID"))
    if not named or "job_id" in answer:
        return None
    ids = cce.job_ids_in(answer)
    return ("cce", ids) if ids else None


def _database(answer: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    if "job_id" not in answer:
        return None
    engine = text(field(answer, "instance", "datastore", "type")) or text(
        field(answer, "datastore", "type")
    )
    if not engine:
        return None
    word = engine.strip().lower()
    if word in RELATIONAL_ENGINES:
        name = "rds"
    elif word.startswith("dds") or word.startswith("mongodb"):
        name = "dds"
    else:
        return None
    ids = job_id_only(answer)
    return (name, ids) if ids else None


def _elb(answer: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    if not any(answer.get(key) for key in _ELB_KEYS):
        return None
    ids = job_id_only(answer)
    return ("elb", ids) if ids else None


def _cbr(answer: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    logs = answer.get("operation_logs")
    if isinstance(logs, list):
        ids = [found for log in logs if (found := _log_id(log))]
    else:
        single = _log_id(answer.get("operation_log"))
        ids = [single] if single else []
    return ("cbr", list(dict.fromkeys(ids))) if ids else None


def _log_id(log: Any) -> str | None:
    found = text(field(log, "id"))
    return (found.strip() or None) if found else None


def service_endpoint(endpoint: str, current: str, wanted: str) -> str:
    """The endpoint of service `wanted` in the region of `endpoint`, which serves service
    `current`: `https://rds.eu-de...` (RDS) gives `https://evs.eu-de...` for EVS. An
    endpoint not named after its service (a simulator, a proxy) serves every service as it
    is. Raises `UnknownServiceError` for a `wanted` jobdash does not know."""
    target = service(wanted)
    try:
        own_host = service(current).host
    except UnknownServiceError:
        own_host = DEFAULT_SERVICE
    # `endpoint_for` moves from ECS's endpoint, so another service's goes back to ECS's first.
    scheme, sep, rest = endpoint.partition("://")
    first, dot, others = rest.partition(".")
    if sep and dot and first.lower() == own_host and own_host != DEFAULT_SERVICE:
        endpoint = f"{scheme}://{DEFAULT_SERVICE}.{others}"
    return endpoint_for(endpoint, target)
