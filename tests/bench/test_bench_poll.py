"""The poller benchmark still runs end to end (tiny sizes; no speed is asserted)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("huaweicloudsdkecs", reason="the benchmark's SDK side needs the bench extra")

BENCH = Path(__file__).resolve().parents[2] / "bench" / "poll.py"


def test_benchmark_runs_and_reports_both_sides(subprocess_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--jobs", "12", "--latency-ms", "1", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "jobdash 64 in flight, jobdash's transport" in out
    assert "SDK (sequential show_job)" in out
    assert "wall time: jobdash is" in out
    assert "CPU per request: jobdash uses" in out
    # every request of both sides (warm-up, discarded and measured rounds) was answered 200
    answered = out.split("simulator answered: ", 1)[1].split("}", 1)[0] + "}"
    assert list(ast.literal_eval(answered)) == ["200"]


def test_benchmark_scenarios_run_at_a_small_size(subprocess_env: dict[str, str]) -> None:
    small = ["--jobs", "6", "--latency-ms", "1", "--rounds", "1"]
    scenarios = ["--status", "--status-jobs", "8"]
    scenarios += ["--limited", "--limit", "10", "--limited-jobs", "20"]
    scenarios += ["--watch-seconds", "3", "--settle-seconds", "1"]
    scenarios += ["--long", "--long-jobs", "2", "--long-minutes", "2"]
    result = subprocess.run(
        [sys.executable, str(BENCH), *small, *scenarios],
        capture_output=True,
        text=True,
        timeout=240,
        env=subprocess_env,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "jobdash status (whole process)" in out
    assert "status: jobdash status is" in out
    for answer in ("429", "202"):
        line = next(x for x in out.splitlines() if x.startswith(f"limited {answer}: "))
        assert "of the limit; throttled" in line
    assert out.count("poller says: ") == 2
    # requests per job are counted, not timed: the stretching poller asks less than every 3 s
    long_line = next(x for x in out.splitlines() if x.startswith("long jobs: "))
    found = re.search(r"([\d.]+) requests per job; a fixed 3 s poller: ([\d.]+)", long_line)
    assert found is not None, long_line
    ours, fixed = float(found[1]), float(found[2])
    assert 0 < ours < fixed
