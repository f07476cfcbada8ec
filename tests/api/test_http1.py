"""Http1Transport over real loopback sockets: the simulator, and small servers that misbehave."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from jobdash.api.client import JobsClient
from jobdash.api.errors import NetworkError
from jobdash.api.http1 import Http1Transport
from jobdash.auth.methods import TokenAuth
from jobdash.simulator import Simulator

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request's head (these tests send no bodies to the small servers)."""
    return await reader.readuntil(b"\r\n\r\n")


def answer(body: bytes, *, extra: str = "", status: str = "200 OK") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
    return (head + f"Content-Length: {len(body)}\r\n{extra}\r\n").encode() + body


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> str:
        async def quietly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            # Handlers still waiting when the test ends are cancelled; that is expected.
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await handler(reader, writer)

        server = await asyncio.start_server(quietly, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.close()


def sim_client(http: httpx.AsyncClient, sim: Simulator, transport: Http1Transport) -> JobsClient:
    """A client of the simulator whose GETs go straight to `transport`."""
    return JobsClient(
        http, sim.url, sim.project_id, auth=TokenAuth(sim.credentials.token), transport=transport
    )


async def test_keeps_one_connection_alive_for_sequential_requests(simulator: Simulator) -> None:
    job_id = simulator.create_servers(2)
    simulator.advance(30)  # the sub-jobs are listed
    transport = Http1Transport(4)
    async with httpx.AsyncClient(transport=transport) as http:
        client = sim_client(http, simulator, transport)
        for _ in range(5):
            job = await client.get_job(job_id)
            assert job.job_id == job_id
            assert len(job.sub_jobs) == 2
    assert transport.opened == 1
    assert simulator.stats()["connections_total"] == 1


async def test_never_more_requests_under_way_than_its_cap(simulator_factory) -> None:
    sim = simulator_factory(latency_ms=50)
    ids = [sim.create_servers(1) for _ in range(12)]
    transport = Http1Transport(3)
    async with httpx.AsyncClient(transport=transport) as http:
        client = sim_client(http, sim, transport)
        jobs = await asyncio.gather(*(client.get_job(i) for i in ids))
    assert [job.job_id for job in jobs] == ids
    stats = sim.stats()
    assert stats["connections_max"] == 3
    assert transport.opened == 3


async def test_a_connection_the_server_closed_while_idle_is_replaced(serve) -> None:
    served: list[int] = []

    async def one_answer_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        await read_request(reader)
        served.append(1)
        writer.write(answer(b'{"n": %d}' % len(served)))  # keep-alive, then hang up idle
        await writer.drain()
        writer.close()

    url = await serve(one_answer_then_close)
    async with Http1Transport(2) as transport, httpx.AsyncClient(transport=transport) as http:
        first = await http.get(url + "/a")
        await asyncio.sleep(0.05)  # the close reaches us: the idle connection is seen dead
        second = await http.get(url + "/b")
    assert first.json() == {"n": 1}
    assert second.json() == {"n": 2}
    assert transport.opened == 2


async def test_a_stale_connection_found_mid_request_is_retried_once_for_a_get(serve) -> None:
    async def answer_then_reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        await read_request(reader)
        writer.write(answer(b"{}"))
        await writer.drain()
        # The next request on this connection gets no answer at all.
        await read_request(reader)
        writer.close()

    url = await serve(answer_then_reset)
    async with Http1Transport(2) as transport, httpx.AsyncClient(transport=transport) as http:
        assert (await http.get(url)).status_code == 200
        assert (await http.get(url)).status_code == 200
        assert transport.opened == 2
        # Not for a POST: the server may have acted on it.
        with pytest.raises(httpx.RemoteProtocolError, match="closed the connection"):
            await http.post(url, content=b"x")


async def test_chunked_and_close_delimited_bodies(serve) -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        writer.write(b'5\r\n{"a":\r\n3\r\n 1}\r\n0\r\n\r\n')
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n[1, 2]")
        await writer.drain()
        writer.close()

    url = await serve(chunked)
    async with Http1Transport(1) as transport, httpx.AsyncClient(transport=transport) as http:
        assert (await http.get(url)).json() == {"a": 1}
        assert (await http.get(url)).json() == [1, 2]
        assert transport.opened == 1


async def test_gzip_answers_are_decoded(serve) -> None:
    body = gzip.compress(json.dumps({"job_id": "a" * 32, "status": "SUCCESS"}).encode())

    async def zipped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        request = await read_request(reader)
        assert b"gzip" in request.lower()
        writer.write(answer(body, extra="Content-Encoding: gzip\r\n"))
        await writer.drain()

    url = await serve(zipped)
    async with Http1Transport(1) as transport, httpx.AsyncClient(transport=transport) as http:
        client = JobsClient(http, url, "p" * 32, auth=TokenAuth("t"), transport=transport)
        job = await client.get_job("a" * 32)
    assert job.status == "SUCCESS"


async def test_errors_are_httpx_errors_and_client_errors(serve) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        await read_request(reader)
        await asyncio.sleep(5)

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        await read_request(reader)
        writer.write(b"HELLO THERE\r\n\r\n")
        await writer.drain()

    async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        await read_request(reader)
        writer.write(answer(b"x" * 5000))
        await writer.drain()

    slow, bad, big = await serve(silent), await serve(garbage), await serve(huge)
    closed = socket_url_nobody_listens_on()
    timeout = httpx.Timeout(0.3)
    async with (
        Http1Transport(4, max_body=4096) as transport,
        httpx.AsyncClient(transport=transport, timeout=timeout) as http,
    ):
        with pytest.raises(httpx.ReadTimeout):
            await http.get(slow)
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(bad)
        with pytest.raises(httpx.RemoteProtocolError, match="larger than 4096"):
            await http.get(big)
        with pytest.raises(httpx.ConnectError):
            await http.get(closed)
        with pytest.raises(httpx.UnsupportedProtocol):
            await http.get("ftp://127.0.0.1/")
        # The same through JobsClient: a NetworkError that names the endpoint.
        client = JobsClient(http, slow, "p" * 32, timeout=timeout, transport=transport)
        with pytest.raises(NetworkError, match="timed out talking to"):
            await client.get_job("a" * 32)
        client = JobsClient(http, closed, "p" * 32, transport=transport)
        with pytest.raises(NetworkError, match="cannot reach"):
            await client.get_job("a" * 32)


async def test_waiting_for_a_free_connection_can_time_out(serve) -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        await read_request(reader)
        await asyncio.sleep(1)
        writer.write(answer(b"{}"))
        await writer.drain()

    url = await serve(slow)
    async with (
        Http1Transport(1) as transport,
        httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5, pool=0.1)) as http,
    ):
        first = asyncio.create_task(http.get(url))
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.PoolTimeout):
            await http.get(url)
        assert (await first).status_code == 200


def socket_url_nobody_listens_on() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_https_with_a_private_ca(tmp_path: Path, serve) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"]
    command += ["-addext", "subjectAltName=DNS:localhost"]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
    )
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    async def hello(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        await read_request(reader)
        writer.write(answer(b'{"tls": true}'))
        await writer.drain()

    server = await asyncio.start_server(hello, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]
    trusting = ssl.create_default_context(cafile=str(cert))
    try:
        async with (
            Http1Transport(1, verify=trusting) as transport,
            httpx.AsyncClient(transport=transport) as http,
        ):
            response = await http.get(f"https://localhost:{port}/")
            assert response.json() == {"tls": True}
        # The default trust store does not know this certificate: refused.
        async with Http1Transport(1) as strict, httpx.AsyncClient(transport=strict) as http:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get(f"https://localhost:{port}/")
    finally:
        server.close()
