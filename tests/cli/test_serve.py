"""`jobdash serve`: the dashboard in a real browser, the access token, and stopping cleanly.

The server runs as a real process; the browser is Debian's Chromium, headless, driven
over its DevTools websocket; the 403s are checked with httpx like any client would see them.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import httpx
import pytest
from browser import ANSI, background_share, chromium, chromium_binary, open_page, png_pixels
from cli_helpers import run_cli
from serve_helpers import (
    HAVE_PROC,
    Served,
    command_line,
    kill_leftovers,
    wait_until_gone,
)

from jobdash.cli.serve import forwarded_flags, is_loopback
from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.watch.values import WatchEntry, WatchKey
from jobdash.web.session import SharedDemo, TabSession

needs_proc = pytest.mark.skipif(not HAVE_PROC, reason="needs /proc to see the server's children")

#: Set to a path (e.g. screenshots/web.png, from the repository) to keep the browser
#: test's screenshot there: that is how the README's picture is made.
SCREENSHOT_ENV = "JOBDASH_WEB_SCREENSHOT"
REPOSITORY = Path(__file__).resolve().parents[2]

UPGRADE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


def _split(url: str) -> tuple[str, str]:
    base, token = url.split("/?token=", 1)
    return base, token


@pytest.fixture
def serve(subprocess_env: dict[str, str], tmp_path: Path) -> Iterator[list[Served]]:
    """Started servers; whatever a test leaves running is stopped and its children killed."""
    started: list[Served] = []
    yield started
    for served in started:
        children = served.children() if HAVE_PROC else []
        if served.process.poll() is None:
            served.stop(signal.SIGKILL)
        kill_leftovers(children)


def _start(
    serve: list[Served], args: list[str], env: dict[str, str], cwd: Path
) -> tuple[Served, str]:
    served = Served(["--port", "0", *args], env, cwd)
    serve.append(served)
    return served, served.wait_for_url()


def _watchlist_env(env: dict[str, str], sim: Simulator) -> dict[str, str]:
    # The token comes from the environment; endpoint and project come as flags, which the
    # server must hand on to each tab's dashboard.
    return {**env, "OS_AUTH_TOKEN": sim.credentials.token}


def _watch_a_batch(sim: Simulator, label: str) -> str:
    job_id = sim.create_servers(3, "nightly", fail_count=0)
    store = Store()
    try:
        store.add([WatchEntry(WatchKey(sim.url, sim.project_id, job_id), label)])
    finally:
        store.close()
    return job_id


# -- in a browser --------------------------------------------------------------------------


@needs_proc
@pytest.mark.skipif(
    chromium_binary() is None,
    reason="chromium is not installed (.ci/run installs it: apt-get install chromium)",
)
async def test_browser_tabs_show_the_demo_on_one_simulator_and_ctrl_c_ends_them(
    serve: list[Served], subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    served, url = _start(serve, ["--demo"], subprocess_env, tmp_path)
    _, token = _split(url)
    async with (
        chromium(tmp_path / "profile") as (http, devtools),
        open_page(http, devtools) as first,
        open_page(http, devtools) as second,
    ):
        await first.call("Page.navigate", url=url)
        text = await first.wait_for_text("web tier x20")
        assert "jobdash demo" in text
        assert "-first-byte" in (await first.wait_for_class("-first-byte")).split()
        assert first.handshake_statuses == [101]
        # The token went into a cookie; the address bar no longer shows it.
        assert await first.evaluate("location.search") == ""
        assert token not in str(await first.evaluate("location.href"))

        # A failed sub-job with its error code, then the picture for the README.
        await first.wait_for_text("Ecs.")
        # The dashboard painted, not an empty page: many colours, no one colour dominant.
        # The terminal paints on a later animation frame, which a busy machine delays.
        for _ in range(20):
            await asyncio.sleep(0.5)
            width, height, pixels = png_pixels(await first.screenshot(tmp_path / "web.png"))
            if background_share(pixels) < 0.9 and len(set(pixels)) > 16:
                break
        assert (width, height) == (1280, 760)
        assert background_share(pixels) < 0.9
        assert len(set(pixels)) > 16
        if os.environ.get(SCREENSHOT_ENV):
            shutil.copyfile(tmp_path / "web.png", REPOSITORY / os.environ[SCREENSHOT_ENV])

        # A second tab: its own dashboard, on the same simulator, following the first's
        # poller (its header says so, which leaves less room for the simulator's address).
        await second.call("Page.navigate", url=url)
        await second.wait_for_text("web tier x20")
        await second.wait_for_text("following")
        simulators = {
            found
            for page in (first, second)
            for found in re.findall(r"simulator (http://127\.0\.0\.1:\d+)", page.terminal_text())
        }
        assert len(simulators) == 1, simulators
        tabs = served.children()
        assert len(tabs) == 2, [command_line(pid) for pid in tabs]
        for pid in tabs:
            argv = command_line(pid)
            assert "jobdash.tui.web_tab" in argv, argv
            assert not any(token in part for part in argv)
            session_file = Path(argv[-1])
            assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
        workdir = session_file.parent

        code = await asyncio.to_thread(served.stop, signal.SIGINT)
        assert code == 130, served.err
        # Nothing but the banner and the one line: no traceback, no complaint at exit.
        assert served.err.strip() == "jobdash: interrupted"
        assert len(served.out.strip().splitlines()) == 3, served.out
        assert wait_until_gone(tabs) == []
        assert not workdir.exists()
        for page in (first, second):
            await page.wait_for_class("-closed")  # textual-serve's "Session ended."


# -- the token ---------------------------------------------------------------------------


def test_without_the_token_the_page_and_its_websocket_get_403(
    serve: list[Served], subprocess_env: dict[str, str], tmp_path: Path, simulator: Simulator
) -> None:
    flags = ["--endpoint", simulator.url, "--project-id", simulator.project_id]
    served, url = _start(serve, flags, _watchlist_env(subprocess_env, simulator), tmp_path)
    base, token = _split(url)
    assert url.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=base, timeout=10) as client:
        wrong = token[:-1] + ("y" if token.endswith("x") else "x")  # one character off
        for path in ("/", "/?token=" + wrong, "/?token=", "/static/js/textual.js"):
            refused = client.get(path)
            assert refused.status_code == 403, path
            assert "access token" in refused.text
            assert "Set-Cookie" not in refused.headers
        for params in ({}, {"token": token.upper() if token.upper() != token else "x"}):
            upgrade = client.get("/ws", params=params, headers=UPGRADE)
            assert upgrade.status_code == 403, params

        # With the token: a cookie for the tab, and the page without the token in its URL.
        entry = client.get("/", params={"token": token, "fontsize": "14"})
        assert entry.status_code == 303
        assert entry.headers["Location"] == "/?fontsize=14"
        cookie = entry.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        page = client.get("/?fontsize=14")
        assert page.status_code == 200
        assert f'data-session-websocket-url="ws://{base.split("//")[1]}/ws"' in page.text
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert client.get("/static/js/textual.js").status_code == 200

        # A page from another site cannot use the websocket, even with the cookie.
        evil = client.get("/ws", headers={**UPGRADE, "Origin": "http://evil.example"})
        assert evil.status_code == 403
        same = client.get("/ws", headers={**UPGRADE, "Origin": base})
        assert same.status_code == 101
    assert served.stop(signal.SIGINT) == 130


# -- the saved watchlist, and stopping ------------------------------------------------------


async def _read_tab(url: str, wanted: list[str], timeout: float = 60) -> str:
    """Open a tab's websocket like the page does and read until all of `wanted` shows."""
    base, token = _split(url)
    ws_url = base.replace("http://", "ws://") + f"/ws?token={token}&width=150&height=40"
    text = ""
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url) as ws:
        deadline = time.monotonic() + timeout
        raw = b""
        while time.monotonic() < deadline:
            try:
                message = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            if message.type == aiohttp.WSMsgType.BINARY:
                raw += message.data
                text = ANSI.sub("", raw.decode("utf-8", "replace"))
                if all(w in text for w in wanted):
                    return text
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
    raise AssertionError(f"the tab never showed {wanted}; it got:\n{text}")


