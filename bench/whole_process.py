"""The dashboard and `jobdash status` as whole processes, the way a user runs them.

    python bench/whole_process.py [--python .venv/bin/python] [--jobs 100] [--sub-jobs 500]
                                  [--seconds 20] [--mixed] [--json]

`jobdash ui` runs in a real terminal (a tmux pane of a fixed size, on its own socket and
without any tmux config) with its files in a temporary XDG tree; the cloud is `jobdash
simulate`, a separate process on loopback, run by this script's own Python so that every
jobdash under test meets the same simulator. The simulator's clock is frozen (`--speed 0`)
and moved only by this script (`POST /_sim/advance`), so what changes, and when, is the
same on every run. Figures, read from `/proc/<pid>/stat` (utime + stime) and
`/proc/<pid>/status` of the dashboard process:

- cold start: a fresh watchlist of `--jobs` ids given on the command line, from spawning
  the process until every job is on screen (see `every_job_shown`);
- idle: with every job RUNNING and nothing moving, the process's CPU time over wall time
  (share of one core) for `--seconds`, after `--settle` seconds; the poller keeps asking
  and gets unchanged answers, which are counted too;
- per update: the clock moves `PACE` simulated seconds every real second for `--seconds`;
  CPU time over that window divided by the job GETs the simulator answered in it (each
  job's body changes between two polls: its sub-jobs end all through the window);
- peak RSS: VmHWM of the dashboard process after the progress window;
- warm start: the dashboard quit with `q` and started again on the stored snapshots,
  spawn to every job on screen, median of `--warm-runs`;
- `json.loads` of one job body with `--sub-jobs` sub-jobs as the simulator sends it
  (stdlib, this script's Python, median of many), and CPU per update over it;
- `jobdash status ID`: one job, whole process in a pseudo-terminal, median of
  `--status-runs` (one discarded run first writes the bytecode cache);
- `jobdash status ID...` of `--status-jobs` running jobs, whole process in a
  pseudo-terminal, against the vendor SDK's sequential `show_job` loop in this process
  (`bench/poll_sim.py`; imports and connection not counted on its side), median of
  `--status-rounds` after one discarded. Both sign with AK/SK; this simulator adds
  `--latency-ms` to each answer.

With `--mixed`, the dashboard's watchlist holds the jobs of all twelve services instead of
ECS's alone: `--jobs` shared out among them (240 gives 20 each), each job of a service that
works in batches acting on `--sub-jobs` resources (a CCE node is two sub-jobs: the node and
its VM), each of the others on one resource, as their APIs do. They are added with `jobdash
add --service` before the dashboard starts, so the cold start opens a stored watchlist
whose jobs have not been fetched yet. The other figures are the same.

Child processes (simulators, tmux servers, the dashboard) are ended on any exit.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import select
import shlex
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Simulated seconds per real second while jobs progress.
PACE = 3.0
#: Simulated seconds the jobs have been running when the dashboard starts: hours, as in a
#: batch nobody has touched for a while (the poller then asks less often for unchanged
#: answers, as it does for any job that has run a long time).
RUNNING_FOR = 3 * 3600.0
#: Sub-jobs run at least this much longer (simulated seconds): the idle window sees none end.
MIN_RUN = RUNNING_FOR + 40.0
#: The services of `--mixed`: (jobdash's name, the simulator's, whether a job of it acts on
#: many resources at once). ECS's jobs are made through its own API.
SERVICES = (
    ("ecs", "ecs", True),
    ("bms", "bms", True),
    ("cbr", "cbr", False),
    ("cce", "cce", True),
    ("dcs", "dcs", False),
    ("dds", "dds", False),
    ("elb", "elb", True),
    ("evs", "evs", True),
    ("ims", "ims", True),
    ("rds", "rds", False),
    ("sfs-turbo", "sfs_turbo", False),
    ("vbs", "vbs", True),
)
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
#: Environment variables that would connect a child to someone's real cloud or files.
_PRIVATE_ENV = ("OS_", "JOBDASH_", "XDG_", "TMUX")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]|\x1b\][^\x07]*\x07")


# -- the dashboard process as the system sees it ------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (every thread), in seconds."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()  # from field 3 (state) on
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


# -- the simulator: `jobdash simulate` in its own process ----------------------------------


@dataclass
class Sim:
    process: subprocess.Popen[str]
    url: str
    project_id: str
    token: str
    access_key: str
    secret_key: str

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return json.loads(self.raw(method, path, body))

    def raw(self, method: str, path: str, body: Any = None) -> bytes:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"X-Auth-Token": self.token, "Content-Type": "application/json"}
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.read()

    def create_jobs(self, jobs: int, subs: int, duration: tuple[float, float]) -> list[str]:
        path = f"/v1/{self.project_id}/cloudservers"
        return [
            self.call(
                "POST",
                path,
                {"server": {"count": subs, "name": f"bench{n}"}, "_sim": {"duration": duration}},
            )["job_id"]
            for n in range(jobs)
        ]

    def create_service_jobs(
        self, service: str, jobs: int, count: int, duration: tuple[float, float]
    ) -> list[str]:
        """`jobs` jobs of another service (its simulator name), each on `count` resources."""
        body = {"count": count, "project_id": self.project_id, "_sim": {"duration": duration}}
        return [
            self.call("POST", f"/_sim/jobs/{service}", {**body, "name": f"bench{n}"})["job_id"]
            for n in range(jobs)
        ]

    def create_mixed(
        self, jobs: int, subs: int, duration: tuple[float, float]
    ) -> dict[str, list[str]]:
        """`jobs` jobs shared out among `SERVICES`: jobdash's service name -> its job ids."""
        made: dict[str, list[str]] = {}
        for n, (name, sim_name, batch) in enumerate(SERVICES):
            share = jobs // len(SERVICES) + (n < jobs % len(SERVICES))
            if not share:
                continue
            if name == "ecs":
                made[name] = self.create_jobs(share, subs, duration)
            else:
                made[name] = self.create_service_jobs(
                    sim_name, share, subs if batch else 1, duration
                )
        return made

    def advance(self, seconds: float) -> None:
        self.call("POST", "/_sim/advance", {"seconds": seconds})

    def job_gets(self) -> int:
        return int(self.call("GET", "/_sim/stats")["job_gets"])

    def server_gets(self) -> int:
        return int(self.call("GET", "/_sim/stats")["server_gets"])

    def job_body(self, job_id: str) -> bytes:
        return self.raw("GET", f"/v1/{self.project_id}/jobs/{job_id}")


