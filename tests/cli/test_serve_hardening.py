"""`jobdash serve` against what a careless script or a hostile client sends, and what a
user on another machine or in a room without internet meets: the tab limit, odd query
values, over-long requests, SIGHUP, the page's title, font and addresses.

The server runs as a real process; tabs are opened over its websocket as the page does.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import httpx
import pytest
from browser import ANSI, chromium, chromium_binary, open_page
from serve_helpers import HAVE_PROC, URL, Served, kill_leftovers, wait_until_gone

from jobdash.cli import build_parser
from jobdash.cli.serve import DEFAULT_MAX_TABS
from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.watch.values import WatchEntry, WatchKey

needs_proc = pytest.mark.skipif(not HAVE_PROC, reason="needs /proc to see the server's children")

UPGRADE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


@pytest.fixture
def serve(subprocess_env: dict[str, str]) -> Iterator[list[Served]]:
    """Started servers; whatever a test leaves running is stopped and its children killed."""
    started: list[Served] = []
    yield started
    for served in started:
        children = served.children() if HAVE_PROC else []
        if served.process.poll() is None:
            served.stop(signal.SIGKILL)
        kill_leftovers(children)


def _start_on(
    serve: list[Served],
    simulator: Simulator,
    env: dict[str, str],
    cwd: Path,
    extra: tuple[str, ...] = (),
) -> tuple[Served, str, str]:
    """A server on the saved watchlist (one job in it); (served, base URL, token)."""
    job_id = simulator.create_servers(2, "nightly", fail_count=0)
    store = Store()
    try:
        store.add([WatchEntry(WatchKey(simulator.url, simulator.project_id, job_id), "nightly")])
    finally:
        store.close()
    flags = ["--port", "0", "--endpoint", simulator.url, "--project-id", simulator.project_id]
    served = Served([*flags, *extra], {**env, "OS_AUTH_TOKEN": simulator.credentials.token}, cwd)
    serve.append(served)
    url = served.wait_for_url()
    base, token = url.split("/?token=", 1)
    return served, base, token


def _cookie_client(base: str, token: str) -> httpx.Client:
    port = base.rsplit(":", 1)[1]
    return httpx.Client(base_url=base, timeout=10, cookies={f"jobdash-serve-{port}": token})


async def _open_tab(
    base: str, token: str, wanted: str, timeout: float = 60
) -> tuple[aiohttp.ClientSession, aiohttp.ClientWebSocketResponse]:
    """A tab's websocket, read until its dashboard shows `wanted`; left open."""
    http = aiohttp.ClientSession()
    ws_url = base.replace("http://", "ws://") + f"/ws?token={token}&width=120&height=30"
    ws = await http.ws_connect(ws_url)
    raw = b""
    deadline = time.monotonic() + timeout
    while wanted not in ANSI.sub("", raw.decode("utf-8", "replace")):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            await http.close()
            raise AssertionError(f"the tab never showed {wanted!r}")
        message = await ws.receive(timeout=remaining)
        if message.type == aiohttp.WSMsgType.BINARY:
            raw += message.data
        elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            await http.close()
            raise AssertionError(f"the tab closed before showing {wanted!r}")
    return http, ws


# -- the tab limit -------------------------------------------------------------------------


def test_the_tab_limit_is_small_by_default_and_a_flag_raises_it() -> None:
    parser = build_parser()
    assert 1 <= DEFAULT_MAX_TABS <= 8
    assert parser.parse_args(["serve"]).max_tabs == DEFAULT_MAX_TABS
    assert parser.parse_args(["serve", "--max-tabs", "20"]).max_tabs == 20
    for bad in ("0", "-1", "many"):
        with pytest.raises(SystemExit) as exited:
            parser.parse_args(["serve", "--max-tabs", bad])
        assert exited.value.code == 2