@needs_proc
@pytest.mark.parametrize(
    ("signum", "exit_code"),
    [(signal.SIGTERM, 0), (signal.SIGKILL, -signal.SIGKILL)],
    ids=["sigterm", "sigkill"],
)
async def test_a_tab_shows_the_saved_watchlist_and_ends_with_the_server(
    serve: list[Served],
    subprocess_env: dict[str, str],
    tmp_path: Path,
    simulator: Simulator,
    signum: int,
    exit_code: int,
) -> None:
    job_id = _watch_a_batch(simulator, "nightly batch")
    flags = ["--endpoint", simulator.url, "--project-id", simulator.project_id]
    served, url = _start(serve, flags, _watchlist_env(subprocess_env, simulator), tmp_path)
    # The job's type comes from a fetch: the tab connected with the forwarded flags.
    text = await _read_tab(url, ["nightly batch", f"createServer {job_id[:8]}"])
    assert "not connected" not in text
    tabs = served.children()
    assert len(tabs) == 1
    # Stop the server while the tab is open: its dashboard must not outlive it.
    code = await asyncio.to_thread(served.stop, signum)
    assert code == exit_code, served.err
    assert wait_until_gone(tabs) == []
    if signum == signal.SIGTERM:
        assert served.err == ""
        assert len(served.out.strip().splitlines()) == 3, served.out


