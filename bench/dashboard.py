"""How much one update costs the dashboard, at sizes operators reach.

In-process (`App.run_test`, 160x50, a frozen clock, a poller that never fetches); updates
are handed to the app the way the poller hands them over. Prints, per scenario:

- first frame: from building the app (the watchlist is read from a real SQLite file) to
  the first screen drawn, with the modules already imported; it is checked to show every
  job with its real progress (sub-jobs are parsed when first read, but the counts the
  rows show are read when the watchlist loads, before the first paint);
- one update applied and drawn: the event loop's CPU time from handing it over until the
  app is idle again (median and p95 over many updates), and the wall time of the same
  span (which includes the idle wait of the test harness);
- event loop busy: the process's CPU time over wall time while updates arrive at a
  steady rate (the app is single-threaded, so this is the loop's busy share);
- RSS: the process's peak resident memory;
- whole process: `jobdash --offline` in a real terminal (tmux) on a watchlist of cached
  jobs, until its first frame shows.

Run: `python bench/dashboard.py` (all scenarios) or `--quick` for a small smoke run.

These figures are the app's own. `bench/whole_process.py` measures the whole `jobdash ui`
process in a terminal against `jobdash simulate` (CPU per update from /proc, idle share,
warm start, peak RSS) and the whole `jobdash status` process; docs/benchmarks.md has both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jobdash.api.model import parse_job
from jobdash.store.core import Store
from jobdash.watch.values import PollUpdate, WatchEntry, WatchKey

FROZEN = datetime(2026, 3, 2, 9, 45, 0, tzinfo=UTC)
ENDPOINT = "https://ecs.eu-de.otc.t-systems.com"
PROJECT = "5d3a6f1c2b8e4e0f9a7b6c5d4e3f2a1b"
SIZE = (160, 50)


def api_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def job_id(index: int) -> str:
    return f"ff8080818f{index:022x}"


def job_body(index: int, subs: int, done: set[int] | frozenset[int] = frozenset()) -> dict:
    """A running batch of `subs` server creations; the sub-jobs in `done` have succeeded."""
    begin = api_time(FROZEN - timedelta(minutes=5))
    end = api_time(FROZEN - timedelta(seconds=5))
    own = job_id(index)
    sub_jobs = [
        {
            "status": "SUCCESS" if n in done else "RUNNING",
            "entities": {"server_id": f"{n:08x}-5e4f-4a3b-9c2d-{index:012x}"},
            "job_id": f"{own[:20]}{n:012x}",
            "job_type": "createSingleServer",
            "begin_time": begin,
            "end_time": end if n in done else "",
        }
        for n in range(subs)
    ]
    entities: dict[str, Any] = {"sub_jobs_total": subs, "sub_jobs": sub_jobs}
    if subs == 1:
        entities = {"server_id": sub_jobs[0]["entities"]["server_id"]}
    return {
        "status": "RUNNING",
        "entities": entities,
        "job_id": own,
        "job_type": "createServer",
        "begin_time": begin,
        "end_time": "",
    }


#: Jobs are spread over this many connections (clouds, each its own project); more than
#: one puts them under connection rows. Set from `--connections`.
CONNECTIONS = 1


def fill(path: Path, jobs: int, subs: int) -> list[WatchKey]:
    projects = [PROJECT[:-2] + f"{n:02x}" for n in range(CONNECTIONS)]
    keys = [WatchKey(ENDPOINT, projects[i % CONNECTIONS], job_id(i)) for i in range(jobs)]
    with Store(path) as store:
        store.add(
            WatchEntry(
                key, f"batch {i}", profile=f"cloud{i % CONNECTIONS}" if CONNECTIONS > 1 else None
            )
            for i, key in enumerate(keys)
        )
        for i, key in enumerate(keys):
            store.record(PollUpdate(key, FROZEN, job=parse_job(job_body(i, subs))))
    return keys


def build_app(store: Store) -> Any:
    """The dashboard on `store`, with a frozen clock and a poller that never fetches."""
    from jobdash.tui.app import JobDashApp
    from jobdash.tui.context import DashboardContext
    from jobdash.tui.still import StillPoller

    context = DashboardContext(
        store=store,
        poller_factory=lambda _on_update: StillPoller(),
        connection_description="bench",
        clock=lambda: FROZEN,
        endpoint=ENDPOINT,
        project_id=PROJECT,
        notify_finished=False,
        bell_on_fail=False,
    )
    return JobDashApp(context)


def hand_over(app: Any) -> Callable[[PollUpdate], None]:
    """What the poller calls with each update."""
    return app.poll_update_sink


def check_first_frame(app: Any, keys: list[WatchKey], subs: int) -> None:
    """The frame measured is the real one: every job's row is there with its real progress
    (nothing is filled in after the first paint)."""
    tree = app.dashboard.job_tree
    for key in keys:
        node = tree.job_node(key)
        if node is None:
            raise SystemExit(f"the first frame has no row for job {key.job_id}")
        if subs > 1 and f"0/{subs}" not in node.label.plain:
            raise SystemExit(f"the first frame shows {node.label.plain!r} for a 0/{subs} job")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class UpdateFigures:
    first_frame: float
    median: float
    p95: float
    wall_median: float
    #: The harness's own wait for idle, with no update: part of every wall figure.
    idle_wait: float


async def measure_updates(
    jobs: int, subs: int, updates: int, changed_share: float
) -> UpdateFigures:
    """First frame, then `updates` updates that each change `changed_share` of one job's
    sub-jobs (the same job, like a batch coming up), each awaited until drawn."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "watchlist.sqlite3"
        keys = fill(path, jobs, subs)
        import jobdash.tui.app  # noqa: F401  (imports are the whole-process figure's business)

        with Store(path) as store:
            started = time.perf_counter()
            app = build_app(store)
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                first_frame = time.perf_counter() - started
                check_first_frame(app, keys, subs)
                sink = hand_over(app)
                target = keys[0]
                step = max(1, int(subs * changed_share))
                durations = []
                walls = []
                done: set[int] = set()
                bodies = []
                for n in range(updates):
                    done = done | {(n * step + k) % subs for k in range(step)}
                    bodies.append(parse_job(job_body(0, subs, done)))
                for n, job in enumerate(bodies):
                    fetched = FROZEN + timedelta(seconds=n + 1)
                    update = PollUpdate(target, fetched, job=job, changed=True)
                    begin, begin_cpu = time.perf_counter(), time.thread_time()
                    sink(update)
                    await pilot.pause()
                    durations.append(time.thread_time() - begin_cpu)
                    walls.append(time.perf_counter() - begin)
                idle_waits = []
                for _ in range(20):  # what waiting for idle costs with nothing to do
                    begin = time.perf_counter()
                    await pilot.pause()
                    idle_waits.append(time.perf_counter() - begin)
                await pilot.press("q")
    return UpdateFigures(
        first_frame,
        statistics.median(durations),
        percentile(durations, 0.95),
        statistics.median(walls),
        statistics.median(idle_waits),
    )


