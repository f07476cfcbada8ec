"""The poller's pacing pieces: rate limiter, backoff, wake-up signal."""

from __future__ import annotations

import asyncio
import random

import pytest

from jobdash.poll.ratelimit import RateLimiter, Wakeup, backoff_delay


def sends_in(limiter: RateLimiter, start: float, end: float, step: float) -> list[float]:
    """Send whenever allowed, checking every `step` seconds; return the send times."""
    sent = []
    t = start
    while t < end:
        if limiter.delay(t) == 0:
            limiter.record(t)
            sent.append(t)
        t = round(t + step, 6)
    return sent


def test_limiter_allows_rate_sends_in_any_window_of_a_second():
    limiter = RateLimiter(10)
    sent = sends_in(limiter, 0.0, 5.0, 0.01)
    assert len(sent) == 50
    for i in range(len(sent) - 10):
        assert sent[i + 10] - sent[i] >= 1.0 - 1e-9


def test_limiter_with_a_fractional_rate_spaces_single_sends():
    limiter = RateLimiter(0.5)
    assert sends_in(limiter, 0.0, 7.0, 0.5) == [0.0, 2.0, 4.0, 6.0]


def test_limiter_delay_says_how_long_to_wait():
    limiter = RateLimiter(2)
    limiter.record(10.0)
    limiter.record(10.25)
    assert limiter.delay(10.5) == pytest.approx(0.5)
    assert limiter.delay(11.0) == 0


def test_limiter_refuses_a_non_positive_rate():
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_backoff_grows_exponentially_with_jitter_and_stays_under_the_cap():
    rng = random.Random(1)
    for attempt, (low, high) in enumerate([(1.5, 3), (3, 6), (6, 12), (12, 24)], start=1):
        delays = [backoff_delay(attempt, 3.0, 60.0, rng) for _ in range(200)]
        assert all(low <= d <= high for d in delays)
        assert max(delays) - min(delays) > (high - low) / 2  # really jittered
    assert all(30.0 <= backoff_delay(50, 3.0, 60.0, rng) <= 60.0 for _ in range(100))


async def test_wakeup_reaches_every_waiter_and_times_out_otherwise():
    wakeup = Wakeup()
    waiters = [asyncio.create_task(wakeup.wait(None)) for _ in range(3)]
    await asyncio.sleep(0)
    wakeup.notify()
    await asyncio.wait_for(asyncio.gather(*waiters), 5)
    # nothing stays set: a later waiter sleeps until the next notify
    later = asyncio.create_task(wakeup.wait(None))
    for _ in range(10):
        await asyncio.sleep(0)
    assert not later.done()
    wakeup.notify()
    await asyncio.wait_for(later, 5)
    # and a timeout ends a wait nobody notifies
    await asyncio.wait_for(wakeup.wait(0.01), 5)
