"""The demo's clocks: its simulator runs fast, and that is the jobs' time only. How long ago
something was fetched, and the time in an export's name, are this machine's (wall clock).
The demo's two regions have job and server ids of their own."""

from __future__ import annotations

import re
import time
from argparse import Namespace
from datetime import UTC, datetime

import httpx
from conftest import wait_until
from textual.widgets import Input

from jobdash.api.model import JobStatus
from jobdash.auth.methods import TokenAuth
from jobdash.connections.connection import http_pool
from jobdash.tui.app import JobDashApp
from jobdash.tui.demo import demo_world
from jobdash.tui.launch import demo_app
from jobdash.tui.view import JobRow
from jobdash.watch.values import WatchKey

SPEED = 60.0


def _screen_text(app: JobDashApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def _seconds(text: str, pattern: str) -> int:
    found = re.search(pattern, text)
    assert found is not None, f"{pattern!r} not on screen:\n{text}"
    return int(found.group(1))


def _batch(app: JobDashApp) -> WatchKey:
    return next(k for k, e in app.watchlist.entries.items() if e.label == "web tier x20")


async def test_fetch_ages_and_the_export_name_run_on_the_wall_clock() -> None:
    with demo_world(speed=SPEED, seed=7) as (sim, store):
        http, transport = http_pool(20, True, auth=TokenAuth(sim.credentials.token))
        async with http:
            app = demo_app(Namespace(interval=0.3), sim, store, http, transport)
            async with app.run_test(size=(140, 45)) as pilot:
                batch = _batch(app)

                def failed() -> bool:
                    job = app.watchlist.job(batch)
                    return job is not None and job.status == JobStatus.FAIL

                await wait_until(pilot, failed, "the demo's batch to fail")
                app.dashboard.job_tree.go_to(JobRow(batch))
                await pilot.press("p")  # paused: from here on the fetch only ages
                await pilot.pause(2.2)
                wall = datetime.now(UTC)
                # The simulator is well ahead of this machine by now...
                assert (sim.now() - wall).total_seconds() > 30
                # ...and the dashboard's fetch times are not.
                fetched = app.watchlist.snapshots[batch].fetched_at
                assert fetched is not None
                assert abs((wall - fetched).total_seconds()) < 4, (fetched, wall)
                screen = _screen_text(app)
                assert _seconds(screen, r"refreshed (\d+)s ago") <= 4, screen
                assert _seconds(screen, r"fetched .*\((\d+)s ago\)") <= 4, screen
                # The job's own running time is the simulator's: its sub-jobs ran for tens of
                # simulated seconds within the two real seconds it took.
                job = app.watchlist.job(batch)
                assert job is not None and job.begin_time is not None and job.end_time
                await pilot.press("x")
                await wait_until(
                    pilot, lambda: bool(app.screen.query("#export-path")), "the export dialog"
                )
                path = app.screen.query_one("#export-path", Input).value
                stamp = re.search(r"-(\d{8}-\d{6})\.", path)
                assert stamp is not None, path
                named = datetime.strptime(stamp.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
                assert abs((named - datetime.now(UTC)).total_seconds()) < 5, path


def _ids(base_url: str, project_id: str, token: str, job_ids: list[str]) -> set[str]:
    """The job ids and every sub-job and server id in those jobs, as the simulator serves them."""
    found: set[str] = set()
    with httpx.Client(base_url=base_url, headers={"X-Auth-Token": token}) as client:
        for job_id in job_ids:
            body = client.get(f"/v1/{project_id}/jobs/{job_id}").json()
            found.add(body["job_id"])
            for sub in (body.get("entities") or {}).get("sub_jobs") or []:
                found.add(sub["job_id"])
                server = (sub.get("entities") or {}).get("server_id")
                if server:
                    found.add(server)
    return found


def test_the_demo_regions_have_job_and_server_ids_of_their_own() -> None:
    # Fast enough that every sub-job (and so its server) has begun a moment later.
    with demo_world(speed=600.0, seed=7) as (sim, store):
        time.sleep(0.5)
        by_endpoint: dict[str, list[WatchKey]] = {}
        for entry in store.entries():
            by_endpoint.setdefault(entry.key.endpoint, []).append(entry.key)
        assert len(by_endpoint) == 2, by_endpoint
        token = sim.credentials.token
        seen = []
        for endpoint, keys in by_endpoint.items():
            ecs = [k.job_id for k in keys if k.service == "ecs"]
            seen.append(_ids(endpoint, keys[0].project_id, token, ecs))
        first, second = seen
        assert len(first) > 20 and len(second) > 4  # servers as well as jobs
        assert not first & second, sorted(first & second)
