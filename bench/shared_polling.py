"""One poller per watchlist, measured on whole processes the way users run them.

    python bench/shared_polling.py [--python .venv/bin/python] [--seconds 300] [--jobs 200]
                                   [--terminals 4] [--tabs 5] [--json]

The cloud is `jobdash simulate` in its own process (frozen clock, moved by this script);
dashboards are `jobdash ui` in tmux panes, browser tabs are websockets to `jobdash serve`,
each tab a dashboard process of its own. Every process has the same XDG tree, so one
watchlist database. Figures:

- requests: the job GETs the simulator answered in `--seconds` with one dashboard, and
  again (new simulator, new watchlist, same jobs) with one dashboard plus `--terminals`
  more and `--tabs` browser tabs; the second over the first;
- handover: `kill -9` of the process that polls (found in the lease), until another holds
  the lease; then `SIGSTOP` of the new one (a frozen laptop lid) until a third holds it,
  and `SIGCONT`: the frozen one must follow, not poll. Entries and snapshots are counted
  in the database before and after, and a follower's screen must show jobs ending after
  the handovers;
- a follower's CPU per update: one poller and one follower on `--update-jobs` x
  `--update-sub-jobs`, every answer changing (sub-jobs end all through the window); the
  follower's CPU time (from /proc) over the window, less its idle share, per job GET.

With `--python` (a venv of an older jobdash) only the requests figure is taken, for the
"before" column: there, every process polls by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from whole_process import (
    Sim,
    Terminal,
    alive,
    cpu_seconds,
    end_group,
    isolated_env,
    jobdash_command,
    note,
    per,
    simulator,
)

SIZE = (160, 45)
#: Simulated seconds per real second in the request window: jobs age, as real ones do.
PACE = 1.0
URL = re.compile(r"http://\S+/\?token=(\S+)")
#: Seconds after the first dashboard starts, beyond `--settle`, when the request window
#: opens: time for the other screens to start (and to be following) in every run.
WINDOW_AFTER_FIRST = 20.0


def database(home: Path) -> Path:
    return home / "state" / "jobdash" / "watchlist.sqlite3"


def read_db(home: Path, sql: str) -> list[tuple[Any, ...]]:
    """A read of the watchlist database, as any other reader would (never a write)."""
    with contextlib.closing(sqlite3.connect(f"file:{database(home)}?mode=ro", uri=True)) as db:
        db.execute("PRAGMA busy_timeout = 5000")
        try:
            return db.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []  # an older schema: no lease table


def lease_pid(home: Path) -> int | None:
    rows = read_db(home, "SELECT pid, expires_at FROM poll_lease")
    if not rows or rows[0][1] < time.time():
        return None
    return int(rows[0][0])


def counts(home: Path) -> tuple[int, int]:
    entries = read_db(home, "SELECT count(*) FROM entries")[0][0]
    snapshots = read_db(home, "SELECT count(*) FROM snapshots WHERE raw_json IS NOT NULL")[0][0]
    return int(entries), int(snapshots)


class Tabs:
    """`count` browser tabs on a `jobdash serve`: websockets kept open and read, as a page
    does, in a thread with its own loop."""

    def __init__(self, url: str, count: int) -> None:
        self.url, self.count = url, count
        self.opened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> Tabs:
        self._thread.start()
        deadline = time.monotonic() + 60
        while self.opened < self.count and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.opened < self.count:
            raise SystemExit(f"only {self.opened} of {self.count} tabs opened")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    async def _main(self) -> None:
        import aiohttp

        base, token = self.url.split("/?token=")
        ws_url = base.replace("http://", "ws://") + f"/ws?token={token}&width=160&height=45"
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(self._tab(http, ws_url, n) for n in range(self.count)))

    async def _tab(self, http: Any, ws_url: str, n: int) -> None:
        await asyncio.sleep(n * 0.5)  # one after another, as people open them
        async with http.ws_connect(ws_url, max_msg_size=0) as ws:
            self.opened += 1
            while not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    message = await ws.receive(timeout=0.5)
                    if message.type.name in ("CLOSE", "CLOSED", "ERROR"):
                        return


@contextlib.contextmanager
def served(jobdash: str, env: dict[str, str], tabs: int) -> Iterator[str]:
    """`jobdash serve` on a free port; yields its URL."""
    usage = subprocess.run([jobdash, "serve", "--help"], capture_output=True, text=True).stdout
    # An older jobdash has no cap on tabs.
    cap = ["--max-tabs", str(tabs)] if "--max-tabs" in usage else []
    process = subprocess.Popen(
        [jobdash, "serve", "--port", "0", *cap],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline and process.stdout is not None:
            line = process.stdout.readline()
            text += line
            found = URL.search(text)
            if found:
                yield found.group(0)
                break
        else:
            raise SystemExit(f"jobdash serve did not start: {text}")
    finally:
        end_group(process)


def start_terminal(
    home: Path, name: str, jobdash: str, env: dict[str, str], *, shell: bool = False
) -> Terminal:
    """`jobdash ui` in a tmux pane; with `shell`, as a child of the pane's shell rather
    than the pane's own process: tmux continues a stopped pane process at once, so a
    frozen dashboard (SIGSTOP) has to be one level down."""
    term = Terminal(home / f"{name}.sock", SIZE)
    argv = [jobdash, "ui"]
    term.start(["sh", "-c", f"{shlex.join(argv)}; sleep 600"] if shell else argv, env)
    return term


def watchlist_env(home: Path, sim: Sim) -> dict[str, str]:
    return isolated_env(
        home,
        OS_AUTH_TOKEN=sim.token,
        JOBDASH_ENDPOINT=sim.url,
        OS_PROJECT_ID=sim.project_id,
        OS_REGION_NAME="eu-de",
    )


def add_jobs(jobdash: str, ids: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        [jobdash, "add", "--any-id", *ids],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    if result.returncode != 0:
        raise SystemExit(f"jobdash add failed: {result.stderr[-2000:]}")


def run_window(sim: Sim, seconds: float) -> int:
    """Move the simulator's clock at PACE for `seconds`; the job GETs answered meanwhile."""
    gets0, wall0 = sim.job_gets(), time.perf_counter()
    for step in range(1, int(seconds) + 1):
        sim.advance(PACE)
        time.sleep(max(0.0, wall0 + step - time.perf_counter()))
    return sim.job_gets() - gets0


