"""Adaptive request rate against the simulator's server-side limit, over a real socket.

The simulated gateway lets a fixed number of job requests per second through (a token
bucket) and answers the rest with flow control. The poller, asked to fetch far more
often than that, must settle under the limit instead of flooding it with requests that
are turned away. Asserted on counts of answers, not on timings.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest
from cli_helpers import connection_flags, run_cli

from jobdash.api.client import JobsClient
from jobdash.poll.poller import Poller
from jobdash.simulator import Simulator
from jobdash.simulator.cli import add_simulate_arguments, config_from_args
from jobdash.simulator.flow import FlowLimit
from jobdash.watch.values import WatchKey

LIMIT = 40.0
JOBS = 40
IN_FLIGHT = 16


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_flow_limit_is_a_token_bucket_that_starts_full() -> None:
    clock = FakeClock()
    flow = FlowLimit(10.0, clock=clock)
    assert [flow.admit() for _ in range(12)] == [True] * 10 + [False] * 2
    clock.t = 0.5
    assert sum(flow.admit() for _ in range(10)) == 5
    clock.t = 100.0  # a long pause fills the bucket to its size, not beyond
    assert sum(flow.admit() for _ in range(30)) == 10
    assert (flow.served, flow.limited) == (25, 27)
    with pytest.raises(ValueError):
        FlowLimit(0)


@pytest.mark.parametrize(
    ("answer", "status", "code"), [("429", 429, "Common.1503"), ("202", 202, "Common.0024")]
)
def test_simulator_answers_above_its_limit_with_flow_control(
    simulator_factory: Callable[..., Simulator], answer: str, status: int, code: str
) -> None:
    sim = simulator_factory(rate_limit=3.0, rate_limit_answer=answer)
    job = sim.create_servers(1)
    url = f"{sim.url}/v1/{sim.project_id}/jobs/{job}"
    headers = {"X-Auth-Token": sim.credentials.token}
    with httpx.Client(headers=headers) as http:
        answers = [http.get(url) for _ in range(5)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    limited = answers[3]
    assert limited.status_code == status
    assert code in limited.text
    flow = sim.stats()["rate_limit"]
    assert flow["answer"] == answer and flow["served"] >= 3 and flow["limited"] >= 1
    assert flow["served"] + flow["limited"] == 5


def test_simulate_command_takes_a_rate_limit() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    config = config_from_args(
        parser.parse_args(["--rate-limit", "25", "--rate-limit-answer", "202"])
    )
    assert (config.rate_limit, config.rate_limit_answer) == (25.0, "202")
    assert config_from_args(parser.parse_args([])).rate_limit is None
    with pytest.raises(SystemExit):
        parser.parse_args(["--rate-limit", "0"])


@pytest.mark.parametrize("answer", ["429", "202"])
async def test_poller_settles_under_a_server_limit_without_a_flood_of_throttled_answers(
    simulator_factory: Callable[..., Simulator], answer: str
) -> None:
    sim = simulator_factory(rate_limit=LIMIT, rate_limit_answer=answer)
    keys = [
        WatchKey(sim.url, sim.project_id, sim.create_servers(1, duration=(1e6, 1e6)))
        for _ in range(JOBS)
    ]
    async with httpx.AsyncClient(headers={"X-Auth-Token": sim.credentials.token}) as http:
        client = JobsClient(http, sim.url, sim.project_id)
        # Every job every 0.2 s: 200 requests/s wanted, five times what the server allows.
        poller = Poller(
            lambda key: client,
            interval=0.2,
            max_interval=0.2,
            max_in_flight=IN_FLIGHT,
            max_rps=1000.0,
        )
        poller.set_watchlist(keys)
        runner = asyncio.create_task(poller.run())
        try:
            deadline = time.monotonic() + 60
            while sim.stats()["rate_limit"]["served"] < 5 * LIMIT:
                assert time.monotonic() < deadline, "the poller stopped getting answers"
                await asyncio.sleep(0.05)
            (state,) = poller.endpoint_states()
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            await poller.aclose()
    flow = sim.stats()["rate_limit"]
    served, limited = flow["served"], flow["limited"]
    # The first push-back can only catch what was already under way; after that, few.
    assert limited <= IN_FLIGHT + 0.1 * served, (served, limited)
    # It saw the push-back, counted it and is running under the ceiling it was given.
    assert state.extra["throttled_total"] == limited
    assert state.allowed_rate < 1000.0
    assert state.throttle_count >= 1 and state.throttled_since is not None


@pytest.mark.parametrize("answer", ["429", "202"])
def test_one_shot_status_gets_every_job_through_a_server_limit(
    simulator_factory: Callable[..., Simulator],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
) -> None:
    sim = simulator_factory(rate_limit=15.0, rate_limit_answer=answer)
    ids = [sim.create_servers(1, duration=(1e6, 1e6)) for _ in range(45)]
    sim.advance(20)
    result = run_cli(
        ["status", "--json", *connection_flags(sim), *ids], capsys, monkeypatch, sim=sim
    )
    assert result.code == 0, result.err
    assert [job["job_id"] for job in result.json()] == ids
    assert all(job["status"] == "RUNNING" for job in result.json())
    flow = sim.stats()["rate_limit"]
    # The start burst meets the limit once; the cut keeps the rest under it.
    assert flow["served"] == len(ids) and flow["limited"] <= 32 + 0.1 * len(ids)
