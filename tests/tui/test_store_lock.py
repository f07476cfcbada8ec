"""A database another program holds locked delays the dashboard's writes, never its keys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from conftest import SIZE, SimDashboard, shown, wait_until

from jobdash.api.model import JobStatus
from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.tui.screens.help import HelpScreen

#: How long the other program holds the lock: longer than the store's busy timeout.
LOCK_SECONDS = 15

LOCKER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
connection.close()
"""


def stored_status(path: Path, key: object) -> str | None:
    with Store(path) as reader:
        snapshot = reader.snapshots().get(key)  # type: ignore[call-overload]
    return snapshot.job.status if snapshot is not None and snapshot.job is not None else None


async def test_a_store_locked_by_another_process_blocks_no_key(
    simulator: Simulator, tmp_path: Path
) -> None:
    path = tmp_path / "watchlist.sqlite3"
    with Store(path) as store:
        headers = {"X-Auth-Token": simulator.credentials.token}
        async with httpx.AsyncClient(headers=headers) as http:
            dash = SimDashboard(simulator, http, store)
            key = dash.watch(simulator.create_servers(2, fail_count=0, duration=(30.0, 30.0)))
            app = dash.app()
            async with app.run_test(size=SIZE) as pilot:
                await wait_until(
                    pilot, lambda: app.watchlist.job(key) is not None, "the first fetch"
                )
                locker = subprocess.Popen(
                    [sys.executable, "-c", LOCKER, str(path), str(LOCK_SECONDS)],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                try:
                    assert locker.stdout is not None and locker.stdout.readline() == "locked\n"
                    simulator.advance(60)  # the batch ends: its update must wait for the lock
                    await wait_until(
                        pilot,
                        lambda: (
                            (job := app.watchlist.job(key)) is not None
                            and job.status == JobStatus.SUCCESS
                        ),
                        "the update while the store is locked",
                    )
                    await pilot.press("question_mark")
                    await pilot.pause()
                    assert isinstance(app.screen, HelpScreen)
                    assert locker.poll() is None, "help opened only after the lock ended"
                    # ... and before the waiting write gave up (after the store's busy timeout).
                    problem = app.watchlist.store_problem
                    assert problem is None or "has waited" in problem, problem
                    await wait_until(
                        pilot,
                        lambda: "store is locked" in " ".join(shown(app.dashboard.header).split()),
                        "the header to say the store is locked",
                    )
                    assert locker.poll() is None
                    await pilot.press("escape")
                    while locker.poll() is None:
                        await pilot.pause(0.2)
                    assert locker.returncode == 0
                finally:
                    locker.kill()
                    locker.wait()
                await wait_until(
                    pilot,
                    lambda: "store is locked" not in " ".join(shown(app.dashboard.header).split()),
                    "the header to clear",
                )
                await pilot.press("q")
    assert stored_status(path, key) == JobStatus.SUCCESS
