"""The dashboard and the servers behind sub-jobs, against the simulator: a failure fetches
its server once (name in the row, a server section in the details, kept in the store), a
success fetches nothing until `s` asks, a deleted server shows as gone."""

from __future__ import annotations

from conftest import SIZE, SimDashboard, record_toasts, shown, wait_until

from jobdash.api.ids import keyed_sub_jobs
from jobdash.store.core import Store
from jobdash.tui.app import JobDashApp
from jobdash.tui.view import JobRow, SubJobRow
from jobdash.watch.values import WatchKey


def _first_sub_key(app: JobDashApp, key: WatchKey) -> str:
    return keyed_sub_jobs(app.watchlist.job(key))[0][0]


async def test_failure_fetches_its_server_once_and_shows_it(dash: SimDashboard) -> None:
    job_id = dash.sim.create_servers(3, "api", fail_count=1, duration=(10, 20))
    key = dash.watch(job_id, "api x3")
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.watchlist.job(key) is not None, "the first fetch")
        assert dash.sim.server_request_count() == 0  # nothing failed yet
        dash.sim.advance(60)
        app.dashboard.poller.refresh(key)  # type: ignore[union-attr]
        job = None

        def fetched() -> bool:
            nonlocal job
            job = app.watchlist.job(key)
            return job is not None and job.is_terminal and len(app.watchlist.servers) > 0

        await wait_until(pilot, fetched, "the failed server's details")
        assert job is not None
        (failed,) = [sub for sub in job.sub_jobs if sub.failed]
        info = app.watchlist.servers.get(key, failed.server_id)
        assert info is not None and info.status == "ERROR" and info.name
        # Polls after the failure do not fetch the server again.
        for _ in range(3):
            app.dashboard.poller.refresh(key)  # type: ignore[union-attr]
            await pilot.pause(0.1)
        assert dash.sim.server_request_count() == 1
        # The row shows the server's name and status, the details its fault.
        row = app.dashboard.job_tree.next_failed()
        assert isinstance(row, SubJobRow)
        app.dashboard.job_tree.go_to(row)
        await wait_until(
            pilot, lambda: app.dashboard.details.shown == row, "the details of the failure"
        )
        node = app.dashboard.job_tree.cursor_node
        assert node is not None and node.data == row
        assert f"server {info.name} ERROR" in node.label.plain
        details = shown(app.dashboard.details.body)
        assert "Server" in details and "ERROR" in details and "broken" in details
        assert "fault" in details and "s3.medium.2" in details
    # Kept in the store on the store's thread: the next start knows it.
    with Store(dash.store.path) as reopened:
        assert [s.server_id for s in reopened.servers()] == [failed.server_id]


async def test_success_fetches_nothing_until_asked(dash: SimDashboard) -> None:
    job_id = dash.sim.create_servers(2, "ok", fail_count=0, duration=(5, 10))
    dash.sim.advance(60)
    key = dash.watch(job_id)
    app = dash.app()
    toasts = record_toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.watchlist.job(key) is not None, "the first fetch")
        job = app.watchlist.job(key)
        assert job is not None and job.is_terminal
        await pilot.pause(0.2)
        assert dash.sim.server_request_count() == 0
        # `s` on a job row with sub-jobs says what to select.
        app.dashboard.job_tree.go_to(JobRow(key))
        await pilot.pause()
        await pilot.press("s")
        assert "Select a sub-job" in toasts[-1].message
        app.dashboard.job_tree.go_to(SubJobRow(key, _first_sub_key(app, key)))
        await wait_until(
            pilot, lambda: isinstance(app.dashboard.details.shown, SubJobRow), "the cursor"
        )
        assert "s fetches its details" in shown(app.dashboard.details.body)
        await pilot.press("s")
        await wait_until(pilot, lambda: dash.sim.server_request_count() == 1, "the fetch")
        await wait_until(
            pilot, lambda: "is ACTIVE" in (toasts[-1].message if toasts else ""), "the toast"
        )
        await wait_until(
            pilot, lambda: "running normally" in shown(app.dashboard.details.body), "details"
        )


async def test_deleted_server_shows_as_gone(dash: SimDashboard) -> None:
    create = dash.sim.create_servers(1, "tmp", fail_count=0, duration=(5, 5))
    dash.sim.advance(30)
    key = dash.watch(create)
    app = dash.app()
    toasts = record_toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.watchlist.job(key) is not None, "the first fetch")
        job = app.watchlist.job(key)
        assert job is not None
        dash.sim.delete_servers([job.sub_jobs[0].server_id], fail_count=0, duration=(5, 5))
        dash.sim.advance(30)
        app.dashboard.job_tree.go_to(SubJobRow(key, _first_sub_key(app, key)))
        await wait_until(
            pilot, lambda: isinstance(app.dashboard.details.shown, SubJobRow), "the cursor"
        )
        await pilot.press("s")
        await wait_until(pilot, lambda: bool(toasts) and "gone" in toasts[-1].message, "gone")
        await wait_until(pilot, lambda: "GONE" in shown(app.dashboard.details.body), "details")
        assert "rolled back or deleted" in shown(app.dashboard.details.body)
