"""What the dashboard needs from the core, as protocols: the app takes these injected,
so tests and the screenshot script can hand it a still poller or a fixed store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from jobdash.api.server import Server
from jobdash.poll.sharing import SharingStore
from jobdash.watch.values import EndpointState, PollUpdate, Snapshot, WatchKey
from jobdash.watch.watchlist import WatchStore


class PollerLike(Protocol):
    """What the app needs from `jobdash.poll.poller.Poller`."""

    paused: bool

    def set_watchlist(
        self, keys: Iterable[WatchKey], snapshots: Mapping[WatchKey, Snapshot] | None = None
    ) -> None: ...
    def add(
        self, keys: Iterable[WatchKey], snapshots: Mapping[WatchKey, Snapshot] | None = None
    ) -> None: ...
    def remove(self, keys: Iterable[WatchKey]) -> None: ...
    def refresh(self, key: WatchKey | None = None) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def endpoint_states(self) -> list[EndpointState]: ...
    async def run(self) -> None: ...
    async def fetch_server(
        self, key: WatchKey, server_id: str, parent: str | None = None
    ) -> Server | None: ...
    async def aclose(self) -> None: ...


class StoreLike(WatchStore, SharingStore, Protocol):
    """The app's store: the watchlist's, and the lease and change feed that let one
    process poll for every dashboard on it."""


PollerFactory = Callable[[Callable[[PollUpdate], None]], PollerLike]
