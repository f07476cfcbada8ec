"""The simulated clock: real time scaled by a speed factor, or moved by hand only."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch; the API shows times to the millisecond."""
    return round(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def format_api_time(ms: int) -> str:
    """`2016-04-25T20:04:47.591Z`, the job API's format."""
    moment = from_ms(ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def format_iam_time(ms: int) -> str:
    """`2016-04-25T20:04:47.591000Z`, the format IAM uses for token times."""
    moment = from_ms(ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{(ms % 1000) * 1000:06d}Z"


class SimClock:
    """Simulated time. Thread-safe: read from the server loop, advanced from tests."""

    def __init__(self, *, start: datetime | None, speed: float, manual: bool) -> None:
        begin = start if start is not None else datetime.now(UTC)
        if begin.tzinfo is None:
            begin = begin.replace(tzinfo=UTC)
        # Whole milliseconds so that the same start gives the same rendered times.
        self._start_ms = to_ms(begin)
        self._speed = speed
        self._manual = manual
        self._real_start = time.monotonic()
        self._advanced_ms = 0
        self._lock = threading.Lock()

    @property
    def manual(self) -> bool:
        return self._manual

    def now_ms(self) -> int:
        with self._lock:
            elapsed = 0
            if not self._manual:
                elapsed = int((time.monotonic() - self._real_start) * self._speed * 1000)
            return self._start_ms + self._advanced_ms + elapsed

    def now(self) -> datetime:
        return from_ms(self.now_ms())

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        with self._lock:
            self._advanced_ms += round(seconds * 1000)
        return self.now()
