"""JobsClient against the simulator over real sockets: every kind of error it can raise."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from jobdash.api.client import JobsClient
from jobdash.api.errors import (
    ApiError,
    BadResponseError,
    ErrorKind,
    ForbiddenError,
    InvalidIdError,
    NetworkError,
    NotFoundError,
    ServerError,
    ThrottledError,
    UnauthorizedError,
)
from jobdash.simulator import Simulator

Factory = Callable[..., Simulator]


@pytest.fixture
async def http(simulator: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(headers={"X-Auth-Token": simulator.credentials.token}) as client:
        yield client


@pytest.fixture
def client(simulator: Simulator, http: httpx.AsyncClient) -> JobsClient:
    return JobsClient(http, simulator.url, simulator.project_id)


async def fetch_error(client: JobsClient, job_id: str, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        await client.get_job(job_id, **kwargs)
    return caught.value


async def test_a_job_comes_back_parsed(simulator: Simulator, client: JobsClient) -> None:
    job_id = simulator.create_servers(2, fail_count=1)
    simulator.advance(300)
    job = await client.get_job(job_id)
    assert job.job_id == job_id
    assert job.status == "FAIL"
    assert len(job.sub_jobs) == 2


@pytest.mark.parametrize(("style", "status"), [("404", 404), ("400", 400)])
async def test_not_found(simulator_factory: Factory, style: str, status: int) -> None:
    sim = simulator_factory(not_found_style=style, purge_after=60.0)
    job_id = sim.create_servers(1, duration=(5.0, 5.0))
    async with httpx.AsyncClient(headers={"X-Auth-Token": sim.credentials.token}) as http:
        client = JobsClient(http, sim.url, sim.project_id)
        assert (await client.get_job(job_id)).job_id == job_id
        sim.advance(200)  # finished and purged
        error = await fetch_error(client, job_id)
        unknown = await fetch_error(client, "0" * 32)
    for err in (error, unknown):
        assert isinstance(err, NotFoundError)
        assert err.kind == ErrorKind.NOT_FOUND
        assert err.http_status == status
        assert err.code == "Common.0011"
        assert err.request_id


async def test_unauthorized(simulator_factory: Factory) -> None:
    sim = simulator_factory(token_ttl=60.0)
    job_id = sim.create_servers(1)
    async with httpx.AsyncClient() as http:
        missing = await fetch_error(JobsClient(http, sim.url, sim.project_id), job_id)
        issued = await http.post(
            f"{sim.auth_url}/auth/tokens",
            json={
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {
                            "user": {
                                "name": sim.credentials.username,
                                "password": sim.credentials.password,
                                "domain": {"name": sim.credentials.user_domain_name},
                            }
                        },
                    },
                    "scope": {"project": {"id": sim.project_id}},
                }
            },
        )
        token = issued.headers["X-Subject-Token"]
    async with httpx.AsyncClient(headers={"X-Auth-Token": token}) as http:
        client = JobsClient(http, sim.url, sim.project_id)
        assert (await client.get_job(job_id)).job_id == job_id
        sim.advance(61)
        expired = await fetch_error(client, job_id)
    for err in (missing, expired):
        assert isinstance(err, UnauthorizedError)
        assert err.kind == ErrorKind.UNAUTHORIZED
        assert err.http_status == 401
        assert err.code == "APIGW.0301"
        assert token not in err.message and token not in repr(err)
    assert "expired" in expired.message


async def test_forbidden_for_another_project(simulator: Simulator, http: httpx.AsyncClient) -> None:
    job_id = simulator.create_servers(1)
    client = JobsClient(http, simulator.url, "f" * 32)
    error = await fetch_error(client, job_id)
    assert isinstance(error, ForbiddenError)
    assert error.kind == ErrorKind.FORBIDDEN
    assert (error.http_status, error.code) == (403, "Ecs.0023")
    # The per-call project id overrides the client's.
    assert (await client.get_job(job_id, project_id=simulator.project_id)).job_id == job_id


@pytest.mark.parametrize(
    ("fault", "retry_after", "status", "code"),
    [
        ("throttle", None, 429, "Common.1503"),
        ("throttle", 7, 429, "Common.1503"),
        ("throttle_202", None, 202, "Common.0024"),
        ("throttle_202", 1.5, 202, "Common.0024"),
    ],
)
async def test_throttled(
    simulator: Simulator,
    client: JobsClient,
    fault: str,
    retry_after: float | None,
    status: int,
    code: str,
) -> None:
    job_id = simulator.create_servers(1)
    simulator.inject(fault, retry_after=retry_after)
    error = await fetch_error(client, job_id)
    assert isinstance(error, ThrottledError)
    assert error.kind == ErrorKind.THROTTLED
    assert (error.http_status, error.code) == (status, code)
    assert error.retry_after == retry_after
    assert (await client.get_job(job_id)).job_id == job_id  # one request only


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors(simulator: Simulator, client: JobsClient, status: int) -> None:
    job_id = simulator.create_servers(1)
    simulator.inject("server_error", status=status)
    error = await fetch_error(client, job_id)
    assert isinstance(error, ServerError)
    assert error.kind == ErrorKind.SERVER
    assert error.http_status == status
    assert error.code == "Common.0001"


@pytest.mark.parametrize("fault", ["malformed", "html", "wrong_shape"])
async def test_bad_responses(simulator: Simulator, client: JobsClient, fault: str) -> None:
    job_id = simulator.create_servers(1)
    simulator.inject(fault)
    error = await fetch_error(client, job_id)
    assert isinstance(error, BadResponseError)
    assert error.kind == ErrorKind.BAD_RESPONSE
    assert error.http_status == 200
    assert job_id in error.message


async def test_network_error_on_dropped_connection(
    simulator: Simulator, client: JobsClient
) -> None:
    job_id = simulator.create_servers(1)
    simulator.inject("drop")
    error = await fetch_error(client, job_id)
    assert isinstance(error, NetworkError)
    assert error.kind == ErrorKind.NETWORK
    assert error.http_status is None
    assert (await client.get_job(job_id)).job_id == job_id  # the next request reconnects


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_network_error_on_closed_port() -> None:
    port = closed_port()
    async with httpx.AsyncClient() as http:
        client = JobsClient(http, f"http://127.0.0.1:{port}", "a" * 32)
        error = await fetch_error(client, "b" * 32)
    assert isinstance(error, NetworkError)
    assert f"127.0.0.1:{port}" in error.message


@pytest.mark.parametrize("bad_id", ["", "../etc/passwd", "a b", "x" * 65, "job\n2", "a/b"])
async def test_invalid_ids_send_nothing(
    simulator: Simulator, client: JobsClient, bad_id: str
) -> None:
    before = simulator.stats()["requests"]
    error = await fetch_error(client, bad_id)
    assert isinstance(error, InvalidIdError)
    assert error.kind == ErrorKind.INVALID_ID
    project_error = await fetch_error(client, "a" * 32, project_id=bad_id or "../x")
    assert isinstance(project_error, InvalidIdError)
    assert simulator.stats()["requests"] == before
    assert simulator.request_count() == 0


async def test_failed_job_with_a_not_found_code_is_still_a_job(
    simulator: Simulator, client: JobsClient
) -> None:
    # A delete job fails with "The ECS does not exist": the job exists, the server does not.
    body = {
        "status": "FAIL",
        "job_id": "ff80808288d41e1b018990260955686a",
        "job_type": "deleteServer",
        "entities": {"sub_jobs_total": 0, "sub_jobs": []},
        "error_code": "Ecs.0114",
        "fail_reason": "The ECS does not exist.",
        "begin_time": "2025-03-01T08:00:00.000Z",
        "end_time": "2025-03-01T08:00:09.000Z",
    }
    simulator.put_job(body)
    job = await client.get_job(body["job_id"])
    assert job.status == "FAIL"
    assert job.error_code == "Ecs.0114"