async def measure_busy(jobs: int, rate: float, seconds: float) -> float:
    """Share of wall time the process spends on the CPU while `rate` updates/s arrive."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "watchlist.sqlite3"
        keys = fill(path, jobs, 1)
        with Store(path) as store:
            app = build_app(store)
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                sink = hand_over(app)
                bodies = [parse_job(job_body(i, 1)) for i in range(jobs)]
                count = int(rate * seconds)
                wall = time.perf_counter()
                cpu = time.process_time()
                for n in range(count):
                    index = n % jobs
                    fetched = FROZEN + timedelta(seconds=n + 1)
                    sink(PollUpdate(keys[index], fetched, job=bodies[index], changed=False))
                    await asyncio.sleep(1 / rate)
                await pilot.pause()
                busy = (time.process_time() - cpu) / (time.perf_counter() - wall)
                await pilot.press("q")
    return busy


def measure_process(jobs: int, timeout: float = 30.0) -> float | None:
    """`jobdash --offline` on `jobs` cached jobs in tmux: seconds until the header shows."""
    if shutil.which("tmux") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        state = home / "state"
        fill(state / "jobdash" / "watchlist.sqlite3", jobs, 1)
        socket = home / "tmux.sock"
        jobdash = Path(sys.executable).with_name("jobdash")
        env = {
            **os.environ,
            "XDG_STATE_HOME": str(state),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "TERM": "xterm-256color",
        }
        tmux = ["tmux", "-S", str(socket)]
        started = time.perf_counter()
        subprocess.run(
            [*tmux, "new-session", "-d", "-x", "160", "-y", "50", f"{jobdash} --offline"],
            env=env,
            check=True,
        )
        try:
            while time.perf_counter() - started < timeout:
                screen = subprocess.run(
                    [*tmux, "capture-pane", "-p"], capture_output=True, text=True, env=env
                ).stdout
                if f"Jobs ({jobs})" in screen and "batch 0" in screen:
                    return time.perf_counter() - started
                time.sleep(0.02)
            return None
        finally:
            subprocess.run([*tmux, "kill-server"], capture_output=True, env=env)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_isolated(argv: list[str]) -> dict[str, Any]:
    """One scenario in a fresh interpreter, so peak memory belongs to it alone."""
    out = subprocess.run(
        [sys.executable, __file__, *argv, "--json"], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def scenario(args: argparse.Namespace) -> dict[str, Any]:
    global CONNECTIONS
    CONNECTIONS = args.connections
    if args.scenario == "updates":
        figures = asyncio.run(measure_updates(args.jobs, args.subs, args.updates, 0.1))
        return {
            "first_frame_s": figures.first_frame,
            "update_median_ms": figures.median * 1000,
            "update_p95_ms": figures.p95 * 1000,
            "update_wall_median_ms": figures.wall_median * 1000,
            "idle_wait_ms": figures.idle_wait * 1000,
            "rss_mb": rss_mb(),
        }
    busy = asyncio.run(measure_busy(args.jobs, args.rate, args.seconds))
    return {"busy": busy, "rss_mb": rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--scenario", choices=["updates", "busy"], help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=100, help=argparse.SUPPRESS)
    parser.add_argument("--subs", type=int, default=500, help=argparse.SUPPRESS)
    parser.add_argument("--updates", type=int, default=40, help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, default=10.0, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=5.0, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--connections", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scenario:
        print(json.dumps(scenario(args)))
        return
    if args.quick:
        sizes = [(5, 20)]
        busy_jobs, seconds, process_jobs, updates = 20, 1.0, 20, 5
    else:
        sizes = [(100, 500), (10, 500), (1000, 1)]
        busy_jobs, seconds, process_jobs, updates = 1000, 5.0, 1000, 40
    print(f"dashboard benchmark, {SIZE[0]}x{SIZE[1]}, in-process unless noted")
    for jobs, subs in sizes:
        result = run_isolated(
            [
                "--scenario",
                "updates",
                "--jobs",
                str(jobs),
                "--subs",
                str(subs),
                "--updates",
                str(updates),
            ]
        )
        print(
            f"{jobs} jobs x {subs} sub-jobs: first frame {result['first_frame_s']:.2f} s; "
            f"one update applied and drawn: median {result['update_median_ms']:.1f} ms, "
            f"p95 {result['update_p95_ms']:.1f} ms (wall median "
            f"{result['update_wall_median_ms']:.0f} ms, of which the harness's idle wait "
            f"{result.get('idle_wait_ms', float('nan')):.0f} ms); RSS {result['rss_mb']:.0f} MB"
        )
    for connections in (1, 4):
        result = run_isolated(
            [
                *("--scenario", "busy", "--jobs", str(busy_jobs), "--rate", "10"),
                *("--seconds", str(seconds), "--connections", str(connections)),
            ]
        )
        where = "one connection" if connections == 1 else f"{connections} connections (grouped)"
        print(
            f"{busy_jobs} single jobs in {where}, 10 updates/s: event loop busy "
            f"{result['busy'] * 100:.0f}%"
        )
    whole = measure_process(process_jobs)
    if whole is None:
        print(f"whole process, {process_jobs} cached jobs: not measured (no tmux)")
    else:
        print(
            f"whole process, `jobdash --offline` on {process_jobs} cached jobs: first frame "
            f"{whole:.2f} s"
        )


if __name__ == "__main__":
    main()
