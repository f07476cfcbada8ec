"""Hostile servers on real loopback sockets: answers trickled for ever, `102 Processing`
without end, and compression bombs, against the transport, the job client, the IAM login
and the `jobdash` command (with `[http] deadline` from config.toml)."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import socket
import threading
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cli_helpers import run_cli

from jobdash.api.client import JobsClient
from jobdash.api.errors import BadResponseError, NetworkError
from jobdash.api.http1 import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_BODY,
    DeadlineExceeded,
    Http1Transport,
    UnusableAnswer,
)
from jobdash.api.proxied import LimitedClient
from jobdash.auth.methods import PasswordAuth, TokenAuth
from jobdash.config.config_file import load_config
from jobdash.poll.options import PollerOptions

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
JOB = "a" * 32
PROJECT = "b" * 32
JOB_BODY = json.dumps({"job_id": JOB, "status": "SUCCESS", "entities": {}}).encode()


def answer(body: bytes, *, extra: str = "", status: str = "200 OK") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
    return (head + f"Content-Length: {len(body)}\r\n{extra}\r\n").encode() + body


def bomb(size: int, encoding: str = "gzip") -> bytes:
    """A JSON object whose one string is `size` bytes of "a", compressed: ~1000:1."""
    document = b'{"job_id": "' + b"a" * size + b'", "status": "SUCCESS"}'
    return gzip.compress(document) if encoding == "gzip" else zlib.compress(document)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> str:
        async def quietly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await handler(reader, writer)

        server = await asyncio.start_server(quietly, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in servers:
        server.close()


async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A valid answer, one byte every 50 ms: each read is quick, the whole is not."""
    await reader.readuntil(b"\r\n\r\n")
    for byte in answer(JOB_BODY):
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0.05)


async def processing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """`102 Processing` every 50 ms, and never a final answer."""
    await reader.readuntil(b"\r\n\r\n")
    while True:
        writer.write(b"HTTP/1.1 102 Processing\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)


# -- the overall deadline ----------------------------------------------------------------


@pytest.mark.parametrize("handler", [trickle, processing])
async def test_a_request_ends_at_its_deadline_however_the_server_stalls(
    serve, handler: Handler
) -> None:
    url = await serve(handler)
    timeout = httpx.Timeout(2.0)  # no single read waits this long
    async with (
        Http1Transport(2, deadline=0.5) as transport,
        httpx.AsyncClient(transport=transport, timeout=timeout) as http,
    ):
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded, match=r"within 0\.5 s"):
            await http.get(url)
        assert time.monotonic() - started < 1.5
        client = JobsClient(
            http, url, PROJECT, timeout=timeout, transport=transport, auth=TokenAuth("t")
        )
        with pytest.raises(NetworkError, match=r"timed out talking to .*within 0.5 s"):
            await client.get_job(JOB)


async def test_the_deadline_holds_behind_a_proxy_too(serve) -> None:
    url = await serve(trickle)
    async with LimitedClient(deadline=0.5, timeout=httpx.Timeout(2.0)) as http:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            await http.get(url)
        assert time.monotonic() - started < 1.5


async def test_a_quick_answer_is_untouched_by_the_deadline(serve) -> None:
    async def quick(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer(JOB_BODY))
        await writer.drain()

    url = await serve(quick)
    async with (
        Http1Transport(1, deadline=0.5) as transport,
        httpx.AsyncClient(transport=transport) as http,
    ):
        client = JobsClient(http, url, PROJECT, transport=transport)
        assert (await client.get_job(JOB)).status == "SUCCESS"
    assert Http1Transport(1).deadline == DEFAULT_DEADLINE == 30.0


async def test_the_iam_login_ends_at_its_deadline(serve) -> None:
    url = await serve(processing)
    async with (
        Http1Transport(2, deadline=0.5) as transport,
        httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(2.0)) as http,
    ):
        auth = PasswordAuth(url + "/v3", "user", "secret", "domain", PROJECT, use_cache=False)
        with pytest.raises(NetworkError, match=r"timed out logging in to IAM.*within 0.5 s"):
            await auth.ensure_token(http)


# -- compression bombs -------------------------------------------------------------------


