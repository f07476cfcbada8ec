"""The poller benchmark still runs end to end (tiny sizes; no speed is asserted)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("huaweicloudsdkecs", reason="the benchmark's SDK side needs the bench extra")

BENCH = Path(__file__).resolve().parents[1] / "bench" / "poll.py"


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
    assert "jobdash 64 in flight, pools of 4" in out
    assert "SDK (sequential show_job)" in out
    assert "wall time: jobdash is" in out
    assert "CPU per request: jobdash uses" in out
    # every request of both sides (warm-up, discarded and measured rounds) was answered 200
    answered = out.split("simulator answered: ", 1)[1].split("}", 1)[0] + "}"
    assert list(ast.literal_eval(answered)) == ["200"]