@needs_proc
async def test_a_tab_beyond_the_limit_gets_a_page_saying_why_and_starts_nothing(
    serve: list[Served], subprocess_env: dict[str, str], tmp_path: Path, simulator: Simulator
) -> None:
    served, base, token = _start_on(serve, simulator, subprocess_env, tmp_path, ("--max-tabs", "1"))
    assert "Up to 1 tab at once (--max-tabs)" in served.out
    http, ws = await _open_tab(base, token, "nightly")
    try:
        tabs = served.children()
        assert len(tabs) == 1
        with _cookie_client(base, token) as client:
            page = client.get("/")
            assert page.status_code == 503
            assert page.headers["Content-Type"].startswith("text/html")
            assert "All 1 tab in use" in page.text
            assert "--max-tabs" in page.text
            # A script that skips the page is refused too, before any process starts.
            for _ in range(5):
                refused = client.get("/ws", headers=UPGRADE)
                assert refused.status_code == 503
                assert "--max-tabs" in refused.text
        await asyncio.sleep(0.5)
        assert served.children() == tabs
    finally:
        await ws.close()
        await http.close()
    # Its slot comes back when the tab is closed.
    assert wait_until_gone(tabs) == []
    with _cookie_client(base, token) as client:
        deadline = time.monotonic() + 20
        while (status := client.get("/").status_code) != 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert status == 200
    assert served.stop(signal.SIGTERM) == 0
    assert served.err == ""


# -- odd and hostile requests --------------------------------------------------------------


def test_an_odd_fontsize_is_a_clear_400_without_a_traceback(
    serve: list[Served], subprocess_env: dict[str, str], tmp_path: Path, simulator: Simulator
) -> None:
    served, base, token = _start_on(serve, simulator, subprocess_env, tmp_path)
    with _cookie_client(base, token) as client:
        for odd in ("²", "٣", "0", "5", "73", "100000000000000000000", "-3", "1.5", "x", ""):
            answer = client.get("/", params={"fontsize": odd})
            assert answer.status_code == 400, odd
            assert "fontsize must be a whole number of pixels from 6 to 72" in answer.text
        fine = client.get("/", params={"fontsize": "14"})
        assert fine.status_code == 200
        assert 'data-font-size="14"' in fine.text
        assert 'data-font-size="16"' in client.get("/").text
    assert served.stop(signal.SIGTERM) == 0
    assert "Traceback" not in served.err
    assert served.err == ""


def _raw_request(base: str, head: str) -> bytes:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head.encode())
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_an_over_long_request_is_refused_without_logging_the_token(
    serve: list[Served], subprocess_env: dict[str, str], tmp_path: Path, simulator: Simulator
) -> None:
    served, base, token = _start_on(serve, simulator, subprocess_env, tmp_path)
    port = base.rsplit(":", 1)[1]
    pad = "a" * 9000
    host = f"Host: 127.0.0.1:{port}\r\nConnection: close\r\n"
    long_line = f"GET /?token={token}&pad={pad} HTTP/1.1\r\n{host}\r\n"
    long_cookie = f"GET / HTTP/1.1\r\n{host}Cookie: jobdash-serve-{port}={token}; p={pad}\r\n\r\n"
    for head in (long_line, long_cookie):
        status_line = _raw_request(base, head).split(b"\r\n", 1)[0]
        assert status_line.split()[1] == b"400", status_line
    # The server still serves.
    with _cookie_client(base, token) as client:
        assert client.get("/").status_code == 200
    assert served.stop(signal.SIGTERM) == 0
    assert token not in served.err
    assert token[:8] not in served.err
    assert "Traceback" not in served.err
    assert served.err.count("jobdash serve: refused a malformed request from 127.0.0.1") == 2


# -- stopping ------------------------------------------------------------------------------


@needs_proc
async def test_sighup_stops_the_tabs_and_removes_the_session_file(
    serve: list[Served], subprocess_env: dict[str, str], tmp_path: Path, simulator: Simulator
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**subprocess_env, "TMPDIR": str(temp)}
    served, base, token = _start_on(serve, simulator, env, tmp_path)
    workdirs = list(temp.glob("jobdash-serve-*"))
    assert len(workdirs) == 1
    assert (workdirs[0] / "session.json").exists()
    http, ws = await _open_tab(base, token, "nightly")
    try:
        tabs = served.children()
        assert len(tabs) == 1
        code = await asyncio.to_thread(served.stop, signal.SIGHUP)
    finally:
        await ws.close()
        await http.close()
    assert code == 0, served.err
    assert served.err == ""
    assert wait_until_gone(tabs) == []
    assert list(temp.iterdir()) == []


