"""Make the README's screenshots: SVGs of the dashboard on the demo's jobs.

Headless and repeatable: the simulator runs on a manual clock from a fixed start, the
demo's jobs are fetched once into a throwaway watchlist, and the dashboard is shown on
that with a frozen clock and no polling. With jobdash installed (`pip install -e .`):

    .venv/bin/python scripts/screenshots.py [--out DIR]

It overwrites the dashboard's SVGs in the repository's screenshots/ folder (or DIR), named
in SHOTS; screenshots/web.png is the browser test's and is left alone.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from textual.pilot import Pilot
from textual.widgets import Input, TextArea
from textual.widgets.tree import TreeNode

from jobdash.api.client import JobsClient
from jobdash.poll.poller import Poller
from jobdash.services.registry import service as lookup_service
from jobdash.simulator import Simulator, SimulatorConfig
from jobdash.store.core import Store
from jobdash.tui.app import JobDashApp
from jobdash.tui.context import DashboardContext
from jobdash.tui.demo import SECOND_REGION, DemoJob, DemoScenario, demo_entries, seed_history
from jobdash.tui.still import StillPoller
from jobdash.tui.view import GroupRow
from jobdash.watch.servers import ServerJoin, fetch_all
from jobdash.watch.values import WatchKey

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
#: Simulated seconds between creating the jobs and taking the pictures.
ELAPSED = 90.0
#: What the pictures show as the endpoints (the simulators' own URLs have random ports):
#: the demo's two regions.
SHOWN_ENDPOINT = "https://ecs.eu-de.otc.t-systems.com"
SHOWN_SECOND = f"https://ecs.{SECOND_REGION}.otc.t-systems.com"
SIZE = (120, 36)
#: The checkout this script is in: the pictures go to its screenshots/ wherever it is run.
REPOSITORY = Path(__file__).resolve().parents[1]

Steps = Callable[[Pilot[int]], Awaitable[None]]


async def _fetch_into(
    store: Store, sims: dict[str, Simulator], token: str, keys: list[WatchKey]
) -> None:
    """One fetch of every job from the simulator of its shown endpoint (`sims`), and of
    the servers behind its failures, recorded in the store."""
    now = next(iter(sims.values())).now
    async with httpx.AsyncClient(headers={"X-Auth-Token": token}) as http:
        poller = Poller(
            lambda key: JobsClient(
                http, sims[key.endpoint].url, key.project_id, service=lookup_service(key.service)
            ),
            store=store,
            now=now,
        )
        updates = await poller.refresh_all_once(keys)
        join = ServerJoin()
        requests = [request for u in updates for request in join.wanted(u.key, u.job)]
        for info in await fetch_all(poller, join, requests, now=now):
            store.record_server(info)
        await poller.aclose()


def _prepare(workdir: Path) -> tuple[Store, datetime, str]:
    """The demo as `jobdash demo` has it: both regions' jobs, one account's token."""
    config = SimulatorConfig(manual_clock=True, start_time=START, seed=7)
    with Simulator(config) as sim, Simulator(replace(config, region=SECOND_REGION)) as sim_nl:
        token = sim.credentials.token
        with DemoScenario(sim.url, sim.project_id, token) as scenario:
            jobs: list[DemoJob] = scenario.run()
        with DemoScenario(sim_nl.url, sim_nl.project_id, token) as scenario:
            jobs_nl: list[DemoJob] = scenario.run_second_region()
        sim.advance(ELAPSED)
        sim_nl.advance(ELAPSED)
        store = Store(workdir / "screenshots.sqlite3")
        seed_history(store, START, seed=7)
        entries = demo_entries(SHOWN_ENDPOINT, sim.project_id, jobs, sim)
        entries += demo_entries(SHOWN_SECOND, sim_nl.project_id, jobs_nl, sim_nl)
        store.add(entries)
        sims = {SHOWN_ENDPOINT: sim, SHOWN_SECOND: sim_nl}
        asyncio.run(_fetch_into(store, sims, token, [entry.key for entry in entries]))
        return store, sim.now(), sim.project_name


async def _shoot(
    store: Store, now: datetime, project: str, out: Path, name: str, steps: Steps
) -> None:
    app = JobDashApp(
        DashboardContext(
            store=store,
            poller_factory=lambda _on_update: StillPoller(),
            connection_description=f"otc eu-de · project {project} · {SHOWN_ENDPOINT}",
            clock=lambda: now,
            endpoint=SHOWN_ENDPOINT,
            project_id="demo",
            bell_on_fail=False,
        )
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await steps(pilot)
        await pilot.pause()
        app.save_screenshot(f"{name}.svg", path=str(out))


async def _every_job(pilot: Pilot[int]) -> None:
    """Every job of both regions on one screen: their sub-jobs folded."""
    for node in _job_nodes(pilot):
        node.collapse()


async def _first_failure(pilot: Pilot[int]) -> None:
    await pilot.press("n")


def _job_nodes(pilot: Pilot[int]) -> list[TreeNode[Any]]:
    """The tree's job rows, under their connections' rows (the demo has two)."""
    app = pilot.app
    assert isinstance(app, JobDashApp)
    nodes = []
    for node in app.dashboard.job_tree.root.children:
        nodes.extend(node.children if isinstance(node.data, GroupRow) else [node])
    return nodes


async def _failed_batch(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, JobDashApp)
    for node in _job_nodes(pilot):
        job = app.watchlist.job(node.data.key)
        if job is not None and job.failed_sub_jobs:
            app.dashboard.job_tree.go_to(node.data)
            return


async def _failed_server(pilot: Pilot[int]) -> None:
    await pilot.press("n")
    await pilot.pause()
    pilot.app.screen.query_one("#details").scroll_end(animate=False)


async def _timeline(pilot: Pilot[int]) -> None:
    await pilot.press("t")


async def _add_dialog(pilot: Pilot[int]) -> None:
    await pilot.press("a")
    screen = pilot.app.screen
    screen.query_one("#add-text", TextArea).insert(
        '{"job_id": "70a599e031e749b7b260868f441e862b", "serverIds": ["..."]}\n'
        "8a1b2c3d4e5f60718293a4b5c6d7e8f9\nsee ticket 4711\n"
    )
    screen.query_one("#add-label", Input).value = "api tier"


async def _help(pilot: Pilot[int]) -> None:
    await pilot.press("question_mark")


SHOTS: dict[str, Steps] = {
    "overview": _every_job,
    "failed-sub-job": _first_failure,
    "failed-server": _failed_server,
    "timeline": _timeline,
    "failure-summary": _failed_batch,
    "add-dialog": _add_dialog,
    "help": _help,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=REPOSITORY / "screenshots",
        help=f"where the SVGs go (default: {REPOSITORY / 'screenshots'}; files of the same"
        f" name there are overwritten: {', '.join(f'{name}.svg' for name in SHOTS)})",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jobdash-shots-") as workdir:
        store, now, project = _prepare(Path(workdir))
        try:
            for name, steps in SHOTS.items():
                asyncio.run(_shoot(store, now, project, args.out, name, steps))
                print(f"wrote {args.out / f'{name}.svg'}")
        finally:
            store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
