"""Benchmark: one full refresh of N running jobs, jobdash's poller against the vendor SDK.

    python bench/poll.py [--jobs 500] [--latency-ms 20] [--in-flight 64] [--rps 100000]

The simulator runs in a child process (so its CPU time is not counted here) with
the given added latency per response, holding N running jobs. In this process,
in the same run:

- jobdash: `Poller.refresh_all_once` over one shared `httpx.AsyncClient` (keep-alive),
  within `--in-flight` concurrent requests and `--rps` requests per second;
- SDK: a sequential loop of huaweicloudsdkecs `EcsClient.show_job`, the way a script
  written against the SDK polls.

Both sign every request with the same AK/SK (SDK-HMAC-SHA256). Connection set-up
and imports are not measured: warm-up requests open the SDK's one connection and
jobdash's `--in-flight` ones, and one whole round of each is run and discarded
before the `--rounds` measured ones. Reported: medians of wall time, and of CPU
seconds of this process (`time.process_time`) per request.

The HTTP client is one `httpx.AsyncClient` over `jobdash.api.transport.ShardedTransport`:
httpcore's single connection pool does bookkeeping that grows with the square of
its size on every request, so 64 connections in one pool cost several times the
CPU per request of 16; pools of 4 keep that flat. `--sweep` shows both.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import httpx

from jobdash.api.client import JobsClient
from jobdash.api.transport import ShardedTransport
from jobdash.poll.poller import Poller
from jobdash.watch import WatchKey

WARM_UP = 5


@dataclass(frozen=True)
class SimInfo:
    url: str
    project_id: str
    access_key: str
    secret_key: str
    job_ids: list[str]


@dataclass(frozen=True)
class Measurement:
    name: str
    requests: int
    wall: float
    cpu: float

    @property
    def cpu_per_request(self) -> float:
        return self.cpu / self.requests


def serve_simulator(jobs: int, latency_ms: float, pipe: Connection) -> None:
    """Child process: run the simulator with `jobs` running jobs until told to stop."""
    from jobdash.simulator import Simulator, SimulatorConfig

    config = SimulatorConfig(manual_clock=True, seed=0, latency_ms=latency_ms, fail_rate=0.0)
    with Simulator(config) as sim:
        # Long sub-jobs; a little simulated time so they are RUNNING with sub-jobs listed.
        job_ids = [
            sim.create_servers(2, name=f"bench{i}", duration=(1e6, 2e6)) for i in range(jobs)
        ]
        sim.advance(30)
        creds = sim.credentials
        pipe.send(SimInfo(sim.url, sim.project_id, creds.access_key, creds.secret_key, job_ids))
        pipe.recv()  # any message means stop
        pipe.send(sim.stats())


def aksk_auth(info: SimInfo) -> httpx.Auth:
    from jobdash.auth.methods import AkSkAuth

    return AkSkAuth(info.access_key, info.secret_key, info.project_id)


async def measure_jobdash(
    info: SimInfo, in_flight: int, rps: float, per_shard: int | None
) -> Measurement:
    """One refresh of every job; `per_shard=None` uses httpx's single connection pool."""
    if per_shard is None:
        limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
        pool = f"one pool of {in_flight}"
        transport: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport(limits=limits)
    else:
        transport = ShardedTransport.http(in_flight, per_shard=per_shard)
        pool = f"pools of {per_shard}"
    async with httpx.AsyncClient(auth=aksk_auth(info), transport=transport) as http:
        client = JobsClient(http, info.url, info.project_id)
        keys = [WatchKey(info.url, info.project_id, job_id) for job_id in info.job_ids]

        def client_for(key: WatchKey) -> JobsClient:
            return client

        # Warm-up opens the connections the run will use (the SDK's one, ours `in_flight`).
        warm = Poller(client_for, max_in_flight=in_flight, max_rps=rps)
        check(await warm.refresh_all_once(keys[: max(WARM_UP, in_flight)]), "jobdash warm-up")
        await warm.aclose()

        poller = Poller(client_for, max_in_flight=in_flight, max_rps=rps)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        updates = await poller.refresh_all_once(keys)
        wall1, cpu1 = time.perf_counter(), time.process_time()
        await poller.aclose()
    check(updates, "jobdash")
    name = f"jobdash {in_flight} in flight, {pool}"
    return Measurement(name, len(keys), wall1 - wall0, cpu1 - cpu0)


def check(updates: list[Any], what: str) -> None:
    failed = [u for u in updates if u.job is None or u.job.status != "RUNNING"]
    if failed:
        sample = failed[0].error or failed[0].job
        raise SystemExit(f"{what}: {len(failed)} of {len(updates)} fetches failed, e.g. {sample!r}")