# -- the page ------------------------------------------------------------------------------


def test_the_page_has_a_title_and_loads_nothing_from_another_host(
    serve: list[Served], subprocess_env: dict[str, str], tmp_path: Path, simulator: Simulator
) -> None:
    served, base, token = _start_on(serve, simulator, subprocess_env, tmp_path)
    with _cookie_client(base, token) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert "<title>jobdash</title>" in page.text
        urls = re.findall(r"""(?:[a-z]+:)?//[^\s"'<>)]+""", page.text)
        assert urls, page.text
        here = urlsplit(base).netloc
        assert [url for url in urls if urlsplit(url).netloc != here] == []
        # The terminal's font, served here.
        fonts = re.findall(r"""url\("([^"]+\.ttf)"\)""", page.text)
        assert fonts
        for font in fonts:
            answer = client.get(font)
            assert answer.status_code == 200
            assert len(answer.content) > 10_000
    assert served.stop(signal.SIGTERM) == 0


@needs_proc
@pytest.mark.skipif(chromium_binary() is None, reason="chromium is not installed")
async def test_in_a_browser_the_tab_is_titled_and_every_request_stays_on_the_server(
    serve: list[Served], subprocess_env: dict[str, str], tmp_path: Path, simulator: Simulator
) -> None:
    served, base, token = _start_on(serve, simulator, subprocess_env, tmp_path)
    async with (
        chromium(tmp_path / "profile") as (http, devtools),
        open_page(http, devtools) as page,
    ):
        await page.call("Page.navigate", url=f"{base}/?token={token}")
        await page.wait_for_text("nightly")
        await page.wait_for_class("-first-byte")
        assert await page.evaluate("document.title") == "jobdash"
        # The terminal's first font is declared by the page and loaded from the server.
        faces = "[...document.fonts].filter(f => f.family.includes('Roboto Mono'))"
        assert await page.evaluate(f"{faces}.map(f => f.status)") == ["loaded"]
        assert page.requested_urls
        outside = [u for u in page.requested_urls if not u.startswith(base + "/")]
        assert outside == []
        await asyncio.sleep(1)  # still titled after the dashboard has run a while
        assert await page.evaluate("document.title") == "jobdash"
    assert await asyncio.to_thread(served.stop, signal.SIGTERM) == 0


# -- the addresses -------------------------------------------------------------------------


def _ipv4_addresses() -> list[str]:
    """This machine's IPv4 addresses beyond loopback, as `hostname -I` lists them."""
    if shutil.which("hostname") is None:
        return []
    listed = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    found = []
    for text in listed:
        address = ipaddress.ip_address(text)
        if address.version == 4 and not address.is_loopback and not address.is_link_local:
            found.append(text)
    return found


def test_on_every_address_the_urls_name_the_machines_addresses(
    serve: list[Served], subprocess_env: dict[str, str], tmp_path: Path, simulator: Simulator
) -> None:
    addresses = _ipv4_addresses()
    if not addresses:
        pytest.skip("this machine has no IPv4 address beyond loopback")
    served, _, _ = _start_on(serve, simulator, subprocess_env, tmp_path, ("--host", "0.0.0.0"))
    urls = [found.group(0) for found in URL.finditer(served.out)]
    assert urls[0].startswith(f"http://{socket.gethostname()}:")
    for address in addresses:
        matching = [url for url in urls if url.startswith(f"http://{address}:")]
        assert matching, (address, served.out)
        # And the printed URL works from that address.
        with httpx.Client(timeout=10) as client:
            answer = client.get(matching[0])
            assert answer.status_code == 303
    assert not any("127.0.0.1" in url for url in urls)
    assert served.stop(signal.SIGTERM) == 0
