"""Benchmark: jobdash's poller against the vendor SDK, and what the default config gets.

    python bench/poll.py [--jobs 500] [--latency-ms 20] [--in-flight 64] [--rps 100000]
    python bench/poll.py --status --limited --long     # the scenarios below as well

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

jobdash sends the job GETs through its own HTTP/1.1 transport (`jobdash/api/http1.py`,
keep-alive connections on asyncio streams, h11 parsing), as the product does; `--sweep`
also times httpx's default transport and client at each number in flight.

With the default config (no config.toml), as a user gets it (`bench/poll_scenarios.py`):
`--status` times the whole `jobdash status ID...` process against the SDK loop;
`--limited` watches running jobs behind a server that allows `--limit` requests per
second (429, then 202 flow control); `--long` counts requests per job for jobs that run
`--long-minutes`, against a poller that asks every 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
from poll_sim import (
    WARM_UP,
    Measurement,
    SimInfo,
    SimSpec,
    aksk_auth,
    measure_sdk,
    simulator_process,
)

from jobdash.api.client import JobsClient
from jobdash.api.http1 import Http1Transport
from jobdash.poll.poller import Poller
from jobdash.watch.values import WatchKey


async def measure_jobdash(info: SimInfo, in_flight: int, rps: float, lean: bool) -> Measurement:
    """One refresh of every job: over jobdash's own HTTP/1.1 transport (`lean`, what the
    product uses), or over httpx's default transport and client (for comparison)."""
    transport: httpx.AsyncBaseTransport
    if lean:
        transport = Http1Transport(in_flight)
        pool = "jobdash's transport"
    else:
        limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
        transport = httpx.AsyncHTTPTransport(limits=limits)
        pool = "httpx's transport"
    async with httpx.AsyncClient(auth=aksk_auth(info), transport=transport) as http:
        client = JobsClient(http, info.url, info.project_id, transport=transport if lean else None)
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
    parser.add_argument("--rps", type=float, default=100000.0, help="jobdash max_rps (100000)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each; medians shown (3)")
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="also time jobdash at 8, 16, 32 and 64 in flight, over its transport and httpx's",
    )
    scenarios = parser.add_argument_group("scenarios with the default config")
    scenarios.add_argument("--status", action="store_true", help="the `jobdash status` process")
    scenarios.add_argument("--status-jobs", type=int, default=300, help="its job ids (300)")
    scenarios.add_argument("--limited", action="store_true", help="a rate-limited server")
    scenarios.add_argument("--limit", type=float, default=25.0, help="its requests/s (25)")
    scenarios.add_argument("--limited-jobs", type=int, default=200, help="jobs watched (200)")
    scenarios.add_argument("--watch-seconds", type=float, default=60.0, help="how long (60)")
    scenarios.add_argument(
        "--settle-seconds", type=float, default=10.0, help="not counted at the start (10)"
    )
    scenarios.add_argument("--long", action="store_true", help="jobs that run for minutes")
    scenarios.add_argument("--long-jobs", type=int, default=20, help="how many (20)")
    scenarios.add_argument("--long-minutes", type=float, default=10.0, help="how long (10)")
    return parser.parse_args(argv)


def print_table(measurements: list[Measurement]) -> None:
    print(f"{'':40}{'wall s':>9}{'req/s':>9}{'CPU s':>9}{'CPU ms/req':>12}")
    for m in measurements:
        print(
            f"{m.name:40}{m.wall:9.3f}{m.requests / m.wall:9.0f}{m.cpu:9.3f}"
            f"{m.cpu_per_request * 1000:12.3f}"
        )