# -- refusing to start ---------------------------------------------------------------------


def test_without_the_web_extra_it_says_how_to_install_it(subprocess_env: dict[str, str]) -> None:
    code = (
        "import sys\n"
        "sys.modules['textual_serve'] = None  # as if the extra were not installed\n"
        "from jobdash.cli import main\n"
        "sys.exit(main(['serve', '--demo']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env
    )
    assert result.returncode == 2
    assert "web extra" in result.stderr
    assert "pip install -e '.[web]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_credentials_it_stops_before_serving(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_cli(["serve", "--port", "0"], capsys, monkeypatch)
    assert result.code == 2
    assert "no credentials found" in result.err
    assert "http://" not in result.out


def test_a_port_in_use_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, simulator: Simulator
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        flags = ["--endpoint", simulator.url, "--project-id", simulator.project_id]
        result = run_cli(["serve", *flags, "--port", str(port)], capsys, monkeypatch, sim=simulator)
    assert result.code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.err
    assert "Traceback" not in result.err


def test_a_port_out_of_range_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit) as exited:
        run_cli(["serve", "--demo", "--port", "70000"], capsys, monkeypatch)
    assert exited.value.code == 2
    assert "between 0 and 65535" in capsys.readouterr().err


def test_beyond_loopback_it_warns_about_the_credentials(
    serve: list[Served], subprocess_env: dict[str, str], tmp_path: Path, simulator: Simulator
) -> None:
    flags = ["--host", "0.0.0.0", "--endpoint", simulator.url]
    flags += ["--project-id", simulator.project_id]
    served, url = _start(serve, flags, _watchlist_env(subprocess_env, simulator), tmp_path)
    assert url.startswith(f"http://{socket.gethostname()}:")
    assert "whoever has the URL below uses the dashboard with your cloud credentials" in " ".join(
        served.err.split()
    )
    port = url.split(":")[2].split("/")[0]
    with httpx.Client(timeout=10) as client:
        assert client.get(f"http://127.0.0.1:{port}/").status_code == 403
    assert served.stop(signal.SIGINT) == 130


# -- parts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("jump-host.example", False),
    ],
)
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_connection_flags_reach_each_tab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jobdash.cli import build_parser

    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(
        ["serve", "--os-cloud", "otc", "--region", "eu-nl", "--ca-file", "ca.pem", "--insecure"]
    )
    assert forwarded_flags(args) == [
        "--os-cloud",
        "otc",
        "--region",
        "eu-nl",
        "--ca-file",
        str(tmp_path.resolve() / "ca.pem"),  # the tab may not share the working directory
        "--insecure",
    ]


def test_a_demo_session_file_is_private_and_carries_the_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = SharedDemo(
        url="http://127.0.0.1:1234",
        project_id="a" * 32,
        project_name="eu-de_demo",
        region="eu-de",
        token="MIIsecret",
        watchlist=str(tmp_path / "w.sqlite3"),
        clock_ms=1_700_000_000_000,
        clock_wall=1000.0,
        speed=2.0,
    )
    path = TabSession(serve_pid=42, demo=demo).write(tmp_path / "session.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    back = TabSession.read(path)
    assert back == TabSession(serve_pid=42, demo=demo)
    assert "MIIsecret" not in repr(back)
    # 10 real seconds later, at speed 2, the simulated clock is 20 s on.
    monkeypatch.setattr("jobdash.web.session.time.time", lambda: 1010.0)
    assert back.demo is not None
    assert (back.demo.now().timestamp() * 1000) - demo.clock_ms == pytest.approx(20_000)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")
def test_a_tab_process_ends_when_its_server_is_killed(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    # Without pipes between them, so only the parent-death signal can end the child.
    pid_file = tmp_path / "child.pid"
    child = (
        "import os, time\n"
        "from jobdash.tui.web_tab import _end_with_parent\n"
        "_end_with_parent(os.getppid())\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "time.sleep(120)\n"
    )
    parent = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {child!r}], stdin=subprocess.DEVNULL,"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "time.sleep(120)\n"
    )
    server = subprocess.Popen([sys.executable, "-c", parent], env=subprocess_env)
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the child never started"
            time.sleep(0.05)
        child_pid = int(pid_file.read_text())
        assert wait_until_gone([child_pid], timeout=0.5) == [child_pid]  # it waits for us
        server.kill()
        server.wait()
        assert wait_until_gone([child_pid]) == []
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if pid_file.exists() and pid_file.read_text():
            kill_leftovers([int(pid_file.read_text())])
