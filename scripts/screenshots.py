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
from datetime import UTC, datetime
from pathlib import Path

import httpx
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from jobdash.api.client import JobsClient
from jobdash.poll.poller import Poller
from jobdash.services.registry import service as lookup_service
from jobdash.simulator import Simulator, SimulatorConfig
from jobdash.store.core import Store
from jobdash.tui.app import JobDashApp
from jobdash.tui.context import DashboardContext
from jobdash.tui.demo import DemoJob, DemoScenario, seed_history
from jobdash.tui.still import StillPoller
from jobdash.watch.servers import ServerJoin, fetch_all
from jobdash.watch.values import WatchEntry, WatchKey

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
#: Simulated seconds between creating the jobs and taking the pictures.
ELAPSED = 90.0
#: What the pictures show as the endpoint (the simulator's own URL has a random port).
SHOWN_ENDPOINT = "https://ecs.eu-de.otc.t-systems.com"
SIZE = (120, 36)
#: The checkout this script is in: the pictures go to its screenshots/ wherever it is run.
REPOSITORY = Path(__file__).resolve().parents[1]

Steps = Callable[[Pilot[int]], Awaitable[None]]


async def _fetch_into(store: Store, sim: Simulator, keys: list[WatchKey]) -> None:
    """One fetch of every job from the simulator, and of the servers behind its failures,
    recorded in the store."""
    async with httpx.AsyncClient(headers={"X-Auth-Token": sim.credentials.token}) as http:
        poller = Poller(
            lambda key: JobsClient(
                http, sim.url, key.project_id, service=lookup_service(key.service)
            ),
            store=store,
            now=sim.now,
        )
        updates = await poller.refresh_all_once(keys)
        join = ServerJoin()
        requests = [request for u in updates for request in join.wanted(u.key, u.job)]
        for info in await fetch_all(poller, join, requests, now=sim.now):
            store.record_server(info)
        await poller.aclose()


def _prepare(workdir: Path) -> tuple[Store, datetime, str]:
    config = SimulatorConfig(manual_clock=True, start_time=START, seed=7)
    with Simulator(config) as sim:
        with DemoScenario(sim.url, sim.project_id, sim.credentials.token) as scenario:
            jobs: list[DemoJob] = scenario.run()
        sim.advance(ELAPSED)
        store = Store(workdir / "screenshots.sqlite3")
        seed_history(store, START, seed=7)
        keys = [WatchKey(SHOWN_ENDPOINT, sim.project_id, job.job_id, job.service) for job in jobs]
        store.add(WatchEntry(key, job.label) for key, job in zip(keys, jobs, strict=True))
        asyncio.run(_fetch_into(store, sim, keys))
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


async def _nothing(pilot: Pilot[int]) -> None:
    return None


async def _first_failure(pilot: Pilot[int]) -> None:
    await pilot.press("n")


async def _failed_batch(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, JobDashApp)
    for node in app.dashboard.job_tree.root.children:
        job = app.watchlist.job(node.data.key)  # type: ignore[union-attr]
        if job is not None and job.failed_sub_jobs:
            app.dashboard.job_tree.go_to(node.data)  # type: ignore[arg-type]
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
    "overview": _nothing,
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
