"""A stand-in for the poller that never fetches anything.

The dashboard then shows the stored snapshots exactly as they are, which is what the
screenshot script and the snapshot tests need: the same picture on every run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping

from jobdash.api.errors import NetworkError
from jobdash.api.server import Server
from jobdash.watch.values import EndpointState, Snapshot, WatchKey


class StillPoller:
    def __init__(self) -> None:
        self.paused = False
        self.gate: Callable[[], bool] | None = None
        self.keys: list[WatchKey] = []
        self.refreshed: list[WatchKey | None] = []
        self._stop = asyncio.Event()

    def set_watchlist(
        self, keys: Iterable[WatchKey], snapshots: Mapping[WatchKey, Snapshot] | None = None
    ) -> None:
        self.keys = list(keys)

    def add(
        self, keys: Iterable[WatchKey], snapshots: Mapping[WatchKey, Snapshot] | None = None
    ) -> None:
        self.keys.extend(k for k in keys if k not in self.keys)

    def remove(self, keys: Iterable[WatchKey]) -> None:
        gone = set(keys)
        self.keys = [k for k in self.keys if k not in gone]

    def take_over(self, snapshots: Mapping[WatchKey, Snapshot]) -> None:
        """Nothing to schedule: a still poller never fetches."""

    def refresh(self, key: WatchKey | None = None) -> None:
        self.refreshed.append(key)

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def endpoint_states(self) -> list[EndpointState]:
        return []

    async def run(self) -> None:
        await self._stop.wait()

    async def fetch_server(
        self, key: WatchKey, server_id: str, parent: str | None = None
    ) -> Server | None:
        """Never answers: the picture shows only the servers the store already holds."""
        await self._stop.wait()
        raise NetworkError("not polling")

    async def aclose(self) -> None:
        self._stop.set()
