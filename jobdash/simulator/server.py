"""`Simulator`: the simulated cloud on a loopback socket, in a background thread or a loop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Concatenate, ParamSpec, TypeVar

from jobdash.simulator.app import SimulatorApp
from jobdash.simulator.cloud import SimulatedCloud
from jobdash.simulator.config import SimAccount, SimCredentials, SimulatorConfig
from jobdash.simulator.http import HttpServer

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _forwarded(
    method: Callable[Concatenate[SimulatedCloud, _P], _R],
) -> Callable[Concatenate[Simulator, _P], _R]:
    """A `Simulator` method that calls the same method of its app, so that the cloud's
    Python API (parameters, defaults, docs) is written once, in `SimulatedCloud`."""
    name = method.__name__

    @functools.wraps(method)
    def forward(self: Simulator, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        # Looked up on the app, not called as `method`: an override there is the one meant.
        bound: Callable[_P, _R] = getattr(self.app, name)
        return bound(*args, **kwargs)

    return forward


class Simulator:
    """IAM plus the ECS job API, served over real HTTP on loopback.

    `start()` serves from a daemon thread with its own event loop; `serve()` serves
    in the caller's loop. Every other method is thread-safe and works in both modes
    (and before start, except for `url`).
    """

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.app = SimulatorApp(self.config)
        self._http = HttpServer(self.app.handle, clock=self.app.clock.now)
        self.app.connection_stats = self._connection_stats
        self._url: str | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    # -- where and who ----------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the simulator is not listening yet; call start() first")
        return self._url

    @property
    def auth_url(self) -> str:
        return self.url + "/v3"

    @property
    def project_id(self) -> str:
        return self.app.project_id

    @property
    def project_name(self) -> str:
        return self.app.credentials.project_name

    @property
    def region(self) -> str:
        return self.app.region

    @property
    def credentials(self) -> SimCredentials:
        return self.app.credentials

    @property
    def accounts(self) -> list[SimAccount]:
        """Every account; the first is the main one (`credentials`, `project_id`)."""
        return self.app.accounts

    @property
    def running(self) -> bool:
        return self._url is not None

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> Simulator:
        """Serve from a daemon thread; returns once the socket is listening."""
        if self._thread is not None:
            raise RuntimeError("the simulator is already running")
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(lambda _sim: started.set()))
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()
                started.set()

        self._thread = threading.Thread(target=run, name="jobdash-simulator", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close every connection and the socket, and end the thread."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stopping.set)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def serve(self, ready: Callable[[Simulator], None] | None = None) -> None:
        """Serve in the running loop until cancelled (or `stop()` from another thread)."""
        self._loop = asyncio.get_running_loop()
        await self._serve(ready)

    async def _serve(self, ready: Callable[[Simulator], None] | None) -> None:
        self._stopping = asyncio.Event()
        host, port = await self._http.start(self.config.host, self.config.port)
        shown_host = f"[{host}]" if ":" in host else host
        self._url = f"http://{shown_host}:{port}"
        self.app.base_url = self._url
        try:
            if ready is not None:
                ready(self)
            await self._stopping.wait()
        finally:
            await self._http.close()
            self._url = None

    def _connection_stats(self) -> dict[str, int]:
        return {
            "connections_open": self._http.connections_open,
            "connections_max": self._http.connections_max,
            "connections_total": self._http.connections_total,
            "bad_requests": self._http.bad_requests,
        }

    # -- the simulated cloud: its Python API, signatures and docs as `SimulatedCloud` has them

    now = _forwarded(SimulatedCloud.now)
    advance = _forwarded(SimulatedCloud.advance)
    create_servers = _forwarded(SimulatedCloud.create_servers)
    batch_action = _forwarded(SimulatedCloud.batch_action)
    delete_servers = _forwarded(SimulatedCloud.delete_servers)
    create_service_job = _forwarded(SimulatedCloud.create_service_job)
    put_job = _forwarded(SimulatedCloud.put_job)
    inject = _forwarded(SimulatedCloud.inject)
    clear_faults = _forwarded(SimulatedCloud.clear_faults)
    request_count = _forwarded(SimulatedCloud.request_count)
    server_request_count = _forwarded(SimulatedCloud.server_request_count)
    stats = _forwarded(SimulatedCloud.stats)


async def serve(
    config: SimulatorConfig, *, ready: Callable[[Simulator], None] | None = None
) -> None:
    """Run a simulator in the current loop until cancelled; `ready` gets it once listening."""
    await Simulator(config).serve(ready)
