"""`jobdash demo` as a whole process: from the command until its first screen.

    python bench/demo_start.py [--python .venv/bin/python] [--runs 5] [--json]

The demo runs in a real terminal (a tmux pane of a fixed size, on its own socket, without
any tmux config) with its files in a temporary XDG tree. Its first screen is the one that
shows its jobs: the watchlist's title and the ECS batch's row, fetched (its progress) — what
a user sees before any key. The figure is the median of `--runs` after one discarded run
(which writes the bytecode cache).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from whole_process import _stop, isolated_env, jobdash_command, terminal

#: The demo's eleven jobs, and the web tier's batch fetched (`n/20`).
TITLE = "Jobs (11)"
BATCH = re.compile(r"createServer [0-9a-f]{8} \d+/20 .*«web tier x20")


def first_screen(screen: str) -> bool:
    return TITLE in screen and BATCH.search(screen) is not None


def demo_start_seconds(jobdash: str, size: tuple[int, int], timeout: float) -> float:
    """Spawn to first screen of one `jobdash demo`, which is then quit with q."""
    with tempfile.TemporaryDirectory(prefix="jobdash-demo-bench-") as tmp:
        home = Path(tmp)
        with terminal(home / "demo.sock", size) as term:
            started = time.perf_counter()
            term.start([jobdash, "demo"], isolated_env(home))
            term.wait_for(first_screen, timeout)
            seconds = time.perf_counter() - started
            term.quit()
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--python", help="the Python of the jobdash to measure (its `jobdash` next to it)"
    )
    where.add_argument("--jobdash", help="the jobdash executable to measure")
    parser.add_argument("--runs", type=int, default=5, help="runs, median shown (5)")
    parser.add_argument("--timeout", type=float, default=60.0, help="for one run, s (60)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if shutil.which("tmux") is None:
        raise SystemExit("the demo runs under tmux")
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)  # unwinds through the tmux server's clean-up
    jobdash = jobdash_command(args)
    size = (160, 50)
    demo_start_seconds(jobdash, size, args.timeout)  # discarded: writes the bytecode
    runs = [demo_start_seconds(jobdash, size, args.timeout) for _ in range(args.runs)]
    figures = {"jobdash": jobdash, "demo_first_screen_s": statistics.median(runs), "runs_s": runs}
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(
            f"{jobdash} demo, {size[0]}x{size[1]}: first screen in "
            f"{figures['demo_first_screen_s']:.2f} s (median of {args.runs}; "
            + ", ".join(f"{run:.2f}" for run in runs)
            + ")"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