def run_refresh(args: argparse.Namespace) -> None:
    with simulator_process(SimSpec(args.jobs, args.latency_ms)) as sim:
        info = sim.info
        print(
            f"simulator: {args.jobs} running jobs (2 sub-jobs each), +{args.latency_ms:g} ms "
            f"per response, in a separate process at {info.url}"
        )
        print(
            f"jobdash: Poller.refresh_all_once, max_in_flight={args.in_flight}, "
            f"max_rps={args.rps:g}, over jobdash's HTTP/1.1 transport (jobdash/api/http1.py); "
            f"both sides sign with AK/SK; "
            f"warm connections on both sides; one discarded round, then the median of "
            f"{args.rounds}"
        )
        ours_m = repeat(
            args.rounds,
            lambda: asyncio.run(measure_jobdash(info, args.in_flight, args.rps, lean=True)),
        )
        sdk_m = repeat(args.rounds, lambda: measure_sdk(info))
        sweep = []
        if args.sweep:
            for in_flight in (8, 16, 32, 64):
                for lean in (True, False):

                    def measure(n: int = in_flight, lean: bool = lean) -> Measurement:
                        return asyncio.run(measure_jobdash(info, n, args.rps, lean))

                    sweep.append(repeat(args.rounds, measure))
        stats = sim.stats()

    print()
    print_table([ours_m, sdk_m, *sweep])
    print()
    print(f"wall time: jobdash is {sdk_m.wall / ours_m.wall:.1f}x faster")
    print(
        f"CPU per request: jobdash uses {ours_m.cpu_per_request / sdk_m.cpu_per_request:.2f}x "
        f"the SDK's ({sdk_m.cpu_per_request / ours_m.cpu_per_request:.1f}x less)"
    )
    print_answers(stats)


def print_answers(stats: dict[str, Any]) -> None:
    codes = stats.get("by_status", {})
    print(
        f"simulator answered: {dict(sorted(codes.items()))}, max connections open: "
        f"{stats.get('connections_max')}"
    )


def run_status(args: argparse.Namespace) -> None:
    from poll_scenarios import status_process

    print()
    print(
        f"== `jobdash status` with {args.status_jobs} job ids, default config, "
        f"+{args.latency_ms:g} ms per response, whole process (median of {args.rounds} "
        f"after one discarded) against the SDK loop (imports and connection not counted)"
    )
    with simulator_process(SimSpec(args.status_jobs, args.latency_ms)) as sim:
        ours = repeat(args.rounds, lambda: status_process(sim.info))
        sdk = repeat(args.rounds, lambda: measure_sdk(sim.info))
        stats = sim.stats()
    print(f"{'':40}{'wall s':>9}")
    for m in (ours, sdk):
        print(f"{m.name:40}{m.wall:9.3f}")
    print(f"status: jobdash status is {sdk.wall / ours.wall:.2f}x the SDK loop's speed")
    print_answers(stats)


def run_limited(args: argparse.Namespace) -> None:
    from poll_scenarios import limited_watch

    for answer in ("429", "202"):
        print()
        print(
            f"== a server allowing {args.limit:g} requests/s (token bucket, {answer} above "
            f"it), {args.limited_jobs} running jobs watched for {args.watch_seconds:g} s "
            f"with the default config, +{args.latency_ms:g} ms per response"
        )
        spec = SimSpec(args.limited_jobs, args.latency_ms, args.limit, answer)
        with simulator_process(spec) as sim:
            run = asyncio.run(
                limited_watch(sim, args.limit, args.watch_seconds, args.settle_seconds)
            )
        print(
            f"first {run.settle:g} s: {run.served_settling} served, "
            f"{run.limited_settling} throttled"
        )
        print(
            f"limited {answer}: after {run.settle:g} s: served {run.served_rate:.1f} req/s "
            f"= {run.served_rate / run.limit:.0%} of the limit; throttled "
            f"{run.limited} of {run.served + run.limited} = {run.limited_share:.1%}"
        )
        print(f"poller says: {run.shown}")


def run_long(args: argparse.Namespace) -> None:
    from poll_scenarios import long_jobs

    print()
    print(
        f"== {args.long_jobs} jobs that run {args.long_minutes:g} minutes, default config, "
        f"on simulated time, until each is seen finished"
    )
    ours, fixed = long_jobs(args.long_jobs, args.long_minutes)
    print(
        f"long jobs: {ours:.1f} requests per job; a fixed 3 s poller: {fixed:.1f} "
        f"(ratio {ours / fixed:.2f})"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    run_refresh(args)
    if args.status:
        run_status(args)
    if args.limited:
        run_limited(args)
    if args.long:
        run_long(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
