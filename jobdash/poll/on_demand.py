"""Fetches made on request rather than by the schedule, under the poller's caps.

`refresh_all_once` fetches every job once (the headless `status`); `fetch_server` gets a
server behind a failed sub-job. Both count against the same in-flight cap and endpoint
request rate as scheduled polls. `Poller` inherits these methods.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping

from jobdash.api.client import JobsClient
from jobdash.api.errors import ThrottledError
from jobdash.api.server import Server
from jobdash.poll.ratelimit import Wakeup
from jobdash.poll.schedule import Endpoint, Entry
from jobdash.watch.values import PollUpdate, Snapshot, WatchKey

#: `refresh_all_once` retries an entry this often when the endpoint throttles it.
ONCE_ATTEMPTS = 3


class OnDemandFetches:
    """`Poller`'s fetches on request; the poller provides the state and the fetch step."""

    _client_for: Callable[[WatchKey], JobsClient]
    _clock: Callable[[], float]
    _entries: dict[WatchKey, Entry]
    _in_flight: int
    _wakeup: Wakeup
    interval: float
    max_in_flight: int

    def add(
        self, keys: Iterable[WatchKey], snapshots: Mapping[WatchKey, Snapshot] | None = None
    ) -> None:
        raise NotImplementedError

    def _endpoint(self, key: WatchKey) -> Endpoint:
        raise NotImplementedError

    def _start(self, entry: Entry, ep: Endpoint, now: float) -> float:
        raise NotImplementedError

    async def _fetch(self, entry: Entry, ep: Endpoint, sent_at: float) -> PollUpdate:
        raise NotImplementedError

    async def refresh_all_once(self, keys: Iterable[WatchKey] | None = None) -> list[PollUpdate]:
        """Fetch each key once, concurrently within the caps; updates come back in `keys` order.

        Keys not yet watched are added. A throttled fetch waits for the endpoint's
        backoff and is tried again (up to `ONCE_ATTEMPTS` times in all).
        """
        order = list(self._entries) if keys is None else list(keys)
        self.add(order)
        unique = list(dict.fromkeys(order))
        queue: asyncio.Queue[WatchKey] = asyncio.Queue()
        for key in unique:
            queue.put_nowait(key)
        results: dict[WatchKey, PollUpdate] = {}

        async def worker() -> None:
            while not queue.empty():
                key = queue.get_nowait()
                results[key] = await self._fetch_once(key)

        workers = min(self.max_in_flight, len(unique))
        await asyncio.gather(*(worker() for _ in range(workers)))
        return [results[key] for key in order]

    async def fetch_server(self, key: WatchKey, server_id: str) -> Server | None:
        """The details of a server behind one of `key`'s sub-jobs (None: it is gone), sent
        with `key`'s credentials under the same caps as job fetches: in-flight count and the
        endpoint's request rate. Raises `ApiError` when the fetch fails."""
        ep = self._endpoint(key)
        while True:
            now = self._clock()
            wait = ep.gate_delay(now) if self._in_flight < self.max_in_flight else None
            if wait is not None and wait <= 0:
                break
            await self._wakeup.wait(wait)
        ep.rate.take(now)  # counts against the endpoint's rate like a job fetch
        ep.in_flight += 1
        ep.requests_sent += 1
        self._in_flight += 1
        try:
            client = ep.clients.get(key)
            if client is None:
                client = ep.clients[key] = self._client_for(key)
            server = await client.get_server(server_id, key.project_id)
        except ThrottledError as exc:
            ep.rate.on_throttle(self._clock(), now, exc.retry_after)  # slows job fetches too
            raise
        else:
            ep.rate.on_success(self._clock())
            return server
        finally:
            ep.in_flight -= 1
            self._in_flight -= 1
            self._wakeup.notify()

    async def _fetch_once(self, key: WatchKey) -> PollUpdate:
        attempt = 0
        while True:
            attempt += 1
            entry = self._entries.get(key) or Entry(key, interval=self.interval)
            ep = self._endpoint(key)
            while True:
                now = self._clock()
                if self._in_flight >= self.max_in_flight or entry.in_flight:
                    await self._wakeup.wait(None)
                    continue
                wait = ep.gate_delay(now)
                if wait <= 0:
                    break
                await self._wakeup.wait(wait)
            update = await self._fetch(entry, ep, self._start(entry, ep, now))
            if not isinstance(update.error, ThrottledError) or attempt >= ONCE_ATTEMPTS:
                return update
