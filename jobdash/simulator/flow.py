"""The simulated API gateway's flow control: a token bucket in front of the job API.

The bucket fills at `rate` tokens per second up to `burst` tokens and starts full.
Each job GET takes one token; with none left the request is answered with flow
control (429 `Common.1503`, or 202 `Common.0024` as some job APIs do) and takes
nothing. Time is real (monotonic), not the simulated clock, since request rates are
about the client's real pace; a clock can be passed in for tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from jobdash.simulator.config import FlowAnswer


class FlowLimit:
    """Caller holds the simulator's lock."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        answer: FlowAnswer = "429",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not rate > 0:
            raise ValueError("the rate limit must be positive")
        self.rate = float(rate)
        self.burst = float(burst) if burst is not None else max(1.0, self.rate)
        if self.burst < 1:
            raise ValueError("the rate limit's burst must be at least 1")
        self.answer = answer
        self._clock = clock
        self._tokens = self.burst
        self._refilled = clock()
        self.served = 0
        self.limited = 0

    def admit(self) -> bool:
        """True when a request may pass now (it takes a token); False: answer flow control."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._refilled) * self.rate)
        self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            self.served += 1
            return True
        self.limited += 1
        return False