def measure_sdk(info: SimInfo) -> Measurement:
    try:
        from huaweicloudsdkcore.auth.credentials import BasicCredentials
        from huaweicloudsdkecs.v2 import EcsClient, ShowJobRequest
    except ImportError:
        raise SystemExit("the SDK side needs the bench extra: pip install -e '.[bench]'") from None

    # An endpoint that starts with "http" is used as given: no region lookup, no https.
    client = (
        EcsClient.new_builder()
        .with_credentials(BasicCredentials(info.access_key, info.secret_key, info.project_id))
        .with_endpoint(info.url)
        .build()
    )

    def fetch(job_id: str) -> None:
        response = client.show_job(ShowJobRequest(job_id=job_id))
        if response.status != "RUNNING":
            raise SystemExit(f"SDK: job {job_id} answered status {response.status!r}")

    for job_id in info.job_ids[:WARM_UP]:
        fetch(job_id)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for job_id in info.job_ids:
        fetch(job_id)
    wall1, cpu1 = time.perf_counter(), time.process_time()
    return Measurement("SDK (sequential show_job)", len(info.job_ids), wall1 - wall0, cpu1 - cpu0)


def median_of(runs: list[Measurement]) -> Measurement:
    by_wall = sorted(runs, key=lambda m: m.wall)
    middle = by_wall[len(by_wall) // 2]
    cpu = statistics.median(m.cpu for m in runs)
    return Measurement(middle.name, middle.requests, middle.wall, cpu)


def repeat(rounds: int, measure: Callable[[], Measurement]) -> Measurement:
    """Median of `rounds` runs after one discarded run (both sides settle in it)."""
    measure()
    return median_of([measure() for _ in range(rounds)])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=500, help="running jobs to refresh (500)")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="added per response (20)")
    parser.add_argument("--in-flight", type=int, default=64, help="jobdash max_in_flight (64)")
    parser.add_argument(
        "--per-shard", type=int, default=4, help="connections per pool in ShardedTransport (4)"
    )
    parser.add_argument("--rps", type=float, default=100000.0, help="jobdash max_rps (100000)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each; medians shown (3)")
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="also time jobdash at 8, 16, 32 and 64 in flight, with and without shards",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(
        target=serve_simulator, args=(args.jobs, args.latency_ms, theirs), daemon=True
    )
    child.start()
    try:
        info: SimInfo = ours.recv()
        print(
            f"simulator: {args.jobs} running jobs (2 sub-jobs each), +{args.latency_ms:g} ms "
            f"per response, in a separate process at {info.url}"
        )
        print(
            f"jobdash: Poller.refresh_all_once, max_in_flight={args.in_flight}, "
            f"max_rps={args.rps:g}, one httpx.AsyncClient over ShardedTransport "
            f"(pools of {args.per_shard} connections); both sides sign with AK/SK; "
            f"warm connections on both sides; one discarded round, then the median of "
            f"{args.rounds}"
        )
        ours_m = repeat(
            args.rounds,
            lambda: asyncio.run(measure_jobdash(info, args.in_flight, args.rps, args.per_shard)),
        )
        sdk_m = repeat(args.rounds, lambda: measure_sdk(info))
        sweep = []
        if args.sweep:
            for in_flight in (8, 16, 32, 64):
                for per_shard in (None, args.per_shard):

                    def measure(n: int = in_flight, shard: int | None = per_shard) -> Measurement:
                        return asyncio.run(measure_jobdash(info, n, args.rps, shard))

                    sweep.append(repeat(args.rounds, measure))
        ours.send("stop")
        stats = ours.recv()
    finally:
        with contextlib.suppress(OSError):
            ours.send("stop")
        child.join(timeout=10)
        if child.is_alive():
            child.terminate()

    print()
    print(f"{'':40}{'wall s':>9}{'req/s':>9}{'CPU s':>9}{'CPU ms/req':>12}")
    for m in (ours_m, sdk_m, *sweep):
        print(
            f"{m.name:40}{m.wall:9.3f}{m.requests / m.wall:9.0f}{m.cpu:9.3f}"
            f"{m.cpu_per_request * 1000:12.3f}"
        )
    print()
    print(f"wall time: jobdash is {sdk_m.wall / ours_m.wall:.1f}x faster")
    print(
        f"CPU per request: jobdash uses {ours_m.cpu_per_request / sdk_m.cpu_per_request:.2f}x "
        f"the SDK's ({sdk_m.cpu_per_request / ours_m.cpu_per_request:.1f}x less)"
    )
    codes = stats.get("by_status", {})
    print(
        f"simulator answered: {dict(sorted(codes.items()))}, max connections open: "
        f"{stats.get('connections_max')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
