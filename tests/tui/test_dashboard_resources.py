"""The dashboard and other services' resources behind failed jobs, against the simulator:
a failed EVS batch fetches its failed volume once (its name and status in the row, a Volume
section in the details), a failed RDS job its instance (in the job's details), and a volume
deleted since its failure shows as gone."""

from __future__ import annotations

from collections.abc import Callable

from conftest import SIZE, SimDashboard, shown, wait_until

from jobdash.api.client import JobsClient
from jobdash.poll.poller import Poller, PollUpdate
from jobdash.services.registry import service
from jobdash.store.core import Store
from jobdash.tui.app import JobDashApp
from jobdash.tui.view import JobRow, SubJobRow
from jobdash.watch.values import WatchEntry, WatchKey


def _watch(dash: SimDashboard, name: str, job_id: str) -> WatchKey:
    key = WatchKey(dash.sim.url, dash.sim.project_id, job_id, name)
    dash.store.add([WatchEntry(key, None)])
    return key


def _app(dash: SimDashboard) -> JobDashApp:
    def factory(on_update: Callable[[PollUpdate], None]) -> Poller:
        dash.poller = Poller(
            lambda key: JobsClient(
                dash.http, key.endpoint, key.project_id, service=service(key.service)
            ),
            on_update=on_update,
            interval=0.05,
            max_interval=0.2,
            now=dash.sim.now,
        )
        return dash.poller

    return dash.app(poller_factory=factory)


async def test_a_failed_volume_is_fetched_once_and_shown(dash: SimDashboard) -> None:
    job_id = dash.sim.create_service_job("evs", 3, name="data", fail_count=1, duration=(10, 20))
    dash.sim.advance(60)
    key = _watch(dash, "evs", job_id)
    app = _app(dash)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.watchlist.servers) > 0, "the volume's details")
        job = app.watchlist.job(key)
        assert job is not None and job.failed
        (failed,) = [sub for sub in job.sub_jobs if sub.failed]
        info = app.watchlist.servers.for_sub(key, failed)
        assert info is not None and (info.kind, info.status) == ("volume", "error")
        for _ in range(3):
            app.dashboard.poller.refresh(key)  # type: ignore[union-attr]
            await pilot.pause(0.1)
        assert dash.sim.server_request_count() == 1
        row = app.dashboard.job_tree.next_failed()
        assert isinstance(row, SubJobRow)
        app.dashboard.job_tree.go_to(row)
        await wait_until(pilot, lambda: app.dashboard.details.shown == row, "the details")
        node = app.dashboard.job_tree.cursor_node
        assert node is not None and f"volume {info.name} error" in node.label.plain
        details = shown(app.dashboard.details.body)
        assert "Volume" in details and "volume_id" in details and info.server_id in details
        assert "error" in details and "Server" not in details
    with Store(dash.store.path) as reopened:
        assert [(s.kind, s.status) for s in reopened.servers()] == [("volume", "error")]


async def test_a_failed_instance_shows_in_the_jobs_details(dash: SimDashboard) -> None:
    job_id = dash.sim.create_service_job(
        "rds", name="orders", kind="create", fail_count=1, duration=(10, 20)
    )
    dash.sim.advance(60)
    key = _watch(dash, "rds", job_id)
    app = _app(dash)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.watchlist.servers) > 0, "the instance")
        app.dashboard.job_tree.go_to(JobRow(key))
        await wait_until(
            pilot, lambda: "instance_id" in shown(app.dashboard.details.body), "the details"
        )
        details = shown(app.dashboard.details.body)
        assert "Instance" in details and "instance_id" in details
        assert "FAILED" in details and "orders" in details
        assert dash.sim.server_request_count() == 1


async def test_a_volume_deleted_since_its_failure_shows_as_gone(dash: SimDashboard) -> None:
    job_id = dash.sim.create_service_job("evs", name="tmp", fail_count=1, duration=(5, 5))
    dash.sim.advance(30)
    evs = JobsClient(dash.http, dash.sim.url, dash.sim.project_id, service=service("evs"))
    volume = (await evs.get_job(job_id)).resource_id
    assert volume
    dash.sim.create_service_job(
        "evs", kind="delete", fail_count=0, duration=(5, 5), resource_ids=[volume]
    )
    dash.sim.advance(30)
    key = _watch(dash, "evs", job_id)
    app = _app(dash)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.watchlist.servers) > 0, "the volume")
        info = app.watchlist.servers.get(key, volume)
        assert info is not None and info.gone and info.kind == "volume"
        app.dashboard.job_tree.go_to(JobRow(key))
        await wait_until(
            pilot, lambda: "GONE" in shown(app.dashboard.details.body), "the gone volume"
        )
        details = shown(app.dashboard.details.body)
        assert "Volume" in details and "no longer exists" in details
