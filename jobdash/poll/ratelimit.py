"""Pacing for the poller: an adaptive request rate per endpoint and account, jittered
exponential backoff, a wake-up signal.

The cloud limits the requests of each account on its own, so the requests sent to one
endpoint as one account (`RateGroup`) share a rate, and one account's throttling does
not slow another's.

`AdaptiveRate` is a client-side token bucket whose fill rate follows the endpoint's
answers, as the AWS SDKs' "adaptive" retry mode does. Until the endpoint first pushes
back it runs at the configured ceiling, and the bucket starts with a burst, so a
one-shot refresh of a few hundred jobs goes at once. A throttled answer (429
`Common.1503`, 202 `Common.0024`) cuts the rate to `CUT_FACTOR` of what was really
being sent and pauses the endpoint (for `Retry-After` when given). Clean answers then
let the rate grow back along a cubic curve (CUBIC, as in TCP): quickly at first, slowly
near the rate that was cut, faster again beyond it, so the rate settles just under
the endpoint's limit and finds a raised limit again. Every decision takes the time
as an argument, so tests drive it with numbers.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import random
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobdash.watch.values import WatchKey

#: Requests in the bucket at the start: a one-shot refresh of a few hundred jobs at once.
START_BURST = 500
#: ... but never more than this many seconds' worth of the ceiling.
START_BURST_SECONDS = 5.0
#: After the start, the bucket holds at most this many seconds' worth of the rate.
BURST_SECONDS = 1.0
#: A throttled answer cuts the rate to this share of the rate really sent.
CUT_FACTOR = 0.7
#: How fast the rate grows back (requests/s per second cubed; the AWS SDKs' value).
CUBIC_SCALE = 0.4
#: The rate is never cut below this (requests/s); harder pushback pauses instead.
MIN_RATE = 0.5
#: The rate really sent is measured over this many seconds for the decisions, and over
#: the longer window for showing it (steadier to read).
MEASURE_WINDOW = 2.0
SHOWN_WINDOW = 5.0
#: Growth past what was really sent is capped at this multiple of it.
GROWTH_CAP = 2.0
#: Endpoint-wide pause after a throttled answer without Retry-After: doubles per throttle
#: in a row, from half of this to this, with jitter, up to the cap.
PAUSE_BASE = 1.0
PAUSE_CAP = 60.0
#: Retry-After is honoured from a second (0 would ask again at once) up to this cap (a broken
#: header must not freeze the poller).
RETRY_AFTER_MIN = 1.0
RETRY_AFTER_CAP = 300.0
_SLACK = 1e-9
#: A throttled spell ends after this many seconds without a throttled answer.
QUIET_AFTER = 60.0


@dataclass(frozen=True, slots=True)
class RateGroup:
    """The requests that share one adaptive rate: those sent to one endpoint as one account."""

    endpoint: str
    #: Who the requests are sent as, opaque and never a secret (a short hash); "" when
    #: the caller does not tell accounts apart.
    account: str = ""
    #: How the account is shown (a cloud's name). Not part of the identity: two clouds
    #: of one account share its limit.
    label: str = field(default="", compare=False)


def endpoint_group(key: WatchKey) -> RateGroup:
    """Every request to an endpoint shares its rate (callers that do not know accounts)."""
    return RateGroup(key.endpoint)


@dataclass(frozen=True, slots=True)
class RateView:
    """What the rate control is doing, for the header and progress line."""

    #: Requests really sent per second, lately.
    sent_rate: float
    #: The rate the bucket currently allows.
    allowed_rate: float
    #: Seconds until the endpoint may be asked again after throttling (0: not paused).
    pause_left: float
    #: Clock time the current throttled spell began; None when not in one.
    throttled_since: float | None
    #: Throttled answers in the current spell.
    throttled_count: int


class AdaptiveRate:
    """One rate group's request rate: a token bucket whose fill rate adapts (see the module)."""

    def __init__(self, ceiling: float, rng: random.Random | None = None) -> None:
        if not ceiling > 0:
            raise ValueError(f"the rate ceiling must be positive, got {ceiling!r}")
        self.ceiling = float(ceiling)
        self.rate = self.ceiling
        self._rng = rng or random.Random()
        self._tokens = max(1.0, min(START_BURST, self.ceiling * START_BURST_SECONDS))
        self._filled_at: float | None = None
        self._sent: deque[float] = deque()
        #: The rate that was cut last (CUBIC's W_max) and when growth from the cut starts.
        self._cut_from: float | None = None
        self._grow_from = 0.0
        self._last_cut = float("-inf")
        #: Throttle events in a row (no clean answer between): lengthens the pause.
        self.streak = 0
        self.paused_until = 0.0
        self.throttled_total = 0
        self._spell_start: float | None = None
        self._spell_count = 0
        self._last_throttle = float("-inf")

    # ----------------------------------------------------------- the gate
    def delay(self, now: float) -> float:
        """Seconds until one more request may go (0.0: now)."""
        self._refill(now)
        wait = 0.0 if self._tokens >= 1.0 - _SLACK else (1.0 - self._tokens) / self.rate
        wait = max(wait, self.paused_until - now)
        # Times computed by adding a delay to a clock reading may land a hair short.
        return wait if wait > _SLACK else 0.0

    def take(self, now: float) -> None:
        """Count one request sent at `now` (whether or not the gate was open)."""
        self._refill(now)
        self._tokens -= 1.0
        self._sent.append(now)

    # ------------------------------------------------------- the answers
    def on_success(self, now: float) -> None:
        """A clean answer: end the throttle streak and let the rate grow back."""
        self.streak = 0
        if self._cut_from is None:
            return  # never pushed back: already at the ceiling
        since = max(0.0, now - self._grow_from)
        grown = cubic_rate(self._cut_from, since)
        limit = max(GROWTH_CAP * self.sent_rate(now), MIN_RATE)
        target = min(self.ceiling, grown, max(limit, self.rate))
        if target > self.rate:
            self._refill(now)
            self.rate = target

    def on_throttle(self, now: float, sent_at: float, retry_after: float | None) -> None:
        """A throttled answer to a request sent at `sent_at`: cut, pause, count."""
        self.throttled_total += 1
        if self._spell_start is None or now - self._last_throttle > QUIET_AFTER:
            self._spell_start, self._spell_count = now, 0
        self._spell_count += 1
        self._last_throttle = now
        fresh = sent_at > self._last_cut
        if fresh:
            # Answers to requests sent before the last cut are that cut's; do not cut again.
            self._refill(now)
            sent = self.sent_rate(now)
            self._cut_from = max(MIN_RATE, min(self.rate, sent) if sent > 0 else self.rate)
            self.rate = max(MIN_RATE, self._cut_from * CUT_FACTOR)
            self._last_cut = now
            self.streak += 1
        if retry_after is not None:
            pause = min(max(retry_after, RETRY_AFTER_MIN), RETRY_AFTER_CAP)
        elif fresh:
            pause = backoff_delay(self.streak, PAUSE_BASE, PAUSE_CAP, self._rng)
        else:
            pause = 0.0
        self.paused_until = max(self.paused_until, now + pause)
        self._grow_from = max(self._grow_from, self.paused_until)
        if fresh:
            # Drop any burst: one request when the pause ends, then the new rate.
            self._tokens = 1.0 - (self.paused_until - now) * self.rate

    # -------------------------------------------------------------- views
    def sent_rate(self, now: float, window: float = MEASURE_WINDOW) -> float:
        """Requests sent per second over the last `window` seconds (at most `SHOWN_WINDOW`)."""
        sent = self._sent
        while sent and sent[0] <= now - SHOWN_WINDOW:
            sent.popleft()
        horizon = now - window
        recent = len(sent) - bisect.bisect_right(sent, horizon)
        return recent / window

    def view(self, now: float) -> RateView:
        in_spell = self._spell_start is not None and now - self._last_throttle <= QUIET_AFTER
        return RateView(
            sent_rate=self.sent_rate(now, SHOWN_WINDOW),
            allowed_rate=self.rate,
            pause_left=max(0.0, self.paused_until - now),
            throttled_since=self._spell_start if in_spell else None,
            throttled_count=self._spell_count if in_spell else 0,
        )

    def _refill(self, now: float) -> None:
        if self._filled_at is not None and now > self._filled_at:
            capacity = max(1.0, self.rate * BURST_SECONDS)
            if self._tokens < capacity:
                self._tokens = min(capacity, self._tokens + (now - self._filled_at) * self.rate)
        if self._filled_at is None or now > self._filled_at:
            self._filled_at = now


def cubic_rate(cut_from: float, since: float) -> float:
    """The rate `since` seconds into growth after cutting from `cut_from` (CUBIC's window).

    Starts at `CUT_FACTOR * cut_from`, flattens out at `cut_from` after
    K = cbrt(cut_from * (1 - CUT_FACTOR) / CUBIC_SCALE) seconds, then rises ever faster.
    """
    k = math.cbrt(cut_from * (1.0 - CUT_FACTOR) / CUBIC_SCALE)
    return CUBIC_SCALE * (since - k) ** 3 + cut_from


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
