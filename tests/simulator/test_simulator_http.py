"""The simulator's HTTP/1.1 server core, its lifecycle, concurrency and `jobdash simulate`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO

import httpx
import pytest

from jobdash.simulator import Simulator, SimulatorConfig, serve
from jobdash.simulator.cli import add_simulate_arguments, config_from_args
from jobdash.simulator.http import HttpServer, Request, Response

Factory = Callable[..., Simulator]


def address(sim: Simulator) -> tuple[str, int]:
    host, port = sim.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def read_response(sock: socket.socket) -> tuple[str, dict[str, str], bytes]:
    """One response off a raw socket: status line, headers, and exactly Content-Length bytes.

    Reads byte by byte through a per-socket buffer so pipelined answers stay separate.
    """
    stream = _streams.setdefault(sock.fileno(), sock.makefile("rb"))
    status_line = stream.readline().decode("latin-1").rstrip("\r\n")
    assert status_line, "connection closed before a response"
    headers: dict[str, str] = {}
    while (line := stream.readline().decode("latin-1").rstrip("\r\n")) != "":
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = stream.read(int(headers["content-length"]))
    return status_line, headers, body


_streams: dict[int, BinaryIO] = {}


def closed_by_peer(sock: socket.socket) -> bool:
    stream = _streams.get(sock.fileno())
    try:
        if stream is not None:
            return stream.read(1) == b""
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def raw_get(sim: Simulator, job_id: str, *, version: str = "HTTP/1.1", extra: str = "") -> bytes:
    return (
        f"GET /v1/{sim.project_id}/jobs/{job_id} {version}\r\nHost: x\r\n"
        f"X-Auth-Token: {sim.credentials.token}\r\n{extra}\r\n"
    ).encode()


@pytest.fixture
def conn(simulator: Simulator) -> Iterator[socket.socket]:
    sock = socket.create_connection(address(simulator), timeout=5)
    yield sock
    stream = _streams.pop(sock.fileno(), None)
    if stream is not None:
        stream.close()
    sock.close()


# -- HTTP core -------------------------------------------------------------------------


def test_keep_alive_serves_several_requests_on_one_connection(
    simulator: Simulator, conn: socket.socket
) -> None:
    job_id = simulator.create_servers(1)
    for _ in range(3):
        conn.sendall(raw_get(simulator, job_id))
        status, headers, body = read_response(conn)
        assert status == "HTTP/1.1 200 OK"
        assert headers["connection"] == "keep-alive"
        assert json.loads(body)["job_id"] == job_id
    assert simulator.stats()["connections_total"] == 1


def test_pipelined_requests_are_answered_in_order(
    simulator: Simulator, conn: socket.socket
) -> None:
    first = simulator.create_servers(1)
    second = simulator.create_servers(2)
    conn.sendall(raw_get(simulator, first) + raw_get(simulator, second))
    assert json.loads(read_response(conn)[2])["job_id"] == first
    assert json.loads(read_response(conn)[2])["job_id"] == second


def test_connection_close_is_honoured(simulator: Simulator, conn: socket.socket) -> None:
    job_id = simulator.create_servers(1)
    conn.sendall(raw_get(simulator, job_id, extra="Connection: close\r\n"))
    status, headers, _ = read_response(conn)
    assert status == "HTTP/1.1 200 OK"
    assert headers["connection"] == "close"
    assert closed_by_peer(conn)


def test_http_10_closes_unless_keep_alive_asked(simulator: Simulator) -> None:
    job_id = simulator.create_servers(1)
    with socket.create_connection(address(simulator), timeout=5) as sock:
        sock.sendall(raw_get(simulator, job_id, version="HTTP/1.0"))
        assert read_response(sock)[1]["connection"] == "close"
        assert closed_by_peer(sock)
    with socket.create_connection(address(simulator), timeout=5) as sock:
        sock.sendall(
            raw_get(simulator, job_id, version="HTTP/1.0", extra="Connection: keep-alive\r\n")
        )
        assert read_response(sock)[1]["connection"] == "keep-alive"
        sock.sendall(
            raw_get(simulator, job_id, version="HTTP/1.0", extra="Connection: keep-alive\r\n")
        )
        assert read_response(sock)[0].endswith("200 OK")


@pytest.mark.parametrize(
    "garbage",
    [
        b"hello there\r\n\r\n",
        b"GET /x HTTP/9.9\r\n\r\n",
        b"GET no-slash HTTP/1.1\r\n\r\n",
        b"GET /x HTTP/1.1\r\nno colon here\r\n\r\n",
        b"GET /x HTTP/1.1\r\nBad Name: 1\r\n\r\n",
        b"POST /x HTTP/1.1\r\nContent-Length: ten\r\n\r\n",
        b"POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        b"GET /" + b"a" * 40000 + b" HTTP/1.1\r\n\r\n",
    ],
)
def test_garbage_gets_400_and_close(
    simulator: Simulator, conn: socket.socket, garbage: bytes
) -> None:
    conn.sendall(garbage)
    status, headers, body = read_response(conn)
    assert status == "HTTP/1.1 400 Bad Request"
    assert headers["connection"] == "close"
    assert json.loads(body)["error"]["message"].startswith("Bad request")
    assert closed_by_peer(conn)
    assert simulator.stats()["bad_requests"] == 1


def test_chunked_request_body(simulator: Simulator, conn: socket.socket) -> None:
    body = json.dumps({"server": {"name": "web", "count": 2}}).encode()
    chunks = b"".join(
        f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (body[:10], body[10:])
    )
    conn.sendall(
        (
            f"POST /v1/{simulator.project_id}/cloudservers HTTP/1.1\r\nHost: x\r\n"
            f"X-Auth-Token: {simulator.credentials.token}\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        + chunks
        + b"0\r\n\r\n"
    )
    status, _, answer = read_response(conn)
    assert status == "HTTP/1.1 200 OK"
    assert len(json.loads(answer)["serverIds"]) == 2


def test_head_has_length_but_no_body(simulator: Simulator, conn: socket.socket) -> None:
    job_id = simulator.create_servers(1)
    request = raw_get(simulator, job_id).replace(b"GET ", b"HEAD ", 1)
    conn.sendall(request + raw_get(simulator, job_id))
    data = b""
    while data.count(b"HTTP/1.1 200 OK") < 2 or not data.endswith(b"}"):
        data += conn.recv(65536)
    head_part = data.split(b"\r\n\r\n", 1)
    assert head_part[1].startswith(b"HTTP/1.1 200 OK"), "HEAD must not send a body"


def test_handler_failure_answers_500_and_server_keeps_going(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    job_id = simulator.create_servers(1)

    async def broken(*_args: object) -> None:
        raise RuntimeError("handler bug")

    with httpx.Client() as http:
        monkeypatch.setattr(simulator.app, "_dispatch", broken)
        failed = http.get(f"{simulator.url}/anything")
        assert failed.status_code == 500
        assert failed.headers["connection"] == "close"
        assert "handler bug" in caplog.text
        monkeypatch.undo()
        ok = http.get(
            f"{simulator.url}/v1/{simulator.project_id}/jobs/{job_id}",
            headers={"X-Auth-Token": simulator.credentials.token},
        )
        assert ok.status_code == 200
        # Nonsense sent to the control endpoints is a 400, not a crash.
        for seconds in ("inf", "nan", -5, "soon"):
            moved = http.post(f"{simulator.url}/_sim/advance", json={"seconds": seconds})
            assert moved.status_code == 400
        assert http.post(f"{simulator.url}/_sim/advance", json={}).status_code == 400
        assert http.post(f"{simulator.url}/_sim/faults", content=b"[1]").status_code == 400


# -- concurrency ----------------------------------------------------------------------


async def test_250_concurrent_keep_alive_connections(simulator: Simulator) -> None:
    job_id = simulator.create_servers(3)
    # Each answer waits a little, so all requests are in flight at the same time.
    simulator.inject("latency", latency_ms=300, count=250)
    # httpx drops connections idle for 5 s by default; on a busy machine the first ones back
    # wait that long for the rest, and this test is about the simulator's keep-alive.
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=300, keepalive_expiry=120)
    url = f"{simulator.url}/v1/{simulator.project_id}/jobs/{job_id}"
    headers = {"X-Auth-Token": simulator.credentials.token}
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        first = await asyncio.gather(*(client.get(url, headers=headers) for _ in range(250)))
        assert {response.status_code for response in first} == {200}
        stats = simulator.stats()
        assert stats["connections_max"] >= 200
        opened = stats["connections_total"]
        assert opened >= 200

        # Later requests reuse the kept-alive connections instead of opening new ones.
        # (Sequential: httpx's pool gets slow with hundreds of idle connections.)
        for _ in range(10):
            assert (await client.get(url, headers=headers)).status_code == 200
        after = simulator.stats()
        assert after["connections_total"] == opened
        assert after["connections_open"] == opened
    assert simulator.request_count(job_id) == 260


# -- lifecycle ------------------------------------------------------------------------


def simulator_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "jobdash-simulator" and t.is_alive()]


def test_stop_closes_everything_and_leaves_no_thread() -> None:
    before = len(simulator_threads())
    sim = Simulator(SimulatorConfig(manual_clock=True))
    with sim:
        where = address(sim)
        job_id = sim.create_servers(1)
        client = httpx.Client()
        response = client.get(
            f"{sim.url}/v1/{sim.project_id}/jobs/{job_id}",
            headers={"X-Auth-Token": sim.credentials.token},
        )
        assert response.status_code == 200
        assert len(simulator_threads()) == before + 1
        # A kept-alive connection stays open until stop().
        assert sim.stats()["connections_open"] == 1
    assert len(simulator_threads()) == before
    assert not sim.running
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(where, timeout=5)
    with pytest.raises(httpx.TransportError):
        client.get(f"http://{where[0]}:{where[1]}/v1/x/jobs/y")
    client.close()
    sim.stop()  # stopping twice is harmless


def test_start_reports_a_busy_port() -> None:
    with Simulator(SimulatorConfig()) as first:
        port = address(first)[1]
        with pytest.raises(OSError):
            Simulator(SimulatorConfig(port=port)).start()
    assert simulator_threads() == []


async def test_serve_in_the_running_loop() -> None:
    ready: asyncio.Future[Simulator] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(SimulatorConfig(manual_clock=True), ready=ready.set_result))
    sim = await asyncio.wait_for(ready, 10)
    job_id = sim.create_servers(2)
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{sim.url}/v1/{sim.project_id}/jobs/{job_id}",
            headers={"X-Auth-Token": sim.credentials.token},
        )
        assert response.json()["job_id"] == job_id
        url = sim.url
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(httpx.ConnectError):
            await client.get(url + "/_sim/stats")


async def test_close_waits_for_a_connection_that_is_still_closing() -> None:
    """A connection the client just dropped is still closing; close() must wait for it.

    Otherwise asyncio.run cancels it after the main task ends and logs a traceback
    when Ctrl-C stops `jobdash simulate` at that moment.
    """

    async def not_found(request: Request) -> Response:
        return Response(404, body=b"{}")

    server = HttpServer(not_found)
    host, port = await server.start("127.0.0.1", 0)
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    assert (await reader.readline()).startswith(b"HTTP/1.1 404")
    writer.close()
    await writer.wait_closed()
    for _ in range(1000):
        if server.connections_open == 0:
            break
        await asyncio.sleep(0)
    assert server.connections_open == 0
    await server.close()
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    assert others == []


async def test_stop_ends_serve_from_another_thread() -> None:
    ready: asyncio.Future[Simulator] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(SimulatorConfig(), ready=ready.set_result))
    sim = await asyncio.wait_for(ready, 10)
    where = address(sim)
    stopper = threading.Thread(target=sim.stop)
    stopper.start()
    await asyncio.wait_for(task, 10)  # ends normally, not cancelled
    stopper.join()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(where, timeout=5)


# -- jobdash simulate -----------------------------------------------------------------


def test_simulate_arguments_map_to_config() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    defaults = config_from_args(parser.parse_args([]))
    assert (defaults.host, defaults.port, defaults.not_found_style) == ("127.0.0.1", 8787, "404")
    flags = "--port 0 --speed 5 --fail-rate 0.5 --seed 9 --latency-ms 10 --token-ttl 60"
    args = parser.parse_args([*flags.split(), "--purge-after", "30", "--not-found-style", "400"])
    config = config_from_args(args)
    assert (config.speed, config.fail_rate, config.seed) == (5.0, 0.5, 9)
    assert (config.latency_ms, config.token_ttl, config.purge_after) == (10.0, 60.0, 30.0)
    assert config.not_found_style == "400"
    for bad in ("--fail-rate 2", "--speed -1", "--token-ttl 0", "--not-found-style 500"):
        with pytest.raises(SystemExit):
            parser.parse_args(bad.split())


SIMULATE_SCRIPT = """
import argparse, sys
from jobdash.simulator.cli import add_simulate_arguments, run_simulate
parser = argparse.ArgumentParser()
add_simulate_arguments(parser)
sys.exit(run_simulate(parser.parse_args(sys.argv[1:])))
"""


def test_simulate_command_prints_connection_and_stops_on_ctrl_c(
    subprocess_env: dict[str, str],
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", SIMULATE_SCRIPT, "--port", "0", "--seed", "5", "--demo-jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env,
        # Ctrl-C reaches the child as SIGINT; make sure it is not inherited as ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        exports: list[str] = []
        while sum(line.startswith("# demo job:") for line in exports) < 2 and len(exports) < 60:
            exports.append(process.stdout.readline())
        sim = Simulator(SimulatorConfig(seed=5))
        url = banner.split(" on ", 1)[1].split()[0]
        assert f"project_id={sim.project_id}" in banner
        assert f"ak={sim.credentials.access_key}" in banner
        assert f"token={sim.credentials.token}" in banner
        assert f"export OS_AUTH_URL={url}/v3\n" in exports
        assert f"export OS_AUTH_TOKEN={sim.credentials.token}\n" in exports
        assert f"export OS_SECRET_KEY={sim.credentials.secret_key}\n" in exports
        demo = [line.split()[-1] for line in exports if line.startswith("# demo job:")]
        assert len(demo) == 2
        response = httpx.get(
            f"{url}/v1/{sim.project_id}/jobs/{demo[0]}",
            headers={"X-Auth-Token": sim.credentials.token},
        )
        assert response.json()["job_id"] == demo[0]
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 0
    assert "Traceback" not in err