@contextlib.contextmanager
def simulator(python: str, *, fail_rate: float, latency_ms: float = 0.0) -> Iterator[Sim]:
    """`jobdash simulate` on a free loopback port with a frozen clock."""
    command = [python, "-m", "jobdash", "simulate", "--port", "0", "--speed", "0"]
    command += ["--fail-rate", str(fail_rate), "--latency-ms", str(latency_ms)]
    command += ["--purge-after", "1e9"]
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=clean_env(),
            start_new_session=True,
        )
        try:
            ready, _, _ = select.select([process.stdout], [], [], 30)
            banner = process.stdout.readline() if ready and process.stdout else ""
            if not banner.startswith("jobdash simulator on "):
                errors.seek(0)
                raise SystemExit(f"the simulator did not start: {banner}{errors.read()[-2000:]}")
            fields = dict(re.findall(r"(\w+)=(\S+)", banner))
            url = banner.split()[3]
            yield Sim(
                process, url, fields["project_id"], fields["token"], fields["ak"], fields["sk"]
            )
        finally:
            end_group(process)


def end_group(process: subprocess.Popen[Any]) -> None:
    """End a child started in its own session, and whatever it started."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(_PRIVATE_ENV)}


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """This script's environment without credentials, with the XDG dirs under `home`."""
    env = clean_env()
    # An installed jobdash keeps its bytecode; the first (discarded) run may write it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        **extra,
    )
    return env


# -- a terminal: a tmux pane of a fixed size ------------------------------------------------


