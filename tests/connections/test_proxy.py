"""With a proxy in the environment, every request goes through it (httpx's transport)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from cli_helpers import connection_flags, run_process, subprocess_env_for

from jobdash.config.settings import Settings
from jobdash.connections.connection import open_connection, proxy_configured
from jobdash.simulator import Simulator


class ForwardProxy:
    """A plain-HTTP forward proxy on loopback: absolute-form requests, one upstream
    connection per request; it records the URLs it was asked for."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, version = lines[0].split(" ")
                self.seen.append(target)
                headers = [line for line in lines[1:] if line]
                length = next(
                    (
                        int(h.split(":", 1)[1])
                        for h in headers
                        if h.lower().startswith("content-length")
                    ),
                    0,
                )
                body = await reader.readexactly(length) if length else b""
                url = urlsplit(target)
                up_reader, up_writer = await asyncio.open_connection(url.hostname, url.port)
                kept = [h for h in headers if not h.lower().startswith(("proxy-", "connection"))]
                path = url.path + (f"?{url.query}" if url.query else "")
                request = [f"{method} {path} {version}", *kept, "Connection: close", "", ""]
                up_writer.write("\r\n".join(request).encode("latin-1") + body)
                writer.write(await up_reader.read())  # the upstream closes after its answer
                await writer.drain()
                up_writer.close()

    def __enter__(self) -> ForwardProxy:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    with ForwardProxy() as running:
        yield running


def test_status_goes_through_the_proxy_in_the_environment(
    simulator: Simulator, subprocess_env: dict[str, str], proxy: ForwardProxy
) -> None:
    job_id = simulator.create_servers(2)
    simulator.advance(600)
    env = subprocess_env_for(simulator, subprocess_env)
    env["HTTP_PROXY"] = proxy.url
    result = run_process(["status", *connection_flags(simulator), job_id], env)
    assert result.code in (0, 1), result.err
    assert job_id in result.out
    assert f"{simulator.url}/v1/{simulator.project_id}/jobs/{job_id}" in proxy.seen
    # NO_PROXY names hosts that are reached directly.
    proxy.seen.clear()
    env["NO_PROXY"] = "127.0.0.1"
    result = run_process(["status", *connection_flags(simulator), job_id], env)
    assert job_id in result.out
    assert proxy.seen == []


async def test_a_connection_uses_jobdash_transport_unless_a_proxy_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(endpoint="https://ecs.example.test", project_id="p" * 32, token="t")
    assert not proxy_configured()
    async with await open_connection(settings) as direct:
        assert direct.transport is not None
        assert direct.client.transport is direct.transport
    monkeypatch.setenv("https_proxy", "http://proxy.example.test:3128")
    assert proxy_configured()
    async with await open_connection(settings) as proxied:
        assert proxied.transport is None
        assert proxied.client.transport is None
