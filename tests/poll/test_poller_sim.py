"""The poller against the simulator over a real loopback socket (and a real SQLite store)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from poller_helpers import run_until_done

from jobdash.api.client import JobsClient
from jobdash.api.errors import ErrorKind
from jobdash.poll.poller import Poller
from jobdash.simulator import Simulator, SimulatorConfig
from jobdash.store.core import Store
from jobdash.watch.values import PollUpdate, WatchEntry, WatchKey

#: Fast enough to follow simulated jobs in a few hundred milliseconds of real time.
QUICK = {"interval": 0.01, "max_interval": 0.05, "max_rps": 1000.0}


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    options = getattr(request, "param", {})
    with Simulator(SimulatorConfig(manual_clock=True, seed=3, **options)) as simulator:
        yield simulator


@pytest.fixture
async def http(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(headers={"X-Auth-Token": sim.credentials.token}) as client:
        yield client


def client_factory(sim: Simulator, http: httpx.AsyncClient):
    client = JobsClient(http, sim.url, sim.project_id)
    return lambda key: client


def key_for(sim: Simulator, job_id: str) -> WatchKey:
    return WatchKey(sim.url, sim.project_id, job_id)


async def advance_until(poller: Poller, sim: Simulator, step: float, rounds: int = 200) -> None:
    """Move simulated time while the poller runs, until every watched job has ended."""
    for _ in range(rounds):
        if poller.all_terminal():
            return
        sim.advance(step)
        await asyncio.sleep(0.02)
    raise AssertionError("jobs did not finish")


async def test_jobs_are_followed_to_the_end(sim, http):
    keys = [
        key_for(sim, sim.create_servers(3, fail_count=0, duration=(20, 60))),
        key_for(sim, sim.create_servers(4, fail_count=2, duration=(30, 90))),
        key_for(sim, sim.create_servers(1, fail_count=1, duration=(10, 20))),
    ]
    updates: list[PollUpdate] = []
    poller = Poller(client_factory(sim, http), on_update=updates.append, **QUICK)
    poller.set_watchlist(keys)
    done = asyncio.create_task(run_until_done(poller, 30))
    await advance_until(poller, sim, step=5.0)
    assert await done

    assert [poller.latest(k).job.status for k in keys] == ["SUCCESS", "FAIL", "FAIL"]
    failed = poller.latest(keys[1]).job
    assert len(failed.failed_sub_jobs) == 2
    assert failed.failed_sub_jobs[0].error_code
    # the ends were seen as transitions from a running state
    finals = [u for u in updates if u.job is not None and u.job.is_terminal and u.changed]
    assert {u.key for u in finals} == set(keys)
    assert all(u.previous_status in ("INIT", "RUNNING") for u in finals)
    assert not any(u.error for u in updates)


async def test_finished_jobs_are_not_polled_again(sim, http):
    running = sim.create_servers(2, fail_count=0, duration=(1000, 2000))
    finished = sim.create_servers(1, fail_count=0, duration=(5, 10))
    sim.advance(20)
    poller = Poller(client_factory(sim, http), **QUICK)
    poller.set_watchlist([key_for(sim, running), key_for(sim, finished)])
    runner = asyncio.create_task(poller.run())
    try:
        while sim.request_count(running) < 20:
            await asyncio.sleep(0.01)
        assert sim.request_count(finished) == 1
        assert poller.next_due_in(key_for(sim, finished)) is None

        poller.refresh(key_for(sim, finished))
        while sim.request_count(finished) < 2:
            await asyncio.sleep(0.01)
        before = sim.request_count(running)
        while sim.request_count(running) < before + 20:
            await asyncio.sleep(0.01)
        assert sim.request_count(finished) == 2
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def test_throttled_endpoint_is_visible_then_recovers(sim, http):
    keys = [key_for(sim, sim.create_servers(1, duration=(1000, 2000))) for _ in range(3)]
    seen: list[tuple[PollUpdate, bool, float]] = []
    poller: Poller

    def on_update(update: PollUpdate) -> None:
        (state,) = poller.endpoint_states()
        seen.append((update, state.throttled, state.backoff_seconds))

    # one request at a time, so nothing else is under way when the 429 comes back
    poller = Poller(client_factory(sim, http), on_update=on_update, **QUICK, max_in_flight=1)
    poller.set_watchlist(keys)
    await poller.refresh_all_once()
    sim.inject("throttle", count=1, retry_after=1)
    runner = asyncio.create_task(poller.run())
    try:
        while not any(u.error for u, _, _ in seen):
            await asyncio.sleep(0.005)
        throttled_at = next(i for i, (u, _, _) in enumerate(seen) if u.error)
        update, throttled, backoff = seen[throttled_at]
        assert update.error.kind is ErrorKind.THROTTLED
        assert update.error.retry_after == 1
        assert throttled and 0.5 < backoff <= 1.0
        sent = sim.request_count()

        # nothing goes out while the endpoint reports the backoff
        checks = 0
        while True:
            count = sim.request_count()
            state = poller.endpoint_states()[0]
            if not state.throttled:
                break
            assert count == sent
            checks += 1
            await asyncio.sleep(0.01)
        assert checks > 0

        # recovered: every job answered again after the throttle
        while {u.key for u, _, _ in seen[throttled_at + 1 :] if u.job} != set(keys):
            await asyncio.sleep(0.01)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    assert not poller.endpoint_states()[0].throttled
    assert sim.stats()["by_status"].get("429") == 1
    assert all(u.error is None for u, _, _ in seen[throttled_at + 1 :])


async def test_refresh_all_once_waits_out_a_throttle(sim, http):
    keys = [key_for(sim, sim.create_servers(1)) for _ in range(4)]
    sim.inject("throttle", count=2, retry_after=1)
    poller = Poller(client_factory(sim, http), max_in_flight=1)
    updates = await poller.refresh_all_once(keys)
    assert [u.key for u in updates] == keys
    assert all(u.job is not None and u.error is None for u in updates)
    assert sim.stats()["by_status"].get("429") == 2


@pytest.mark.parametrize(
    "sim",
    [{"purge_after": 60.0}, {"purge_after": 60.0, "not_found_style": "400"}],
    indirect=True,
    ids=["404", "400"],
)
async def test_purged_job_expires_and_keeps_its_last_snapshot(sim, http, tmp_path: Path):
    job_id = sim.create_servers(2, fail_count=1, duration=(10, 20))
    key = key_for(sim, job_id)
    with Store(tmp_path / "watch.sqlite") as store:
        store.add([WatchEntry(key)])
        poller = Poller(client_factory(sim, http), store=store, **QUICK)
        done = asyncio.create_task(run_until_done(poller, 30))
        for _ in range(100):  # let it load the watchlist from the store
            if poller.watched():
                break
            await asyncio.sleep(0)
        assert poller.watched() == [key]
        await advance_until(poller, sim, step=5.0)
        assert await done
        assert store.snapshot(key).job.status == "FAIL"

        sim.advance(120)  # the cloud purges the finished job
        (update,) = await poller.refresh_all_once([key])
        assert update.expired and update.error is None
        assert update.job.status == "FAIL"
        snapshot = store.snapshot(key)
        assert snapshot.expired
        assert snapshot.job is not None and snapshot.job.status == "FAIL"
        assert len(snapshot.job.sub_jobs) == 2
        await poller.aclose()

        # a new poller seeded from the store leaves the expired job alone
        requests = sim.request_count(job_id)
        again = Poller(client_factory(sim, http), store=store, **QUICK)
        assert await run_until_done(again, 5)
        assert again.latest(key).expired
        assert sim.request_count(job_id) == requests
