"""A slow endpoint in the dashboard: the header says it is slow, not live, and `r` on a job
of another endpoint is sent while the slow one trickles (in-flight cap 2)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from conftest import SIZE, SimDashboard, shown, wait_until
from tui_sample import PROJECT

from jobdash.api.client import JobsClient
from jobdash.connections.groups import connection_state
from jobdash.poll.poller import Poller
from jobdash.tui.app import JobDashApp
from jobdash.watch.values import EndpointState, PollUpdate, WatchEntry, WatchKey


@pytest.fixture
async def trickling() -> AsyncIterator[str]:
    """A server that sends a head and then one byte of body every 0.2 s, for ever."""
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while True:
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(0.2)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    for writer in writers:
        writer.close()
    server.close()


def status_line(app: JobDashApp) -> str:
    return shown(app.dashboard.header, width=SIZE[0]).splitlines()[0]


def connections_line(app: JobDashApp) -> str:
    return shown(app.dashboard.header, width=SIZE[0]).splitlines()[2]


async def test_the_header_shows_the_slow_endpoint_and_r_still_sends(
    dash: SimDashboard, trickling: str
) -> None:
    healthy = dash.watch(dash.sim.create_servers(1, duration=(900, 1000)), "healthy")
    slow = [WatchKey(trickling, PROJECT, f"{i:032x}") for i in range(2)]
    dash.store.add([WatchEntry(key, f"slow {i}") for i, key in enumerate(slow)])
    slow_http = httpx.AsyncClient(headers={"X-Auth-Token": "x"})

    def client_for(key: WatchKey) -> JobsClient:
        http = slow_http if key.endpoint == trickling else dash.http
        return JobsClient(http, key.endpoint, key.project_id)

    def factory(on_update: Callable[[PollUpdate], None]) -> Poller:
        dash.poller = Poller(
            client_for,
            on_update=on_update,
            interval=30.0,
            max_in_flight=2,
            now=dash.sim.now,
            slow_after=0.5,
        )
        return dash.poller

    app = dash.app(poller_factory=factory)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: "slow: 127.0.0.1" in status_line(app), "slow shown")
            line = status_line(app)
            assert "answers take" in line and "live" not in line, line
            await wait_until(
                pilot, lambda: "● slow" in connections_line(app), "the connection's state"
            )
            assert "● ok" in connections_line(app)  # the healthy endpoint's connection

            sent = dash.sim.request_count(healthy.job_id)
            assert sent >= 1  # fetched while the other endpoint trickles
            tree = app.dashboard.job_tree
            node = tree.job_node(healthy)
            assert node is not None
            tree.move_cursor(node)
            await pilot.pause()
            await pilot.press("r")
            await wait_until(
                pilot,
                lambda: dash.sim.request_count(healthy.job_id) > sent,
                "r on the healthy job sent",
            )
    finally:
        await slow_http.aclose()


def test_a_slow_endpoint_is_its_connections_state_below_failures() -> None:
    slow = EndpointState("https://ecs.example.test", slow=True, slow_seconds=12.0)
    assert connection_state({}, 1, slow) == "slow"
    assert connection_state({}, 0, slow) == "slow"  # not "waiting": something is on its way
    assert connection_state({"unauthorized": 1}, 1, slow) == "unauthorized"
    assert connection_state({}, 1, EndpointState("https://ecs.example.test")) == "ok"
    assert slow.slow_note == "slow: ecs.example.test answers take 12s"
