"""One slow endpoint must not starve the others: a real loopback server that trickles its
answers (endpoint X) next to the simulator (endpoint Y), with the poller's in-flight cap
at 2 and at its default."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest

from jobdash.api.client import JobsClient
from jobdash.cli.status_view import Results, Target, progress_line
from jobdash.poll.options import PollerOptions
from jobdash.poll.poller import Poller
from jobdash.poll.sharing import _endpoints_from_json, _state_dict
from jobdash.simulator import Simulator, SimulatorConfig
from jobdash.watch.values import EndpointState, PollUpdate, Snapshot, WatchKey

PROJECT = "0123456789abcdef0123456789abcdef"
DEFAULT_IN_FLIGHT = PollerOptions().max_in_flight
#: Long enough that no scheduled poll of Y comes during a test: a second fetch of Y is `r`.
INTERVAL = 60.0


@dataclass
class Trickler:
    """A server whose answers never end: a head, then one byte of body every 0.2 s."""

    url: str = ""
    under_way: int = 0
    requests: int = 0
    server: asyncio.Server | None = None
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            self.under_way += 1
            try:
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 100000\r\n\r\n"
                )
                while True:
                    writer.write(b" ")
                    await writer.drain()
                    await asyncio.sleep(0.2)
            finally:
                self.under_way -= 1


@contextlib.asynccontextmanager
async def trickling_server() -> AsyncIterator[Trickler]:
    slow = Trickler()
    slow.server = await asyncio.start_server(slow.handle, "127.0.0.1", 0)
    slow.url = f"http://127.0.0.1:{slow.server.sockets[0].getsockname()[1]}"
    try:
        yield slow
    finally:
        for writer in slow.writers:
            writer.close()
        slow.server.close()


@pytest.fixture
async def trickler() -> AsyncIterator[Trickler]:
    async with trickling_server() as slow:
        yield slow


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(manual_clock=True, seed=5)) as simulator:
        yield simulator


@pytest.fixture
async def clients(
    trickler: Trickler, sim: Simulator
) -> AsyncIterator[Callable[[WatchKey], JobsClient]]:
    async with (
        httpx.AsyncClient(headers={"X-Auth-Token": "x"}) as slow_http,
        httpx.AsyncClient(headers={"X-Auth-Token": sim.credentials.token}) as sim_http,
    ):
        slow = JobsClient(slow_http, trickler.url, PROJECT)
        healthy = JobsClient(sim_http, sim.url, sim.project_id)
        yield lambda key: slow if key.endpoint == trickler.url else healthy


async def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(poller: Poller) -> AsyncIterator[None]:
    task = asyncio.create_task(poller.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await poller.aclose()


def slow_keys(trickler: Trickler, count: int) -> list[WatchKey]:
    return [WatchKey(trickler.url, PROJECT, f"{i:032x}") for i in range(count)]


def state_of(poller: Poller, endpoint: str) -> EndpointState:
    return next(state for state in poller.endpoint_states() if state.endpoint == endpoint)


@pytest.mark.parametrize("in_flight", [2, DEFAULT_IN_FLIGHT])
async def test_a_healthy_endpoint_is_fetched_and_refreshed_while_another_trickles(
    trickler: Trickler, sim: Simulator, clients, in_flight: int
) -> None:
    healthy = WatchKey(sim.url, sim.project_id, sim.create_servers(1, duration=(900, 1000)))
    updates: list[PollUpdate] = []
    poller = Poller(clients, on_update=updates.append, interval=INTERVAL, max_in_flight=in_flight)
    # The slow jobs come first: added together, they are due first.
    poller.set_watchlist([*slow_keys(trickler, in_flight), healthy])
    async with running(poller):
        await wait_for(
            lambda: any(u.key == healthy and u.job is not None for u in updates),
            5.0,
            "the healthy endpoint's job fetched",
        )
        await wait_for(lambda: trickler.under_way > 0, 5.0, "the slow endpoint asked")
        # The slow endpoint keeps what it holds and leaves room for the other.
        assert trickler.under_way < in_flight
        assert sim.request_count(healthy.job_id) == 1

        poller.refresh(healthy)
        await wait_for(
            lambda: sim.request_count(healthy.job_id) == 2, 2.0, "r on the healthy job sent"
        )
        poller.refresh(healthy)
        await wait_for(lambda: sim.request_count(healthy.job_id) == 3, 2.0, "r sent a second time")
        assert state_of(poller, sim.url).requests_sent == 3
        assert trickler.under_way < in_flight


@pytest.mark.parametrize("in_flight", [2, DEFAULT_IN_FLIGHT])
async def test_r_on_a_finished_job_sends_while_a_slow_endpoint_holds_every_slot(
    trickler: Trickler, sim: Simulator, clients, in_flight: int
) -> None:
    job_id = sim.create_servers(1, duration=(5, 10))
    sim.advance(60)
    finished = WatchKey(sim.url, sim.project_id, job_id)
    job = await clients(finished).get_job(job_id)
    assert job.is_terminal
    seeded = {finished: Snapshot(finished, job, datetime.now(UTC))}
    poller = Poller(clients, interval=INTERVAL, max_in_flight=in_flight)
    poller.set_watchlist([*slow_keys(trickler, in_flight), finished], seeded)
    async with running(poller):
        # Nothing else has work: the slow endpoint may take every slot.
        await wait_for(lambda: trickler.under_way == in_flight, 5.0, "every slot taken")
        assert sim.request_count(job_id) == 1

        poller.refresh(finished)
        await wait_for(lambda: sim.request_count(job_id) == 2, 2.0, "r on the finished job")
        poller.refresh(finished)
        await wait_for(lambda: sim.request_count(job_id) == 3, 2.0, "r sent a second time")
        # ... and the slow endpoint started nothing more meanwhile.
        assert trickler.requests == in_flight


async def test_two_slow_endpoints_with_one_slot_each_do_not_starve_a_third(
    trickler: Trickler, sim: Simulator
) -> None:
    """More endpoints with work than slots: once the slow ones' answers have been awaited
    `slow_after`, the healthy endpoint gets a slot of its own."""
    healthy = WatchKey(sim.url, sim.project_id, sim.create_servers(1, duration=(900, 1000)))
    async with (
        trickling_server() as other,
        httpx.AsyncClient(headers={"X-Auth-Token": "x"}) as slow_http,
        httpx.AsyncClient(headers={"X-Auth-Token": sim.credentials.token}) as sim_http,
    ):
        healthy_client = JobsClient(sim_http, sim.url, sim.project_id)

        def client_for(key: WatchKey) -> JobsClient:
            if key.endpoint == sim.url:
                return healthy_client
            return JobsClient(slow_http, key.endpoint, PROJECT)

        poller = Poller(client_for, interval=INTERVAL, max_in_flight=2, slow_after=0.5)
        poller.set_watchlist([*slow_keys(trickler, 1), *slow_keys(other, 1), healthy])
        async with running(poller):
            await wait_for(
                lambda: trickler.under_way == 1 and other.under_way == 1, 5.0, "both asked"
            )
            await wait_for(
                lambda: sim.request_count(healthy.job_id) == 1, 3.0, "the healthy job fetched"
            )
            poller.refresh(healthy)
            await wait_for(lambda: sim.request_count(healthy.job_id) == 2, 2.0, "r sent")
            assert (trickler.requests, other.requests) == (1, 1)


async def test_the_slow_endpoint_is_reported_slow_and_the_healthy_one_is_not(
    trickler: Trickler, sim: Simulator, clients
) -> None:
    healthy = WatchKey(sim.url, sim.project_id, sim.create_servers(1, duration=(900, 1000)))
    poller = Poller(clients, interval=0.2, max_in_flight=2, slow_after=0.5)
    poller.set_watchlist([*slow_keys(trickler, 2), healthy])
    async with running(poller):
        await wait_for(lambda: trickler.under_way > 0, 5.0, "the slow endpoint asked")
        assert not state_of(poller, trickler.url).slow  # not yet half a second
        await wait_for(
            lambda: state_of(poller, trickler.url).slow, 3.0, "the slow endpoint reported slow"
        )
        await asyncio.sleep(0.3)
        slow, fine = state_of(poller, trickler.url), state_of(poller, sim.url)
        assert slow.slow and slow.slow_seconds >= 0.5
        assert slow.slow_note is not None and trickler.url.split("//")[1] in slow.slow_note
        assert not fine.slow and fine.slow_seconds == 0.0 and fine.slow_note is None
        assert sim.request_count(healthy.job_id) >= 2  # polled on its schedule all along

        # `status --watch` says it too.
        results = Results([Target(healthy)])
        line = progress_line(results, time.monotonic(), poller.endpoint_states()).plain
        assert "slow: 127.0.0.1" in line and "answers take" in line

        # Other processes following this watchlist read the states as JSON.
        (back,) = _endpoints_from_json(json.dumps([_state_dict(slow)]))
        assert back.slow and back.slow_seconds == slow.slow_seconds


async def test_a_slow_answer_keeps_the_endpoint_slow_for_a_while_after() -> None:
    """An endpoint whose every answer trickles in is not shown live between its requests."""

    async def late(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(0.6)
        body = b'{"job_id": "%s", "status": "SUCCESS", "entities": {}}' % (b"a" * 32)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % len(body)
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(late, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with httpx.AsyncClient() as http:
            client = JobsClient(http, url, PROJECT)
            key = WatchKey(url, PROJECT, "a" * 32)
            poller = Poller(lambda _key: client, slow_after=0.5)
            (update,) = await poller.refresh_all_once([key])
            assert update.job is not None and update.job.is_terminal
            (state,) = poller.endpoint_states()
            assert state.in_flight == 0
            assert state.slow and state.slow_seconds >= 0.5
    finally:
        server.close()
