"""Store calls on a thread of their own, so SQLite never blocks an event loop.

A database another program holds locked makes a write wait for the busy timeout; on
the dashboard's loop that would freeze keys and drawing. `StoreThread` runs every call
on one worker thread, in order (SQLite connections are not for concurrent use), and
hands back futures that a loop can await.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class StoreThread:
    """One worker thread for one store; calls run in the order they were submitted."""

    def __init__(self, name: str = "jobdash-store") -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=name)
        #: When the call running now started (monotonic), None while idle.
        self._busy_since: float | None = None
        # One writer each (the submitting thread, the worker), so no lock is needed.
        self._submitted = 0
        self._finished = 0

    def submit(self, call: Callable[[], T]) -> concurrent.futures.Future[T]:
        self._submitted += 1
        return self._executor.submit(self._run, call)

    async def run(self, call: Callable[[], T]) -> T:
        """Run `call` on the thread and wait for it without blocking the loop."""
        return await asyncio.wrap_future(self.submit(call))

    def busy_for(self, now: float | None = None) -> float:
        """Seconds the current call has been running (0 when idle): a hint of a locked file."""
        since = self._busy_since
        if since is None:
            return 0.0
        return (time.monotonic() if now is None else now) - since

    @property
    def pending(self) -> int:
        """Calls submitted and not finished yet."""
        return self._submitted - self._finished

    def close(self, *, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=not wait)

    def _run(self, call: Callable[[], T]) -> T:
        self._busy_since = time.monotonic()
        try:
            return call()
        finally:
            self._busy_since = None
            self._finished += 1
