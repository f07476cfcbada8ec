"""A server's (or another resource's) answer can be megabytes: only the fields jobdash shows
are kept, each bounded, in the shape the store reads back. Against a loopback server."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from jobdash.api.client import JobsClient
from jobdash.api.http1 import Http1Transport
from jobdash.api.server import MAX_FIELD_CHARS, parse_server
from jobdash.auth.methods import TokenAuth
from jobdash.services.registry import service
from jobdash.services.resources import read_kind

PROJECT = "b" * 32
SERVER = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
BIG = 3 * 1024 * 1024
#: What one kept server may take in the store, at most (its texts at their bound).
KEPT_LIMIT = 8 * MAX_FIELD_CHARS + 1000

ANSWERS = {
    f"/v1/{PROJECT}/cloudservers/{SERVER}": {
        "server": {
            "id": SERVER,
            "name": "web-1",
            "status": "ERROR",
            "OS-EXT-STS:vm_state": "error",
            "OS-EXT-STS:task_state": None,
            "fault": {"code": 500, "message": "m" * 5000, "details": "d" * BIG},
            "flavor": {"id": "s3.large.2", "name": "s3.large.2", "links": ["l" * 1000]},
            "metadata": {"junk": "x" * BIG},
            "created": "2024-05-01T10:00:00Z",
            "updated": "2024-05-01T10:05:00Z",
        }
    },
    f"/v2/{PROJECT}/volumes/{SERVER}": {
        "volume": {"id": SERVER, "name": "data", "status": "error", "attachments": ["y" * BIG]}
    },
    f"/v3/{PROJECT}/instances?id={SERVER}": {
        "instances": [{"id": SERVER, "name": "db", "status": "FAILED", "junk": "z" * BIG}],
        "total_count": 1,
    },
}


@pytest.fixture
async def details() -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ")[1].decode()
                body = json.dumps(ANSWERS[target]).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    server.close()


def client_for(
    url: str, http: httpx.AsyncClient, transport: Http1Transport, name: str
) -> JobsClient:
    return JobsClient(
        http, url, PROJECT, transport=transport, auth=TokenAuth("t"), service=service(name)
    )


async def test_a_huge_server_answer_keeps_only_what_is_shown(details: str) -> None:
    async with Http1Transport(2) as transport, httpx.AsyncClient(transport=transport) as http:
        server = await client_for(details, http, transport, "ecs").get_server(SERVER)
    assert server is not None
    assert (server.name, server.status, server.vm_state) == ("web-1", "ERROR", "error")
    assert server.fault_code == "500"
    assert server.fault_message == "m" * MAX_FIELD_CHARS
    assert server.fault_details == "d" * MAX_FIELD_CHARS
    assert server.flavor == "s3.large.2"
    # What the store writes is the kept answer: small, and read back the same.
    stored = json.dumps(dict(server.raw))
    assert len(stored) < KEPT_LIMIT
    assert "metadata" not in server.raw and "links" not in server.raw["flavor"]
    again = parse_server(json.loads(stored), SERVER)
    assert again == server


@pytest.mark.parametrize(("name", "kind"), [("evs", "volume"), ("rds", "instance")])
async def test_a_huge_resource_answer_keeps_only_what_is_read(
    details: str, name: str, kind: str
) -> None:
    async with Http1Transport(2) as transport, httpx.AsyncClient(transport=transport) as http:
        resource = await client_for(details, http, transport, name).get_resource(SERVER)
    assert resource is not None
    assert resource.status in ("error", "FAILED")
    stored = json.dumps(dict(resource.raw))
    assert len(stored) < 1000
    read = read_kind(kind, json.loads(stored))
    assert read is not None
    assert (read.name, read.status) == (resource.name, resource.status)


def test_fifty_failed_sub_jobs_of_huge_answers_store_little() -> None:
    body = ANSWERS[f"/v1/{PROJECT}/cloudservers/{SERVER}"]
    total = sum(len(json.dumps(dict(parse_server(body, SERVER).raw))) for _ in range(50))
    assert total < 50 * KEPT_LIMIT < 1024 * 1024
