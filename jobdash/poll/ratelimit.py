"""Pacing for the poller: a request-rate cap, jittered exponential backoff, a wake-up signal."""

from __future__ import annotations

import asyncio
import math
import random
from collections import deque


class RateLimiter:
    """At most `rate` requests per second, counted over a sliding window.

    The window holds `burst = max(1, floor(rate))` sends and lasts `burst / rate`
    seconds, so 10/s allows ten sends in any one second and 0.5/s one send in
    any two seconds. Time comes from the caller so a fake clock can drive it.
    """

    def __init__(self, rate: float) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be positive, got {rate!r}")
        self.rate = float(rate)
        self.burst = max(1, math.floor(rate))
        self.window = self.burst / self.rate
        self._sent: deque[float] = deque()

    def delay(self, now: float) -> float:
        """Seconds until one more request may go (0.0 when it may go now)."""
        sent = self._sent
        horizon = now - self.window
        while sent and sent[0] <= horizon:
            sent.popleft()
        if len(sent) < self.burst:
            return 0.0
        return max(sent[0] - horizon, 1e-6)

    def record(self, now: float) -> None:
        """Count one request sent at `now`."""
        self._sent.append(now)


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, never above `cap`.

    `attempt` counts consecutive failures from 1. Keeping half the delay fixed
    stops a run of unlucky draws from retrying almost at once; the random half
    spreads retries of many entries that failed together.
    """
    exponent = min(max(attempt, 1) - 1, 30)
    ceiling = min(cap, base * (2.0**exponent))
    return ceiling / 2.0 + rng.uniform(0.0, ceiling / 2.0)


class Wakeup:
    """Lets tasks sleep until a timeout or until someone calls `notify`, whichever is first.

    Unlike `asyncio.Event` nothing has to be cleared: a wake-up reaches exactly the
    tasks waiting at that moment, so none is lost and none is left set.
    """

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for future in waiters:
            if not future.done():
                future.set_result(None)

    async def wait(self, timeout: float | None) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(future)
        try:
            await asyncio.wait([future], timeout=None if timeout is None else max(timeout, 0.001))
        finally:
            self._waiters.discard(future)
            future.cancel()
