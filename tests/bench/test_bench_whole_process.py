"""The whole-process benchmark runs end to end at a tiny size, reads the screen right, and
leaves no process behind (no speed is asserted)."""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "whole_process.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("whole_process", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


SCREEN = """\
 jobdash 3f1d2510 · 127.0.0.1:35127                                  ● live · 40 req/s
 ● 3 running
╭─ Jobs (3) ──────────────────────────────────────╮╭─ Details ──────────────────╮
│▼ ● createServer 05541a4b 2/20  ✓2 21s           ││ ● RUNNING  createServer    │
│├─ ● server 2d71770f 19s createSingleServer      ││ job_id  05541a4b65277acb   │
│└─ ● server cb808825 19s createSingleServer      ││                            │
│▶ ● createServer 3cc1cb38 0/20  ✓0 21s           ││                            │
│▶ ● createServer {third}  ✓0 21s           ││                            │
╰─────────────────────────────────────────────────╯╰────────────────────────────╯
 ? Help  a Add  q Quit
"""


def test_every_job_shown_needs_the_count_and_each_job_row_with_its_progress() -> None:
    shown = load_bench().every_job_shown(3, 20)
    assert shown(SCREEN.format(third="727bd5c3 5/20"))
    # a job row not yet showing its progress (not fetched, not loaded)
    assert not shown(SCREEN.format(third="727bd5c3     "))
    # the title counts the watchlist before the third job's row is there
    blank = "│" + " " * 49 + "││" + " " * 28 + "│"
    missing = SCREEN.format(third="727bd5c3 5/20").splitlines()
    missing[7] = blank
    assert len(missing[6]) == len(blank)
    assert not shown("\n".join(missing))
    # the third job's row is there, waiting for its first fetch
    assert not shown(
        SCREEN.format(third="727bd5c3 5/20").replace(
            "▶ ● createServer 727bd5c3 5/20 ", "… job 727bd5c3  waiting for the first fetch"
        )
    )
    # another job count in the title
    assert not load_bench().every_job_shown(4, 20)(SCREEN.format(third="727bd5c3 5/20"))
    # progress of another size is not this job's
    assert not load_bench().every_job_shown(3, 500)(SCREEN.format(third="727bd5c3 5/20"))


SMALL = [
    "--jobs",
    "3",
    "--sub-jobs",
    "20",
    "--seconds",
    "4",
    "--settle",
    "0.5",
    "--idle-settle",
    "0",
    "--idle-seconds",
    "2",
]
SMALL += ["--warm-runs", "1", "--status-runs", "1", "--status-jobs", "3"]
SMALL += ["--status-rounds", "1", "--latency-ms", "1", "--timeout", "30"]


@pytest.mark.slow
@pytest.mark.tmux
@pytest.mark.skipif(shutil.which("tmux") is None, reason="the dashboard runs under tmux")
def test_benchmark_measures_the_dashboard_and_status_processes(
    subprocess_env: dict[str, str],
) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), *SMALL, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert Path(figures["jobdash"]).name == "jobdash"
    assert 0 < figures["cold_start_s"] < 30
    assert 0 < figures["warm_start_s"] < 30
    # the clock moved 3 simulated s a second: the poller fetched changed bodies
    assert figures["updates"] > 0
    assert 0 < figures["cpu_per_update_ms"] < math.inf
    assert figures["idle_answers"] >= 0
    assert 0 <= figures["idle_core_share"] < 2
    assert figures["peak_rss_mb"] > 10
    assert figures["body_bytes"] > 20 * 100  # twenty sub-jobs of a few hundred bytes each
    assert figures["cpu_per_update_over_json_loads"] == pytest.approx(
        figures["cpu_per_update_ms"] / figures["json_loads_ms"]
    )
    assert 0 < figures["status_one_s"] < 30
    assert 0 < figures["status_many_s"] < 30
    sdk = figures["sdk_loop_s"]
    assert sdk is None or sdk > 0


def processes_with(marker: str) -> list[int]:
    """Live processes whose environment holds `marker` (this user's only)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() not in (entry / "environ").read_bytes():
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.tmux
@pytest.mark.skipif(shutil.which("tmux") is None, reason="the dashboard runs under tmux")
def test_a_terminated_benchmark_leaves_no_process_behind(
    subprocess_env: dict[str, str],
) -> None:
    marker = f"BENCH_TEST_MARK={uuid.uuid4().hex}"
    name, value = marker.split("=")
    bench = subprocess.Popen(
        [sys.executable, str(BENCH), *SMALL, "--seconds", "60"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**subprocess_env, name: value},
    )
    try:
        assert bench.stderr is not None
        for line in bench.stderr:
            if "idle for" in line:  # the simulator and the dashboard are running
                break
        else:
            pytest.fail("the benchmark ended before its idle window")
        during = processes_with(marker)
        assert len(during) >= 3  # the benchmark, its simulator, tmux and the dashboard
        bench.send_signal(signal.SIGTERM)
        assert bench.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        if bench.poll() is None:
            bench.kill()
    deadline = time.monotonic() + 10
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with(marker) == []


MIXED = """\
 jobdash 3f1d2510 · 127.0.0.1:35127                                  ● live · 40 req/s
╭─ Jobs (4) ──────────────────────────────────────╮╭─ Details ──────────────────╮
│▼ ● createServer 05541a4b 2/20  ✓2 21s           ││ ● RUNNING  createServer    │
││  ├─ ● server 2d71770f 19s createSingleServer   ││ job_id  05541a4b65277acb   │
││  └─ ● server cb808825 19s createSingleServer   ││                            │
│▶ ● CCE CreateNode 3cc1cb38 0/40  ✓0 21s         ││                            │
│● RDS CreateMysqlSingleHAInstance 77fe125b 3h    ││                            │
│{fourth}││                            │
╰─────────────────────────────────────────────────╯╰────────────────────────────╯
"""


def test_every_mixed_job_shown_takes_jobs_with_and_without_sub_jobs() -> None:
    shown = load_bench().every_mixed_job_shown(4)
    assert shown(MIXED.format(fourth="● DDS CreateMongoDB 1be4aaa7 3h".ljust(49)))
    # a job still waiting for its first fetch
    waiting = "… job 1be4aaa7  waiting for the first fetch".ljust(49)
    assert not shown(MIXED.format(fourth=waiting))
    # a job with sub-jobs whose row shows no progress yet
    assert not shown(
        MIXED.format(fourth="● DDS CreateMongoDB 1be4aaa7 3h".ljust(49)).replace(
            "3cc1cb38 0/40 ", "3cc1cb38      "
        )
    )
    # the fourth row missing
    assert not shown(MIXED.format(fourth=" " * 49))
    assert not load_bench().every_mixed_job_shown(5)(
        MIXED.format(fourth="● DDS CreateMongoDB 1be4aaa7 3h".ljust(49))
    )


@pytest.mark.slow
@pytest.mark.tmux
@pytest.mark.skipif(shutil.which("tmux") is None, reason="the dashboard runs under tmux")
def test_benchmark_measures_a_watchlist_of_every_service(
    subprocess_env: dict[str, str],
) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), *SMALL, "--jobs", "12", "--mixed", "--no-status", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["mixed"] is True
    assert figures["services"] == {
        name: 1
        for name in (
            *("ecs", "bms", "cbr", "cce", "dcs", "dds", "elb", "evs", "ims", "rds"),
            *("sfs-turbo", "vbs"),
        )
    }
    # every job was fetched at the start, from its own service's API
    assert figures["cold_start_answers"] >= 12
    assert figures["updates"] > 0
    assert 0 < figures["cpu_per_update_ms"] < math.inf
