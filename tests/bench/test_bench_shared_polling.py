"""The one-poller benchmark runs end to end at a tiny size: one poller however many
screens, a handover after kill -9 and SIGSTOP, nothing lost (no speed is asserted)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "shared_polling.py"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

SMALL = ["--jobs", "6", "--sub-jobs", "2", "--seconds", "6", "--terminals", "1", "--tabs", "1"]
SMALL += ["--settle", "3", "--update-jobs", "4", "--update-sub-jobs", "4"]
SMALL += ["--update-seconds", "3", "--idle-seconds", "2", "--idle-settle", "1"]


def test_benchmark_counts_one_poller_and_hands_polling_over(tmp_path: Path) -> None:
    pytest.importorskip("textual_serve")
    result = subprocess.run(
        [sys.executable, str(BENCH), *SMALL, "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout)
    one, many = figures["requests_one"], figures["requests_many"]
    assert one["job_gets"] > 0 and many["job_gets"] > 0
    assert many["dashboards_alive"] == 2 and many["poller_pid"] is not None
    handover = figures["handover"]
    assert handover["kill9_takeover_s"] < 10 and handover["sigstop_takeover_s"] < 10
    assert handover["frozen_one_follows"] and handover["follower_shows_jobs_ending"]
    assert handover["lost"] == [0, 0]
    assert figures["follower"]["updates"] > 0
