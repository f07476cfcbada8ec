"""Reading a service's answer the way jobdash does: bytes decoded once, adapted by the
service, parsed by the model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jobdash.api.model import Job, decode_body, parse_job
from jobdash.services.base import JobService

BODIES = Path(__file__).parent / "bodies"


def body_bytes(name: str) -> bytes:
    """The bytes of a sample answer in `bodies/`."""
    return (BODIES / name).read_bytes()


def decoded(name: str) -> Any:
    return json.loads(body_bytes(name))


def read_job(service: JobService, name: str) -> Job:
    """A sample answer as the model sees it once the service has adapted it."""
    body = body_bytes(name)
    return parse_job(service.read(decode_body(body)), body)


def read_value(service: JobService, value: Any) -> Job:
    """A decoded value (odd ones included) as the model sees it once adapted."""
    body = json.dumps(value).encode()
    return parse_job(service.read(decode_body(body)), body)
