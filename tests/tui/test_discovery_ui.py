"""`D` in the dashboard: discovery every few minutes over loopback to the simulator adds
the connection's recent RDS, CCE, CBR and ELB jobs, says how many, and the header shows it."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from jobdash.api.client import JobsClient
from jobdash.services.registry import service
from jobdash.tui.app import JobDashApp
from jobdash.watch.values import WatchKey
from tests.tui.conftest import SimDashboard, record_toasts, shown, wait_until

SIZE = (120, 36)
LISTED = ("cbr", "cce", "elb", "rds")


def _client_for(http: httpx.AsyncClient) -> Callable[[WatchKey], JobsClient]:
    def client_for(key: WatchKey) -> JobsClient:
        return JobsClient(http, key.endpoint, key.project_id, service=service(key.service))

    return client_for


def _app(dash: SimDashboard) -> JobDashApp:
    return dash.app(client_for=_client_for(dash.http))


def _header(app: JobDashApp) -> str:
    return shown(app.dashboard.header)


def _watched(app: JobDashApp) -> set[tuple[str, str]]:
    return {(key.service, key.job_id) for key in app.watchlist.entries}


async def test_d_turns_discovery_on_adds_recent_jobs_and_off_again(dash: SimDashboard) -> None:
    sim = dash.sim
    first = {(name, sim.create_service_job(name, fail_count=0)) for name in LISTED}
    app = _app(dash)
    app.discovery_interval = 0.3
    toasts = record_toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        assert "discovering" not in _header(app)
        await pilot.press("D")
        await wait_until(pilot, lambda: _watched(app) == first, "the first discovery")
        assert "discovering every 1 min" in _header(app)
        await wait_until(pilot, lambda: any(t.title == "Discovery" for t in toasts), "a toast")
        assert next(t.message for t in toasts if t.title == "Discovery") == "4 jobs added."

        later = (("rds", sim.create_service_job("rds", fail_count=0)),)
        await wait_until(pilot, lambda: _watched(app) == first | set(later), "the next round")
        await wait_until(
            pilot, lambda: "1 job added." in [t.message for t in toasts], "the second toast"
        )

        await pilot.press("D")
        assert "discovering" not in _header(app)
        assert toasts[-1].message == "Discovery is off."
        sim.create_service_job("cce", fail_count=0)
        await pilot.pause(0.8)
        assert _watched(app) == first | set(later)


async def test_a_removed_job_is_not_discovered_again(dash: SimDashboard) -> None:
    job_id = dash.sim.create_service_job("rds", fail_count=0)
    app = _app(dash)
    app.discovery_interval = 0.2
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("D")
        await wait_until(pilot, lambda: _watched(app) == {("rds", job_id)}, "the discovery")
        key = next(iter(app.watchlist.entries))
        await app.watchlist.remove([key])
        await pilot.pause(0.7)  # a few more rounds
        assert _watched(app) == set()


async def test_a_failing_list_is_told_and_the_others_added(dash: SimDashboard) -> None:
    sim = dash.sim
    started = {name: sim.create_service_job(name, fail_count=0) for name in LISTED}
    sim.inject("server_error", count=1, job_id="")
    app = _app(dash)
    toasts = record_toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("D")
        await wait_until(pilot, lambda: any(t.title == "Discovery" for t in toasts), "a toast")
        toast = next(t for t in toasts if t.title == "Discovery")
        assert toast.severity == "warning"
        assert toast.message.startswith("3 jobs added.")
        assert "HTTP 500" in toast.message
        assert len(_watched(app)) == 3
        assert _watched(app) < set(started.items())


async def test_without_a_way_to_send_discovery_says_so(dash: SimDashboard) -> None:
    app = dash.app()  # no client_for: nothing to list with
    toasts = record_toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("D")
        await pilot.pause()
        assert "discovering" not in _header(app)
        assert toasts[-1].severity == "warning"
        assert "own connection" in toasts[-1].message


@pytest.mark.parametrize("query", ["discover"])
async def test_discovery_is_in_the_command_palette(dash: SimDashboard, query: str) -> None:
    dash.sim.create_service_job("elb", fail_count=0)
    app = _app(dash)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*query)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.watchlist.entries) == 1, "the discovery")
        assert "discovering" in _header(app)
