"""The cloud's clock: the simulator's `Date` header in its own time, the client reading
it, the poller passing it on, and the per-endpoint offset estimate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from jobdash.api.client import JobsClient, parse_server_date
from jobdash.poll.poller import Poller
from jobdash.simulator import Simulator
from jobdash.watch.values import CloudClocks, PollUpdate, WatchKey, cloud_now

START = datetime(2026, 3, 2, 9, 45, 0, tzinfo=UTC)


def test_parse_server_date_reads_an_http_date_as_the_middle_of_its_second() -> None:
    assert parse_server_date("Mon, 02 Mar 2026 09:45:07 GMT") == START + timedelta(seconds=7.5)
    for bad in (None, "", "yesterday", "Mon, 99 Foo 2026 99:99:99 GMT"):
        assert parse_server_date(bad) is None


def test_simulator_dates_its_answers_in_its_own_time(
    simulator_factory: Callable[..., Simulator],
) -> None:
    sim = simulator_factory(start_time=START)
    sim.advance(3600)
    response = httpx.get(f"{sim.url}/v1/{sim.project_id}/jobs/{'0' * 32}")
    date = parse_server_date(response.headers.get("Date"))
    assert date is not None
    assert abs((date - sim.now()).total_seconds()) <= 1.0


async def test_client_and_poller_carry_the_servers_time(
    simulator_factory: Callable[..., Simulator],
) -> None:
    sim = simulator_factory(start_time=START)
    job_id = sim.create_servers(1, fail_count=0)
    key = WatchKey(sim.url, sim.project_id, job_id)
    # Our clock is an hour behind the simulator's.
    local = lambda: sim.now() - timedelta(hours=1)  # noqa: E731
    async with httpx.AsyncClient(headers={"X-Auth-Token": sim.credentials.token}) as http:
        client = JobsClient(http, sim.url, sim.project_id)
        await client.get_job(job_id)
        assert client.server_time is not None
        assert abs((client.server_time - sim.now()).total_seconds()) <= 1.0

        poller = Poller(lambda _key: JobsClient(http, sim.url, sim.project_id), now=local)
        try:
            (update,) = await poller.refresh_all_once([key])
        finally:
            await poller.aclose()
    assert update.clock_offset == pytest.approx(3600, abs=1.0)
    clocks = CloudClocks()
    clocks.saw(update)
    assert clocks.now(sim.url, local()) - sim.now() < timedelta(seconds=1.5)


def _update(offset: float) -> PollUpdate:
    key = WatchKey("https://ecs.example", "p" * 32, "a" * 32)
    return PollUpdate(key, START, server_time=START + timedelta(seconds=offset))


def test_cloud_clocks_ignore_offsets_within_a_dates_resolution() -> None:
    clocks = CloudClocks()
    endpoint = "https://ecs.example"
    clocks.saw(_update(0.5))
    assert clocks.offset(endpoint) == 0.0
    clocks.saw(_update(120.5))
    assert clocks.offset(endpoint) == 120.5
    clocks.saw(_update(121.0))  # the same second, seen again: no jitter
    assert clocks.offset(endpoint) == 120.5
    clocks.saw(_update(125.5))
    assert clocks.offset(endpoint) == 125.5
    assert clocks.offset("https://other.example") == 0.0
    assert cloud_now(_update(60.5), START) == START + timedelta(seconds=60.5)
    assert cloud_now(None, START) == START
