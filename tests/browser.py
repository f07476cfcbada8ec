"""Headless Chromium driven over the DevTools protocol (a websocket, no webdriver): open a
page, watch what its websockets receive, read the DOM, take a screenshot."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import shutil
import subprocess
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

#: Flags for a headless run on a machine without a display or outside network.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
)

ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Page:
    """One tab, as the DevTools protocol sees it."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.websocket_frames: list[bytes] = []
        self.handshake_statuses: list[int] = []
        self.requested_urls: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._socket:
            data = json.loads(message.data)
            if "id" in data:
                future = self._waiting.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
            elif data.get("method") == "Network.webSocketFrameReceived":
                frame = data["params"]["response"]
                payload = frame["payloadData"]
                self.websocket_frames.append(
                    base64.b64decode(payload) if frame["opcode"] == 2 else payload.encode()
                )
            elif data.get("method") == "Network.requestWillBeSent":
                self.requested_urls.append(data["params"]["request"]["url"])
            elif data.get("method") == "Network.webSocketHandshakeResponseReceived":
                self.handshake_statuses.append(int(data["params"]["response"]["status"]))

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = future
        await self._socket.send_json({"id": call_id, "method": method, "params": params})
        reply = await asyncio.wait_for(future, 30)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def terminal_text(self) -> str:
        """What the page's websockets brought, as text: the terminal output, escapes removed."""
        raw = b"".join(self.websocket_frames).decode("utf-8", "replace")
        return ANSI.sub("", raw)

    async def wait_for_text(self, wanted: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.terminal_text()
            if wanted in text:
                return text
            await asyncio.sleep(0.2)
        raise AssertionError(f"the page never showed {wanted!r}; it got:\n{self.terminal_text()}")

    async def wait_for_class(self, wanted: str, timeout: float = 30) -> str:
        """Wait until the page's body has the class `wanted` (textual-serve's page states)."""
        deadline = time.monotonic() + timeout
        classes = ""
        while time.monotonic() < deadline:
            classes = str(await self.evaluate("document.body.className"))
            if wanted in classes.split():
                return classes
            await asyncio.sleep(0.2)
        raise AssertionError(f"the page's body never had {wanted!r}: {classes!r}")

    async def screenshot(self, path: Path) -> bytes:
        await self.call("Page.bringToFront")  # a tab in the background is not painted
        result = await self.call("Page.captureScreenshot", format="png")
        data = base64.b64decode(result["data"])
        path.write_bytes(data)
        return data

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self._socket.close()


@contextlib.asynccontextmanager
async def chromium(
    profile: Path, *, width: int = 1280, height: int = 800
) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    """A headless Chromium with a fresh profile; yields (http session, DevTools HTTP base)."""
    binary = chromium_binary()
    assert binary is not None
    process = subprocess.Popen(
        [binary, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = await asyncio.to_thread(_devtools_base, process)
        async with aiohttp.ClientSession() as http:
            yield http, base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _devtools_base(process: subprocess.Popen[str]) -> str:
    assert process.stderr is not None
    deadline = time.monotonic() + 60
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(r"DevTools listening on ws://([^/\s]+)/", line)
        if found:
            return f"http://{found.group(1)}"
    raise AssertionError("chromium did not start its DevTools endpoint:\n" + "".join(seen))


@contextlib.asynccontextmanager
async def open_page(
    http: aiohttp.ClientSession, base: str, *, width: int = 1280, height: int = 760
) -> AsyncIterator[Page]:
    """A new tab of a fixed size, with network events on (so websocket frames are seen)."""
    async with http.put(f"{base}/json/new?about:blank") as response:
        target = await response.json()
    socket = await http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
    page = Page(socket)
    try:
        await page.call("Network.enable")
        await page.call("Page.enable")
        await page.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        yield page
    finally:
        await page.close()


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, pixels) of an 8-bit RGB or RGBA PNG, such as Chromium writes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, chunks, header = 8, b"", b""
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks += body
        offset += 12 + length
    width, height = int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")
    depth, colour = header[8], header[9]
    assert depth == 8 and colour in (2, 6), f"unexpected PNG format {depth}/{colour}"
    step = 3 if colour == 2 else 4
    raw = zlib.decompress(chunks)
    stride = width * step
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - step] if x >= step else 0
            up = previous[x]
            corner = previous[x - step] if x >= step else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                near = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + near) & 0xFF
        rows.append(line)
        previous = line
    pixels = [bytes(row[i : i + 3]) for row in rows for i in range(0, stride, step)]
    return width, height, pixels


def background_share(pixels: list[bytes]) -> float:
    """How much of the picture is its most common colour (1.0: a blank page)."""
    return Counter(pixels).most_common(1)[0][1] / len(pixels)