def test_answers_held_at_once_fit_a_laptop() -> None:
    # Every request in flight may hold one answer of at most the limit, decoded.
    assert DEFAULT_MAX_BODY * PollerOptions().max_in_flight <= 512 * 1024 * 1024


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_small_answer_that_unpacks_past_the_limit_is_refused(serve, encoding: str) -> None:
    packed = bomb(4 * 1024 * 1024, encoding)  # ~4 KB on the wire, 4 MB decoded
    assert len(packed) < 64 * 1024

    async def bomber(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer(packed, extra=f"Content-Encoding: {encoding}\r\n"))
            await writer.drain()

    url = await serve(bomber)
    async with (
        Http1Transport(2, max_body=1024 * 1024) as transport,
        httpx.AsyncClient(transport=transport) as http,
    ):
        with pytest.raises(UnusableAnswer, match="larger than 1048576 bytes once decompressed"):
            await http.get(url)
        client = JobsClient(http, url, PROJECT, transport=transport, auth=TokenAuth("t"))
        with pytest.raises(BadResponseError, match="once decompressed"):
            await client.get_job(JOB)
        # Behind a proxy (httpx's own transport) the same limit holds.
    async with LimitedClient(max_body=1024 * 1024) as proxied:
        with pytest.raises(UnusableAnswer, match="once decompressed"):
            await proxied.get(url)


async def test_corrupt_or_unasked_compression_is_a_bad_answer_not_a_crash(serve) -> None:
    async def odd(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer(b"\x1f\x8bnot gzip at all", extra="Content-Encoding: gzip\r\n"))
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer(b"\x00\x01", extra="Content-Encoding: br\r\n"))
        await writer.drain()

    url = await serve(odd)
    async with Http1Transport(1) as transport, httpx.AsyncClient(transport=transport) as http:
        client = JobsClient(http, url, PROJECT, transport=transport, auth=TokenAuth("t"))
        with pytest.raises(BadResponseError, match="corrupt"):
            await client.get_job(JOB)
        with pytest.raises(BadResponseError, match="did not ask for"):
            await client.get_job(JOB)


async def test_decoded_answers_lose_their_encoding_header(serve) -> None:
    packed = gzip.compress(JOB_BODY) + gzip.compress(b" ")  # two gzip members

    async def zipped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        assert b"accept-encoding: gzip, deflate\r\n" in head.lower()
        writer.write(answer(packed, extra="Content-Encoding: gzip\r\n"))
        await writer.drain()

    url = await serve(zipped)
    async with Http1Transport(1) as transport, httpx.AsyncClient(transport=transport) as http:
        response = await http.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert response.content == JOB_BODY + b" "
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(JOB_BODY) + 1)


# -- the command, against a hostile IAM --------------------------------------------------


@contextlib.contextmanager
def threaded_server(handle: Callable[[socket.socket], None]) -> Iterator[str]:
    """A loopback server in a thread (the command runs its own event loop)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve_one, args=(connection,), daemon=True).start()

    def serve_one(connection: socket.socket) -> None:
        with contextlib.suppress(OSError), connection:
            handle(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


def read_head(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def password_env(monkeypatch: pytest.MonkeyPatch, iam: str) -> None:
    for name, value in {
        "OS_AUTH_URL": iam + "/v3",
        "OS_USERNAME": "user",
        "OS_PASSWORD": "secret",
        "OS_USER_DOMAIN_NAME": "domain",
        "OS_PROJECT_ID": PROJECT,
        "OS_REGION_NAME": "eu-de",
    }.items():
        monkeypatch.setenv(name, value)


def write_config(text: str) -> None:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "jobdash" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_status_gives_up_on_a_stalling_iam_at_the_configured_deadline(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def stall(connection: socket.socket) -> None:
        read_head(connection)
        for _ in range(400):  # 40 s of `102 Processing`, if nobody gives up
            connection.sendall(b"HTTP/1.1 102 Processing\r\n\r\n")
            time.sleep(0.1)

    write_config("[http]\ndeadline = 1\n")
    assert load_config().http.deadline == 1.0
    with threaded_server(stall) as iam:
        password_env(monkeypatch, iam)
        started = time.monotonic()
        result = run_cli(["status", JOB], capsys, monkeypatch)
    assert time.monotonic() - started < 6
    assert result.code == 3, result.err
    assert "timed out logging in to IAM" in result.err
    assert "within 1 s" in result.err
    assert "Traceback" not in result.err


def test_status_refuses_an_iam_answer_that_unpacks_past_the_limit(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    packed = bomb(DEFAULT_MAX_BODY + 1024)
    head = (
        "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Subject-Token: tok\r\n"
        f"Content-Encoding: gzip\r\nContent-Length: {len(packed)}\r\n\r\n"
    ).encode()

    def bomber(connection: socket.socket) -> None:
        read_head(connection)
        connection.sendall(head + packed)

    with threaded_server(bomber) as iam:
        password_env(monkeypatch, iam)
        result = run_cli(["status", JOB], capsys, monkeypatch)
    assert result.code == 3, result.err
    assert "refused the answer of IAM" in result.err
    assert "once decompressed" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("value", ["0", "-1", "1e9", "nan", "true", '"30"'])
def test_a_bad_deadline_is_a_config_error(
    value: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(f"[http]\ndeadline = {value}\n")
    result = run_cli(["status", JOB], capsys, monkeypatch)
    assert result.code == 2
    assert "[http] deadline must be a number of seconds from 1 to 3600" in result.err
