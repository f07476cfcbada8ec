"""The benchmark's scenarios beyond one refresh: what a user of the default config gets.

- `status`: the whole `jobdash status ID...` process (start-up, imports, connection,
  fetches, printing) with no config.toml, against the SDK's sequential loop;
- `limited`: a server allowing a fixed request rate (token bucket), answering 429 or
  202 flow control above it; the default poller watches running jobs for a while;
- `long`: jobs that run for minutes, on simulated time: requests per job against a
  poller that asks every 3 seconds.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import httpx
from poll_sim import Measurement, SimInfo, SimProcess, aksk_auth

from jobdash.api.client import JobsClient
from jobdash.api.http1 import Http1Transport
from jobdash.poll.options import poller_options
from jobdash.poll.poller import Poller
from jobdash.watch.values import WatchKey

#: Environment variables that would let the child pick up someone's real credentials.
_CONNECTION_ENV = ("OS_", "JOBDASH_", "XDG_")


def status_process(info: SimInfo) -> Measurement:
    """One run of `python -m jobdash status ID...` with AK/SK and no config.toml."""
    with tempfile.TemporaryDirectory(prefix="jobdash-bench-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_CONNECTION_ENV)}
        # An installed jobdash has its bytecode compiled: let the discarded first run
        # write it, rather than compile every module on every run.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(
            XDG_CONFIG_HOME=os.path.join(home, "config"),
            XDG_STATE_HOME=os.path.join(home, "state"),
            XDG_CACHE_HOME=os.path.join(home, "cache"),
            JOBDASH_ENDPOINT=info.url,
            OS_PROJECT_ID=info.project_id,
            OS_ACCESS_KEY=info.access_key,
            OS_SECRET_KEY=info.secret_key,
            COLUMNS="120",
        )
        command = [sys.executable, "-m", "jobdash", "status", *info.job_ids]
        wall0 = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - wall0
    if result.returncode != 0:
        raise SystemExit(f"jobdash status exited {result.returncode}: {result.stderr[-2000:]}")
    if result.stdout.count("RUNNING") < len(info.job_ids):
        raise SystemExit("jobdash status did not show every job as RUNNING")
    # CPU time of the child is not comparable with the SDK loop's in-process figure.
    return Measurement("jobdash status (whole process)", len(info.job_ids), wall, float("nan"))


@dataclass(frozen=True)
class LimitedRun:
    answer: str
    limit: float
    settle: float
    seconds: float
    served_settling: int
    limited_settling: int
    served: int
    limited: int
    shown: str

    @property
    def served_rate(self) -> float:
        return self.served / (self.seconds - self.settle)

    @property
    def limited_share(self) -> float:
        total = self.served + self.limited
        return self.limited / total if total else 0.0


def _flow(stats: dict[str, Any]) -> tuple[int, int]:
    flow = stats.get("rate_limit") or {}
    return int(flow.get("served", 0)), int(flow.get("limited", 0))


async def limited_watch(sim: SimProcess, limit: float, seconds: float, settle: float) -> LimitedRun:
    """Watch every job with the default options for `seconds`; count what the server did."""
    info = sim.info
    options = poller_options({})
    transport = Http1Transport(max(20, options.max_in_flight))
    async with httpx.AsyncClient(auth=aksk_auth(info), transport=transport) as http:
        client = JobsClient(http, info.url, info.project_id, transport=transport)
        poller = Poller(lambda key: client, **options.as_kwargs())
        poller.set_watchlist(WatchKey(info.url, info.project_id, j) for j in info.job_ids)
        before = _flow(await asyncio.to_thread(sim.stats))
        runner = asyncio.create_task(poller.run())
        try:
            await asyncio.sleep(settle)
            at_settle = _flow(await asyncio.to_thread(sim.stats))
            await asyncio.sleep(seconds - settle)
            at_end = _flow(await asyncio.to_thread(sim.stats))
            shown = describe_states(poller)
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            await poller.aclose()
    answer = (await asyncio.to_thread(sim.stats)).get("rate_limit", {}).get("answer", "?")
    return LimitedRun(
        answer=str(answer),
        limit=limit,
        settle=settle,
        seconds=seconds,
        served_settling=at_settle[0] - before[0],
        limited_settling=at_settle[1] - before[1],
        served=at_end[0] - at_settle[0],
        limited=at_end[1] - at_settle[1],
        shown=shown,
    )


def describe_states(poller: Poller) -> str:
    """What the poller says about its endpoints (the progress line's words), if it can."""
    states = poller.endpoint_states()
    try:
        from jobdash.cli.status_view import rate_text
    except ImportError:
        return ", ".join(
            f"throttled={s.throttled} backoff={s.backoff_seconds:.1f}s" for s in states
        )
    return rate_text(states).plain


async def long_jobs_requests(jobs: int, minutes: float, **poller_kwargs: Any) -> float:
    """Requests per job for jobs that run `minutes`, polled on simulated time to the end."""
    from jobdash.auth.methods import TokenAuth
    from jobdash.simulator import Simulator, SimulatorConfig

    step = 0.25
    duration = minutes * 60.0 - 5.0  # the sim adds up to ~9 s of INIT and start-up
    with Simulator(SimulatorConfig(manual_clock=True, seed=0, fail_rate=0.0)) as sim:
        ids = [
            sim.create_servers(1, name=f"long{i}", duration=(duration, duration))
            for i in range(jobs)
        ]
        elapsed = [0.0]
        async with httpx.AsyncClient(auth=TokenAuth(sim.credentials.token)) as http:
            client = JobsClient(http, sim.url, sim.project_id)
            poller = Poller(
                lambda key: client, clock=lambda: elapsed[0], now=sim.now, **poller_kwargs
            )
            poller.set_watchlist(WatchKey(sim.url, sim.project_id, j) for j in ids)
            while not poller.all_terminal():
                if elapsed[0] > minutes * 120.0:
                    raise SystemExit("long jobs: the poller never saw the jobs end")
                await poller.poll_due()
                elapsed[0] += step
                sim.advance(step)
            await poller.aclose()
        return sim.request_count() / jobs


def long_jobs(jobs: int, minutes: float) -> tuple[float, float]:
    """(requests per job with the default options, with a fixed 3 s poller)."""
    defaults = poller_options({}).as_kwargs()
    ours = asyncio.run(long_jobs_requests(jobs, minutes, **defaults))
    fixed = dict(defaults, interval=3.0, max_interval=3.0)
    theirs = asyncio.run(long_jobs_requests(jobs, minutes, **fixed))
    return ours, theirs
