"""A dashboard on a watchlist another process polls: it says whom it follows, shows what
that process fetches, sends its refreshes there, and fetches nothing itself."""

from __future__ import annotations

import os
import socket

from conftest import SIZE, SimDashboard, shown, wait_until
from sharing_helpers import PollingElsewhere

from jobdash.api.model import Job, JobStatus
from jobdash.poll.sharing import Role
from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.tui.app import JobDashApp
from jobdash.watch.values import WatchKey


def header_words(app: JobDashApp) -> str:
    return " ".join(shown(app.dashboard.header).split())


def snapshot_job(app: JobDashApp, key: WatchKey) -> Job | None:
    snapshot = app.watchlist.snapshots.get(key)
    return snapshot.job if snapshot is not None else None


async def test_a_second_dashboard_follows_shows_updates_and_refreshes_through_the_poller(
    dash: SimDashboard, simulator: Simulator, store: Store
) -> None:
    key = dash.watch(simulator.create_servers(3, fail_count=1, duration=(5.0, 5.0)), "web")
    with PollingElsewhere(simulator, store.path) as other:
        app: JobDashApp = dash.app()
        async with app.run_test(size=SIZE) as pilot:
            assert app.poller is not None
            await wait_until(pilot, lambda: app.poller.role is Role.FOLLOWING, "following")
            label = f"{socket.gethostname()}:{os.getpid()}"
            await wait_until(
                pilot, lambda: f"following {label}" in header_words(app), "the header note"
            )
            await wait_until(pilot, lambda: snapshot_job(app, key) is not None, "the first answer")
            simulator.advance(30)
            await wait_until(
                pilot,
                lambda: (
                    (job := snapshot_job(app, key)) is not None and job.status == JobStatus.FAIL
                ),
                "the failure, as the other process fetched it",
            )
            row = app.dashboard.job_tree.root.children[0]
            await wait_until(pilot, lambda: row.label.plain.startswith("✗"), "the row to say so")
            # Finished jobs are not polled again; `r` asks the polling process for one.
            before = other.fetches[key.job_id]
            await pilot.press("r")
            await wait_until(
                pilot, lambda: other.fetches[key.job_id] > before, "the refresh to be fetched there"
            )
        # This dashboard's own poller never sent a job request.
        assert dash.poller is not None
        assert sum(ep.requests_sent for ep in dash.poller._endpoints.values()) == 0


async def test_the_follower_takes_over_when_the_poller_quits(
    dash: SimDashboard, simulator: Simulator, store: Store
) -> None:
    key = dash.watch(simulator.create_servers(2, fail_count=0, duration=(60.0, 60.0)))
    other = PollingElsewhere(simulator, store.path).__enter__()
    app = dash.app()
    try:
        async with app.run_test(size=SIZE) as pilot:
            assert app.poller is not None
            await wait_until(pilot, lambda: app.poller.role is Role.FOLLOWING, "following")
            other.__exit__()
            await wait_until(pilot, lambda: app.poller.role is Role.POLLING, "the takeover")
            await wait_until(pilot, lambda: "following" not in header_words(app), "the note to go")
            assert dash.poller is not None
            await wait_until(
                pilot,
                lambda: sum(ep.requests_sent for ep in dash.poller._endpoints.values()) > 0,
                "its own fetches",
            )
            assert snapshot_job(app, key) is not None
    finally:
        other.__exit__()
