"""Fixtures for the dashboard tests: a real SQLite store, a simulator on a loopback socket
with a manual clock, and apps built on them with everything injected."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static
from tui_sample import ENDPOINT, FROZEN, PROJECT, fill_store

from jobdash.api.client import JobsClient
from jobdash.poll.poller import Poller
from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.tui.app import JobDashApp
from jobdash.tui.context import DashboardContext
from jobdash.tui.still import StillPoller
from jobdash.watch.values import PollUpdate, WatchEntry, WatchKey

SIZE = (120, 40)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "watchlist.sqlite3") as opened:
        yield opened


@pytest.fixture
def sample_store(store: Store) -> Store:
    fill_store(store)
    return store


@pytest.fixture
def still_app(sample_store: Store) -> JobDashApp:
    """The sample watchlist, a frozen clock and a poller that never fetches."""
    return JobDashApp(
        DashboardContext(
            store=sample_store,
            poller_factory=lambda _on_update: StillPoller(),
            connection_description=f"otc eu-de · project {PROJECT[:8]} · {ENDPOINT}",
            clock=lambda: FROZEN,
            endpoint=ENDPOINT,
            project_id=PROJECT,
            bell_on_fail=False,
        )
    )


@pytest.fixture
def simulator(simulator_factory: Callable[..., Simulator]) -> Simulator:
    """The shared simulator, at the frozen clock of the dashboard's tests."""
    return simulator_factory(start_time=FROZEN, seed=11, fail_rate=0.0)


@pytest.fixture
async def sim_http(simulator: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"X-Auth-Token": simulator.credentials.token}
    async with httpx.AsyncClient(headers=headers) as http:
        yield http


class SimDashboard:
    """Builds apps watching the simulator; keeps hold of the poller for assertions."""

    def __init__(self, sim: Simulator, http: httpx.AsyncClient, store: Store) -> None:
        self.sim = sim
        self.http = http
        self.store = store
        self.poller: Poller | None = None

    def key(self, job_id: str) -> WatchKey:
        return WatchKey(self.sim.url, self.sim.project_id, job_id)

    def watch(self, job_id: str, label: str | None = None) -> WatchKey:
        key = self.key(job_id)
        self.store.add([WatchEntry(key, label)])
        return key

    def app(self, **options: Any) -> JobDashApp:
        """`poller_now`: the poller's clock (the simulator's by default, like `clock`)."""
        poller_now = options.pop("poller_now", self.sim.now)

        def factory(on_update: Callable[[PollUpdate], None]) -> Poller:
            self.poller = Poller(
                lambda key: JobsClient(self.http, key.endpoint, key.project_id),
                on_update=on_update,
                interval=0.05,
                max_interval=0.2,
                now=poller_now,
            )
            return self.poller

        settings: dict[str, Any] = {
            "store": self.store,
            "poller_factory": factory,
            "connection_description": f"simulator {self.sim.url}",
            "clock": self.sim.now,
            "endpoint": self.sim.url,
            "project_id": self.sim.project_id,
            "bell_on_fail": False,
            "store_check_interval": 0.1,
        }
        settings.update(options)
        return JobDashApp(DashboardContext(**settings))


@pytest.fixture
def dash(simulator: Simulator, sim_http: httpx.AsyncClient, store: Store) -> SimDashboard:
    return SimDashboard(simulator, sim_http, store)


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], what: str) -> None:
    """Let the app run until `condition` holds; fail with `what` if it never does."""
    for _ in range(400):
        if condition():
            return
        await pilot.pause(0.025)
    raise AssertionError(f"gave up waiting for {what}")


def shown(widget: Static, width: int = 200) -> str:
    """The text a Static widget displays, without styling."""
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, force_terminal=False)
    console.print(widget.content)
    return out.getvalue()


@dataclass(frozen=True)
class Toast:
    message: str
    title: str
    severity: str


def record_toasts(app: App[Any]) -> list[Toast]:
    """Keep every notification the app shows, in order (install before running the app)."""
    toasts: list[Toast] = []
    original = app.notify

    def notify(message: str, *, title: str = "", severity: Any = "information", **kw: Any) -> None:
        toasts.append(Toast(str(message), title, str(severity)))
        original(message, title=title, severity=severity, **kw)

    app.notify = notify  # type: ignore[method-assign]
    return toasts
