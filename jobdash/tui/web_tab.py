"""One browser tab of `jobdash serve`: the dashboard, run by textual-serve in Textual's web
driver. `python -m jobdash.tui.web_tab SESSION_FILE` (see `jobdash.web.session`)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from jobdash.web.session import TabSession

PR_SET_PDEATHSIG = 1


def _end_with_parent(serve_pid: int) -> None:
    """Get SIGTERM when the serve process ends, however it ends (Linux): no dashboard
    outlives the server. Textual's web driver turns SIGTERM into a clean quit."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != serve_pid:  # the server was gone before the line above ran
        raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m jobdash.tui.web_tab SESSION_FILE", file=sys.stderr)
        return 2
    session = TabSession.read(Path(args[0]))
    _end_with_parent(session.serve_pid)
    if session.demo is None:
        from jobdash.cli import main as jobdash_main

        return jobdash_main(session.argv or ["ui"])

    from jobdash.cli.common import route_core_warnings
    from jobdash.store.core import Store
    from jobdash.tui.launch import run_demo_on

    route_core_warnings(to_stderr=False)
    demo = session.demo
    store = Store(Path(demo.watchlist))
    try:
        return run_demo_on(argparse.Namespace(interval=demo.interval), demo, store, demo.token)
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