class Terminal:
    """One tmux server on its own socket, running one command in a pane of `size`."""

    def __init__(self, socket: Path, size: tuple[int, int]) -> None:
        self.tmux = ["tmux", "-f", "/dev/null", "-S", str(socket)]
        self.size = size
        self.pid = 0

    def start(self, argv: list[str], env: dict[str, str]) -> int:
        """Spawn `argv` in the pane (exec'd by the pane's shell, so the pane's pid is its)."""
        settings = [f"{k}={v}" for k, v in env.items() if k.startswith(("XDG_", "OS_", "JOBDASH_"))]
        command = "exec env " + shlex.join([*settings, *argv])
        width, height = self.size
        geometry = ["-x", str(width), "-y", str(height)]
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-s", "bench", *geometry, command],
            env=env,
            check=True,
        )
        out = subprocess.run(
            [*self.tmux, "display-message", "-p", "-t", "bench", "#{pane_pid}"],
            capture_output=True,
            text=True,
            check=True,
        )
        self.pid = int(out.stdout.strip())
        return self.pid

    def screen(self) -> str:
        return subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", "bench"], capture_output=True, text=True
        ).stdout

    def wait_for(self, shown: Callable[[str], bool], timeout: float) -> str:
        """Read the screen every 20 ms until `shown` holds; the last screen read."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            screen = self.screen()
            if shown(screen):
                return screen
            if not alive(self.pid):
                raise SystemExit(f"the dashboard exited; its last screen:\n{screen}")
            time.sleep(0.02)
        raise SystemExit(f"not shown within {timeout:g} s; the screen:\n{self.screen()}")

    def quit(self, timeout: float = 30.0) -> None:
        """Press q and wait for the process to end."""
        subprocess.run([*self.tmux, "send-keys", "-t", "bench", "q"], capture_output=True)
        deadline = time.perf_counter() + timeout
        while alive(self.pid) and time.perf_counter() < deadline:
            time.sleep(0.05)
        if alive(self.pid):
            raise SystemExit(f"the dashboard did not quit within {timeout:g} s")

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)
        if self.pid and alive(self.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


@contextlib.contextmanager
def terminal(socket: Path, size: tuple[int, int]) -> Iterator[Terminal]:
    term = Terminal(socket, size)
    try:
        yield term
    finally:
        term.close()


def tree_cells(screen: str, title: str) -> list[str] | None:
    """The text of each line of the tree panel titled `title` (its borders and scrollbar
    cut, its left indentation kept); None while the panel is not on screen."""
    lines = screen.splitlines()
    top = next((i for i, line in enumerate(lines) if title in line), None)
    if top is None:
        return None
    cells = []
    for line in lines[top + 1 :]:
        if line.startswith("╰"):
            break
        # The last "││" is where the panels meet: a sub-job row begins with one of its own.
        cells.append(line.rsplit("││", 1)[0][1:].rstrip(" │▁▂▃▄▅▆▇█"))
    return cells


def every_job_shown(jobs: int, subs: int) -> Callable[[str], bool]:
    """The tree shows every job it has room for, and each job row shows its progress
    (`n/subs`): what the user sees once every job is there, whatever fits the terminal.

    The title counts the watchlist (`Jobs (N)`) before a job's row exists, so the rows are
    counted: all N of them, or a tree full to its bottom edge (small jobs open with their
    sub-jobs listed, whose rows are not job rows but fill the tree too)."""
    progress = re.compile(rf"\b\d+/{subs}\b")
    title = f"Jobs ({jobs})"

    def shown(screen: str) -> bool:
        found = tree_cells(screen, title)
        if found is None:
            return False
        cells = [cell.strip("│ ") for cell in found]
        # A job not fetched yet has a row that says so, without progress.
        job_rows = [
            cell
            for cell in cells
            if cell.startswith(("▶", "▼")) or "waiting for the first fetch" in cell
        ]
        full = bool(cells) and all(cells)
        return (
            bool(job_rows)
            and (len(job_rows) == jobs or full)
            and all(progress.search(row) for row in job_rows)
        )

    return shown


def every_mixed_job_shown(jobs: int) -> Callable[[str], bool]:
    """`every_job_shown` for jobs of many services: sub-job counts differ from one service to
    the next and some jobs have none, so a job is shown once its row no longer waits for
    its first fetch, and a job row with sub-jobs (▶ or ▼) shows some progress (`n/m`)."""
    progress = re.compile(r"\b\d+/\d+\b")
    title = f"Jobs ({jobs})"

    def shown(screen: str) -> bool:
        cells = tree_cells(screen, title)
        if cells is None:
            return False
        # Sub-job rows hang from the tree's lines; a job row starts at the left edge.
        job_rows = [cell for cell in cells if cell and not cell.startswith(("├", "└", "│", " "))]
        full = bool(cells) and all(cells)
        return (
            bool(job_rows)
            and (len(job_rows) == jobs or full)
            and not any("waiting for the first fetch" in row for row in job_rows)
            and all(progress.search(row) for row in job_rows if row.startswith(("▶", "▼")))
        )

    return shown


# -- the dashboard's figures ---------------------------------------------------------------


def measure_dashboard(args: argparse.Namespace, jobdash: str) -> dict[str, Any]:
    jobs, subs, seconds = args.jobs, args.sub_jobs, args.seconds
    shown = every_mixed_job_shown(jobs) if args.mixed else every_job_shown(jobs, subs)
    figures: dict[str, Any] = {}
    # Sub-jobs end between MIN_RUN and the end of the progress window (failures earlier).
    duration = (MIN_RUN, MIN_RUN + PACE * seconds + 20)
    with (
        simulator(sys.executable, fail_rate=args.fail_rate) as sim,
        tempfile.TemporaryDirectory(prefix="jobdash-bench-") as tmp,
    ):
        home = Path(tmp)
        by_service = (
            sim.create_mixed(jobs, subs, duration)
            if args.mixed
            else {"ecs": sim.create_jobs(jobs, subs, duration)}
        )
        ids = by_service["ecs"]
        sim.advance(RUNNING_FOR)
        env = isolated_env(
            home,
            OS_AUTH_TOKEN=sim.token,
            JOBDASH_ENDPOINT=sim.url,
            OS_PROJECT_ID=sim.project_id,
            OS_REGION_NAME="eu-de",
        )
        command = [jobdash, "ui", *ids]
        if args.mixed:
            add_to_watchlist(jobdash, by_service, env, args.timeout)
            command = [jobdash, "ui"]
            figures["services"] = {name: len(found) for name, found in by_service.items()}
        note(f"cold start of {jobdash} on {jobs} x {subs}{' of 12 services' if args.mixed else ''}")
        with terminal(home / "cold.sock", args.size) as term:
            started = time.perf_counter()
            pid = term.start(command, env)
            term.wait_for(shown, args.timeout)
            figures["cold_start_s"] = time.perf_counter() - started
            figures["cold_start_answers"] = sim.job_gets()
            deadline = time.perf_counter() + args.timeout
            while sim.job_gets() < jobs and time.perf_counter() < deadline:
                time.sleep(0.1)
            time.sleep(args.settle)

            note(f"idle for {args.idle_seconds:.0f} s, after {args.idle_settle:.0f} s more")
            time.sleep(args.idle_settle)
            gets0, cpu0, wall0 = sim.job_gets(), cpu_seconds(pid), time.perf_counter()
            time.sleep(args.idle_seconds)
            gets1, cpu1, wall1 = sim.job_gets(), cpu_seconds(pid), time.perf_counter()
            figures["idle_core_share"] = (cpu1 - cpu0) / (wall1 - wall0)
            figures["idle_answers"] = gets1 - gets0
            figures["idle_cpu_per_answer_ms"] = per(cpu1 - cpu0, gets1 - gets0) * 1000

            note(f"jobs progress for {seconds} s")
            servers0 = sim.server_gets()
            gets0, cpu0, wall0 = sim.job_gets(), cpu_seconds(pid), time.perf_counter()
            for step in range(1, int(seconds) + 1):
                sim.advance(PACE)
                time.sleep(max(0.0, wall0 + step - time.perf_counter()))
            gets1, cpu1, wall1 = sim.job_gets(), cpu_seconds(pid), time.perf_counter()
            figures["updates"] = gets1 - gets0
            figures["server_gets"] = sim.server_gets() - servers0
            figures["update_window_s"] = wall1 - wall0
            figures["progress_core_share"] = (cpu1 - cpu0) / (wall1 - wall0)
            figures["cpu_per_update_ms"] = per(cpu1 - cpu0, gets1 - gets0) * 1000
            # What the updates cost beyond what the process spends anyway when nothing
            # changes (the once-a-second redraw of running times, unchanged answers).
            baseline = figures["idle_core_share"] * (wall1 - wall0)
            figures["cpu_per_update_net_ms"] = per(cpu1 - cpu0 - baseline, gets1 - gets0) * 1000
            figures["peak_rss_mb"] = peak_rss_mb(pid)
            term.quit()

        body = sim.job_body(ids[0])
        figures["body_bytes"] = len(body)
        figures["json_loads_ms"] = json_loads_seconds(body) * 1000
        figures["cpu_per_update_over_json_loads"] = (
            figures["cpu_per_update_ms"] / figures["json_loads_ms"]
        )
        figures["cpu_per_update_net_over_json_loads"] = (
            figures["cpu_per_update_net_ms"] / figures["json_loads_ms"]
        )

        note(f"{args.warm_runs} warm starts")
        warm, warm_rss = [], []
        for run in range(args.warm_runs):
            with terminal(home / f"warm{run}.sock", args.size) as term:
                started = time.perf_counter()
                pid = term.start([jobdash, "ui"], env)
                term.wait_for(shown, args.timeout)
                warm.append(time.perf_counter() - started)
                warm_rss.append(peak_rss_mb(pid))
                term.quit()
        figures["warm_start_s"] = statistics.median(warm)
        figures["warm_start_runs_s"] = warm
        figures["warm_start_peak_rss_mb"] = max(warm_rss)
    return figures


def add_to_watchlist(
    jobdash: str, by_service: dict[str, list[str]], env: dict[str, str], timeout: float
) -> None:
    """`jobdash add --service` for each service's jobs."""
    for name, job_ids in by_service.items():
        result = subprocess.run(
            [jobdash, "add", "--any-id", "--service", name, *job_ids],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise SystemExit(f"jobdash add --service {name} failed: {result.stderr[-2000:]}")


def note(text: str) -> None:
    """Where the run is, on stderr (the figures go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def per(total: float, count: int) -> float:
    return total / count if count else float("nan")


def json_loads_seconds(body: bytes, rounds: int = 9) -> float:
    """Median over `rounds` of the mean of a batch of stdlib `json.loads` of `body`."""
    text = body.decode()
    batch = max(1, int(0.05 / max(1e-6, timed(lambda: json.loads(text)))))
    return statistics.median(
        timed(lambda: [json.loads(text) for _ in range(batch)]) / batch for _ in range(rounds)
    )


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


# -- `jobdash status` ----------------------------------------------------------------------


def run_in_pty(
    argv: list[str], env: dict[str, str], size: tuple[int, int], timeout: float
) -> tuple[float, str]:
    """Run `argv` with a pseudo-terminal of `size` as its controlling terminal and standard
    streams; (wall seconds from spawn to exit, the text it wrote without escapes)."""
    master, slave = os.openpty()
    width, height = size
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**env, "TERM": env.get("TERM", "xterm-256color")},
        start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(slave)
    chunks: list[bytes] = []
    try:
        deadline = started + timeout
        while True:
            ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.perf_counter()))
            if not ready:
                raise SystemExit(f"{shlex.join(argv[:3])} ...: no exit within {timeout:g} s")
            try:
                data = os.read(master, 1 << 16)
            except OSError:  # EIO: the child and its children closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        code = process.wait(timeout=max(1.0, deadline - time.perf_counter()))
        wall = time.perf_counter() - started
    finally:
        end_group(process)
        os.close(master)
    text = _ANSI.sub("", b"".join(chunks).decode(errors="replace"))
    if code != 0:
        raise SystemExit(f"{shlex.join(argv[:3])} ... exited {code}:\n{text[-2000:]}")
    return wall, text


def measure_status(args: argparse.Namespace, jobdash: str) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    count = args.status_jobs
    with (
        simulator(sys.executable, fail_rate=0.0, latency_ms=args.latency_ms) as sim,
        tempfile.TemporaryDirectory(prefix="jobdash-bench-") as tmp,
    ):
        ids = sim.create_jobs(count, 2, (1e6, 2e6))
        sim.advance(30)
        env = isolated_env(
            Path(tmp),
            JOBDASH_ENDPOINT=sim.url,
            OS_PROJECT_ID=sim.project_id,
            OS_ACCESS_KEY=sim.access_key,
            OS_SECRET_KEY=sim.secret_key,
        )

        def status(job_ids: list[str]) -> float:
            wall, text = run_in_pty([jobdash, "status", *job_ids], env, args.size, args.timeout)
            if text.count("RUNNING") < len(job_ids):
                raise SystemExit(f"jobdash status did not show every job RUNNING:\n{text[-2000:]}")
            return wall

        note(f"`jobdash status`: one job x {args.status_runs}, {count} jobs x {args.status_rounds}")
        status(ids[:1])  # discarded: writes the bytecode cache if none is there
        one = [status(ids[:1]) for _ in range(args.status_runs)]
        figures["status_one_s"] = statistics.median(one)
        figures["status_one_runs_s"] = one
        status(ids)
        many = [status(ids) for _ in range(args.status_rounds)]
        figures["status_many_s"] = statistics.median(many)
        figures["status_many_runs_s"] = many
        figures["sdk_loop_s"] = sdk_loop_seconds(sim, ids, args.status_rounds)
    if figures["sdk_loop_s"] is not None:
        figures["status_many_speedup"] = figures["sdk_loop_s"] / figures["status_many_s"]
    return figures


def sdk_loop_seconds(sim: Sim, ids: list[str], rounds: int) -> float | None:
    """The vendor SDK's sequential loop (`bench/poll_sim.py`); None without the SDK."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        import huaweicloudsdkecs  # noqa: F401
        from poll_sim import SimInfo, measure_sdk
    except ImportError:
        return None
    info = SimInfo(sim.url, sim.project_id, sim.access_key, sim.secret_key, ids)
    measure_sdk(info)
    return statistics.median(measure_sdk(info).wall for _ in range(rounds))


# -- report --------------------------------------------------------------------------------


def jobdash_command(args: argparse.Namespace) -> str:
    if args.jobdash:
        return args.jobdash
    found = Path(args.python).with_name("jobdash") if args.python else None
    if found is not None and found.exists():
        return str(found)
    return shutil.which("jobdash") or str(Path(sys.executable).with_name("jobdash"))


def table(args: argparse.Namespace, figures: dict[str, Any]) -> str:
    jobs, subs = args.jobs, args.sub_jobs

    def show(key: str, fmt: str, scale: float = 1.0) -> str:
        value = figures.get(key)
        if value is None:
            return "not measured"
        return fmt.format(value * scale)

    rows = [
        (
            f"dashboard: cold start, {jobs} x {subs}, until every job is on screen",
            show("cold_start_s", "{:.2f} s"),
        ),
        (
            "dashboard: idle, nothing changes: share of one core",
            show("idle_core_share", "{:.1f} %", 100),
        ),
        ("dashboard: cold start: job GETs answered by then", show("cold_start_answers", "{:.0f}")),
        ("dashboard: idle: CPU per unchanged answer", show("idle_cpu_per_answer_ms", "{:.2f} ms")),
        ("dashboard: CPU per job update", show("cpu_per_update_ms", "{:.2f} ms")),
        (
            "dashboard: CPU per job update beyond the idle share",
            show("cpu_per_update_net_ms", "{:.2f} ms"),
        ),
        (
            "CPU per update beyond the idle share / json.loads",
            show("cpu_per_update_net_over_json_loads", "{:.1f}x"),
        ),
        ("dashboard: job updates in the window", show("updates", "{:.0f}")),
        (
            "dashboard: server fetches in it (failed sub-jobs' servers)",
            show("server_gets", "{:.0f}"),
        ),
        (
            "dashboard: share of one core while jobs progress",
            show("progress_core_share", "{:.1f} %", 100),
        ),
        ("dashboard: peak RSS (VmHWM) after the progress window", show("peak_rss_mb", "{:.0f} MB")),
        (
            f"dashboard: warm start, stored {jobs} x {subs}, median",
            show("warm_start_s", "{:.2f} s"),
        ),
        ("dashboard: warm start: peak RSS", show("warm_start_peak_rss_mb", "{:.0f} MB")),
        (f"json.loads of one {subs}-sub-job body", show("json_loads_ms", "{:.2f} ms")),
        ("CPU per update / json.loads", show("cpu_per_update_over_json_loads", "{:.1f}x")),
        ("`jobdash status ID`, one job, median", show("status_one_s", "{:.3f} s")),
        (
            f"`jobdash status` of {args.status_jobs} running jobs, median",
            show("status_many_s", "{:.3f} s"),
        ),
        (f"SDK sequential show_job loop, {args.status_jobs} jobs", show("sdk_loop_s", "{:.3f} s")),
        ("status speed-up over the SDK loop", show("status_many_speedup", "{:.1f}x")),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def parse_size(value: str) -> tuple[int, int]:
    width, _, height = value.partition("x")
    return int(width), int(height)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--python", help="the Python of the jobdash to measure (its `jobdash` next to it)"
    )
    where.add_argument("--jobdash", help="the jobdash executable to measure")
    parser.add_argument("--jobs", type=int, default=100, help="jobs on the dashboard (100)")
    parser.add_argument(
        "--sub-jobs", type=int, default=500, help="sub-jobs of each (500, at most 500)"
    )
    parser.add_argument("--seconds", type=int, default=20, help="idle and progress windows, s (20)")
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=60.0,
        help="the idle window, s (60: every job is asked at least once at the slow pace)",
    )
    parser.add_argument(
        "--idle-settle",
        type=float,
        default=70.0,
        help="then wait this long before the idle window, for the poller to reach its pace"
        " for unchanged long-running jobs, s (70)",
    )
    parser.add_argument(
        "--settle", type=float, default=5.0, help="wait after the cold start, s (5)"
    )
    parser.add_argument("--warm-runs", type=int, default=3, help="warm starts, median shown (3)")
    parser.add_argument(
        "--fail-rate",
        type=float,
        default=0.0,
        help="sub-jobs that fail (0). Each failure makes the dashboard fetch the server behind"
        " it once; jobs that have run for hours have most of their failures behind them, so"
        " a rate above 0 measures those fetches more than job updates",
    )
    parser.add_argument("--size", type=parse_size, default=(160, 50), help="terminal, WxH (160x50)")
    parser.add_argument("--status-runs", type=int, default=10, help="`status ID` runs (10)")
    parser.add_argument("--status-jobs", type=int, default=300, help="jobs for `status` (300)")
    parser.add_argument("--status-rounds", type=int, default=3, help="their runs, median (3)")
    parser.add_argument(
        "--latency-ms", type=float, default=20.0, help="added per answer for status (20)"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="for any one wait, s (120)")
    parser.add_argument("--no-dashboard", action="store_true", help="only the status figures")
    parser.add_argument("--no-status", action="store_true", help="only the dashboard figures")
    parser.add_argument(
        "--mixed",
        action="store_true",
        help="the dashboard watches the jobs of all 12 services, --jobs shared out among them",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not 2 <= args.sub_jobs <= 500:
        parser.error("--sub-jobs must be between 2 and 500 (the API's limit)")
    if args.seconds < 1 or args.jobs < 1 or args.status_jobs < 1:
        parser.error("--seconds, --jobs and --status-jobs must be at least 1")
    if args.status_runs < 1 or args.status_rounds < 1 or args.warm_runs < 1:
        parser.error("--status-runs, --status-rounds and --warm-runs must be at least 1")
    return args


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through every clean-up on the way out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("tmux") is None and not args.no_dashboard:
        raise SystemExit("the dashboard's figures need tmux (or pass --no-dashboard)")
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)
    jobdash = jobdash_command(args)
    figures: dict[str, Any] = {
        "jobdash": jobdash,
        "python": sys.version.split()[0],
        "nproc": os.cpu_count(),
        "jobs": args.jobs,
        "sub_jobs": args.sub_jobs,
        "seconds": args.seconds,
        "mixed": args.mixed,
    }
    if not args.no_dashboard:
        figures.update(measure_dashboard(args, jobdash))
    if not args.no_status:
        figures.update(measure_status(args, jobdash))
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(
            f"{jobdash}: {args.jobs} x {args.sub_jobs}{' of 12 services' if args.mixed else ''}"
            f" in a {args.size[0]}x{args.size[1]} "
            f"terminal, windows of {args.seconds} s; nproc {figures['nproc']}, Python "
            f"{figures['python']}"
        )
        print(table(args, figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