def measure_requests(
    args: argparse.Namespace, jobdash: str, *, terminals: int, tabs: int, seconds: float
) -> dict[str, Any]:
    """Job GETs in `seconds` with one dashboard plus `terminals` more and `tabs` tabs."""
    duration = (1e6, 2e6)  # running for the whole window
    with (
        simulator(sys.executable, fail_rate=0.0) as sim,
        tempfile.TemporaryDirectory(prefix="jobdash-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        home = Path(tmp)
        env = watchlist_env(home, sim)
        add_jobs(jobdash, sim.create_jobs(args.jobs, args.sub_jobs, duration), env)
        first = start_terminal(home, "first", jobdash, env)
        first_started = time.perf_counter()
        stack.callback(first.close)
        time.sleep(2.0)
        others = []
        for n in range(terminals):
            term = start_terminal(home, f"term{n}", jobdash, env)
            stack.callback(term.close)
            others.append(term)
        if tabs:
            url = stack.enter_context(served(jobdash, env, tabs))
            stack.enter_context(Tabs(url, tabs))
        # The window opens at the same moment after the first dashboard started in every
        # run: the poller stretches its pace as jobs age, so the moment matters.
        opens = first_started + args.settle + WINDOW_AFTER_FIRST
        if time.perf_counter() > opens:
            raise SystemExit("starting the screens took longer than the window allows for")
        time.sleep(opens - time.perf_counter())
        note(f"{1 + terminals} terminals and {tabs} tabs: counting requests for {seconds:g} s")
        gets = run_window(sim, seconds)
        return {
            "job_gets": gets,
            "per_second": gets / seconds,
            "poller_pid": lease_pid(home),
            "dashboards_alive": sum(alive(t.pid) for t in [first, *others]),
        }


def measure_handover(args: argparse.Namespace, jobdash: str) -> dict[str, Any]:
    """kill -9, then SIGSTOP, of whoever polls; how long until another does."""
    figures: dict[str, Any] = {}
    # Jobs end a minute or two (simulated) after the handovers: followers must show it.
    duration = (120.0, 240.0)
    with (
        simulator(sys.executable, fail_rate=0.0) as sim,
        tempfile.TemporaryDirectory(prefix="jobdash-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        home = Path(tmp)
        env = watchlist_env(home, sim)
        add_jobs(jobdash, sim.create_jobs(args.jobs, args.sub_jobs, duration), env)
        terms = []
        for n in range(3):
            term = start_terminal(home, f"h{n}", jobdash, env, shell=True)
            stack.callback(term.close)
            terms.append(term)
            time.sleep(1.0)
        time.sleep(args.settle)
        before = counts(home)
        figures["entries_snapshots_before"] = before

        def takeover(gone: int, what: str) -> tuple[float, int]:
            started = time.perf_counter()
            while time.perf_counter() - started < 60:
                pid = lease_pid(home)
                if pid is not None and pid != gone:
                    return time.perf_counter() - started, pid
                time.sleep(0.02)
            logs = "".join(path.read_text()[-3000:] for path in (home / "state").rglob("*.log"))
            lease = read_db(home, "SELECT * FROM poll_lease")
            raise SystemExit(
                f"nobody took the lease within 60 s after {what}; lease {lease}, "
                f"now {time.time():.1f}; logs:\n{logs}"
            )

        poller = lease_pid(home)
        if poller is None:
            raise SystemExit("nobody holds the lease")
        note(f"kill -9 of the poller ({poller})")
        subprocess.run(["kill", "-9", str(poller)], check=True)
        figures["kill9_takeover_s"], second = takeover(poller, "kill -9")
        note(f"SIGSTOP of the new poller ({second})")
        subprocess.run(["kill", "-STOP", str(second)], check=True)
        figures["sigstop_takeover_s"], third = takeover(second, "SIGSTOP")
        gets0 = sim.job_gets()
        subprocess.run(["kill", "-CONT", str(second)], check=True)
        time.sleep(3.0)
        figures["poller_after_sigcont"] = lease_pid(home)
        figures["frozen_one_follows"] = lease_pid(home) == third
        # The jobs end now; a follower's screen must show them ended.
        follower = next(t for t in terms if "following" in t.screen())
        sim.advance(600)
        deadline = time.perf_counter() + 60
        ended = False
        while time.perf_counter() < deadline and not ended:
            screen = follower.screen()
            ended = f"✓{args.jobs}" in screen.replace(" ", "") or f"✓ {args.jobs}" in screen
            time.sleep(0.2)
        figures["follower_shows_jobs_ending"] = ended
        figures["gets_after_handover"] = sim.job_gets() - gets0
        figures["entries_snapshots_after"] = counts(home)
        figures["lost"] = [
            b - a for a, b in zip(figures["entries_snapshots_after"], before, strict=True)
        ]
    return figures


def measure_follower_cpu(args: argparse.Namespace, jobdash: str) -> dict[str, Any]:
    """CPU per update of a dashboard that follows, against the one that polls."""
    jobs, subs, seconds = args.update_jobs, args.update_sub_jobs, args.update_seconds
    running_for = 3 * 3600.0
    duration = (running_for + 40.0, running_for + 40.0 + 3.0 * seconds + 20)
    figures: dict[str, Any] = {}
    with (
        simulator(sys.executable, fail_rate=0.0) as sim,
        tempfile.TemporaryDirectory(prefix="jobdash-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        home = Path(tmp)
        env = watchlist_env(home, sim)
        add_jobs(jobdash, sim.create_jobs(jobs, subs, duration), env)
        sim.advance(running_for)
        poller = start_terminal(home, "poller", jobdash, env)
        stack.callback(poller.close)
        time.sleep(3.0)
        follower = start_terminal(home, "follower", jobdash, env)
        stack.callback(follower.close)
        deadline = time.perf_counter() + args.timeout
        while sim.job_gets() < jobs and time.perf_counter() < deadline:
            time.sleep(0.1)
        if lease_pid(home) != poller.pid:
            raise SystemExit("the first dashboard does not hold the lease")
        note(f"idle: {args.idle_seconds:g} s after {args.idle_settle:g} s")
        time.sleep(args.idle_settle)
        cpu = {t: cpu_seconds(t.pid) for t in (poller, follower)}
        wall0 = time.perf_counter()
        time.sleep(args.idle_seconds)
        idle_wall = time.perf_counter() - wall0
        idle = {t: (cpu_seconds(t.pid) - cpu[t]) / idle_wall for t in (poller, follower)}
        note(f"progress: {seconds} s")
        cpu = {t: cpu_seconds(t.pid) for t in (poller, follower)}
        gets0, wall0 = sim.job_gets(), time.perf_counter()
        for step in range(1, seconds + 1):
            sim.advance(3.0)
            time.sleep(max(0.0, wall0 + step - time.perf_counter()))
        wall = time.perf_counter() - wall0
        gets = sim.job_gets() - gets0
        time.sleep(2.0)  # the follower reads the last of them
        for name, term in (("poller", poller), ("follower", follower)):
            used = cpu_seconds(term.pid) - cpu[term]
            figures[f"{name}_idle_core_share"] = idle[term]
            figures[f"{name}_cpu_per_update_ms"] = per(used, gets) * 1000
            figures[f"{name}_cpu_per_update_net_ms"] = (
                per(used - idle[term] * (wall + 2.0), gets) * 1000
            )
        figures["updates"] = gets
    return figures


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--python", help="the Python of the jobdash to measure")
    where.add_argument("--jobdash", help="the jobdash executable to measure")
    parser.add_argument("--jobs", type=int, default=200, help="running jobs watched (200)")
    parser.add_argument("--sub-jobs", type=int, default=5, help="sub-jobs of each (5)")
    parser.add_argument("--seconds", type=float, default=300.0, help="request window, s (300)")
    parser.add_argument("--terminals", type=int, default=4, help="dashboards beside the first")
    parser.add_argument("--tabs", type=int, default=5, help="browser tabs of jobdash serve (5)")
    parser.add_argument("--settle", type=float, default=10.0, help="before each window, s (10)")
    parser.add_argument("--update-jobs", type=int, default=100, help="follower CPU: jobs (100)")
    parser.add_argument("--update-sub-jobs", type=int, default=500, help="and sub-jobs (500)")
    parser.add_argument(
        "--update-seconds",
        type=int,
        default=60,
        help="its window, s (60: each job comes back to the fast pace once its answer changes)",
    )
    parser.add_argument("--idle-seconds", type=float, default=30.0, help="idle window, s (30)")
    parser.add_argument("--idle-settle", type=float, default=40.0, help="before it, s (40)")
    parser.add_argument("--timeout", type=float, default=120.0, help="for any one wait, s")
    parser.add_argument("--only", choices=("requests", "handover", "cpu"), action="append")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    jobdash = jobdash_command(args)
    only = set(args.only or ("requests", "handover", "cpu"))
    if args.python:
        only &= {"requests"}  # an older jobdash has no lease to hand over
    figures: dict[str, Any] = {"jobdash": jobdash, "jobs": args.jobs, "seconds": args.seconds}
    if "requests" in only:
        one = measure_requests(args, jobdash, terminals=0, tabs=0, seconds=args.seconds)
        many = measure_requests(
            args, jobdash, terminals=args.terminals, tabs=args.tabs, seconds=args.seconds
        )
        figures["requests_one"] = one
        figures["requests_many"] = many
        figures["requests_ratio"] = per(many["job_gets"], one["job_gets"])
    if "handover" in only:
        figures["handover"] = measure_handover(args, jobdash)
    if "cpu" in only:
        figures["follower"] = measure_follower_cpu(args, jobdash)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
