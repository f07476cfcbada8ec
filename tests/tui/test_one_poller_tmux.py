"""End to end: two terminals and a browser tab of `jobdash serve` on one watchlist, one
poller among them, read off the screens like a user; the simulator counts the requests."""

from __future__ import annotations

import asyncio
import re
import shlex
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_helpers import Served, kill_leftovers
from tmux_helpers import Tmux, tmux_server

from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.watch.values import WatchEntry, WatchKey

aiohttp = pytest.importorskip("aiohttp")

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

WIDTH, HEIGHT = 150, 30
INTERVAL = 0.5
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


@pytest.fixture
def terminals(tmp_path: Path) -> Iterator[tuple[Tmux, Tmux]]:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    with tmux_server(tmp_path / "one") as one, tmux_server(tmp_path / "two") as two:
        yield one, two


def ui_command(env: dict[str, str], sim: Simulator) -> str:
    settings = [shlex.quote(f"{k}={v}") for k, v in env.items() if k.startswith(("XDG_", "HOME"))]
    flags = shlex.join(
        ["--endpoint", sim.url, "--project-id", sim.project_id, "--interval", str(INTERVAL)]
    )
    return (
        f"env -u COLUMNS -u LINES {' '.join(settings)} TERM=xterm-256color "
        f"OS_AUTH_TOKEN={shlex.quote(sim.credentials.token)} "
        f"{sys.executable} -m jobdash ui {flags}"
    )


async def read_tab(url: str, wanted: str, seconds: float = 60) -> str:
    """Open a tab's websocket as the page does; the screen text once `wanted` shows."""
    base, token = url.split("/?token=")
    ws_url = base.replace("http://", "ws://") + f"/ws?token={token}&width={WIDTH}&height=40"
    raw = b""
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url) as ws:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                message = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            if message.type == aiohttp.WSMsgType.BINARY:
                raw += message.data
                text = ANSI.sub("", raw.decode("utf-8", "replace"))
                if wanted in text:
                    return text
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
    raise AssertionError(f"the tab never showed {wanted!r}")


def test_two_terminals_and_a_browser_tab_share_one_poller(
    terminals: tuple[Tmux, Tmux],
    simulator: Simulator,
    subprocess_env: dict[str, str],
    tmp_path: Path,
) -> None:
    job_id = simulator.create_servers(3, "shared", fail_count=1, duration=(60.0, 60.0))
    key = WatchKey(simulator.url, simulator.project_id, job_id)
    with Store() as store:
        store.add([WatchEntry(key, "shared batch")])
    first, second = terminals
    first.start(ui_command(subprocess_env, simulator), WIDTH, HEIGHT)
    first.wait_for(lambda s: "«shared batch»" in s and "createServer" in s, "the first dashboard")
    second.start(ui_command(subprocess_env, simulator), WIDTH, HEIGHT)
    with Store() as store:
        holder = store.read_lease(time.time()).holder
    assert holder is not None
    note = f"following {holder.label}"
    second.wait_for(lambda s: note in s, "the second terminal to follow the first")
    assert "following" not in first.screen()

    env = {**subprocess_env, "OS_AUTH_TOKEN": simulator.credentials.token}
    flags = ["--endpoint", simulator.url, "--project-id", simulator.project_id]
    served = Served(["--port", "0", *flags], env, tmp_path)
    children: list[int] = []
    try:
        url = served.wait_for_url()
        tab = asyncio.run(read_tab(url, note))
        assert "shared batch" in tab
        children = served.children()
        # Three dashboards, one poller: the job is asked for at one dashboard's pace.
        before = simulator.request_count(job_id)
        time.sleep(4.0)
        asked = simulator.request_count(job_id) - before
        assert 0 < asked <= 4.0 / INTERVAL + 3, f"{asked} requests in 4 s"
        with Store() as store:
            assert store.read_lease(time.time()).holder == holder
        # The job ends: the follower in the other terminal shows it, fetched by the first.
        simulator.advance(120)
        second.wait_for(lambda s: "✗ createServer" in s, "the failure in the follower")
        first.wait_for(lambda s: "✗ createServer" in s, "the failure in the poller")
    finally:
        if served.process.poll() is None:
            served.stop(signal.SIGTERM)
        kill_leftovers(children)
