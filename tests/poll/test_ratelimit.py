"""The poller's pacing pieces as pure decisions on a fake clock: the adaptive rate,
backoff, and the wake-up signal."""

from __future__ import annotations

import asyncio
import random

import pytest

from jobdash.poll.ratelimit import (
    CUBIC_SCALE,
    CUT_FACTOR,
    GROWTH_CAP,
    MIN_RATE,
    QUIET_AFTER,
    RETRY_AFTER_CAP,
    RETRY_AFTER_MIN,
    START_BURST,
    START_BURST_SECONDS,
    AdaptiveRate,
    Wakeup,
    backoff_delay,
    cubic_rate,
)


def sends_in(rate: AdaptiveRate, start: float, end: float, step: float) -> list[float]:
    """Send whenever the gate is open, checking every `step` seconds; return the send times."""
    sent = []
    t = start
    while t < end:
        if rate.delay(t) == 0:
            rate.take(t)
            sent.append(t)
        t = round(t + step, 6)
    return sent


def burst_at(rate: AdaptiveRate, t: float) -> int:
    """How many requests the gate lets through at one instant."""
    count = 0
    while rate.delay(t) == 0 and count < 10 * START_BURST:
        rate.take(t)
        count += 1
    return count


def settle(rate: AdaptiveRate, start: float, seconds: float, per_second: float) -> float:
    """Send and get clean answers at `per_second` for `seconds`; return the end time."""
    t = start
    for _ in range(int(seconds * per_second)):
        t = round(t + 1.0 / per_second, 6)
        rate.take(t)
        rate.on_success(t)
    return t


def test_starts_with_a_burst_then_keeps_to_the_ceiling():
    rate = AdaptiveRate(10.0)
    assert burst_at(rate, 0.0) == int(10.0 * START_BURST_SECONDS)
    sent = sends_in(rate, 0.001, 5.001, 0.01)
    assert 49 <= len(sent) <= 51
    # after the burst, never more than one second's worth at once
    for i in range(len(sent) - 11):
        assert sent[i + 11] - sent[i] >= 1.0 - 1e-6
    # a high ceiling: the start burst is capped at START_BURST
    assert burst_at(AdaptiveRate(10000.0), 0.0) == START_BURST


def test_a_throttle_cuts_to_a_share_of_the_rate_really_sent_and_pauses():
    rate = AdaptiveRate(100.0, random.Random(1))
    t = settle(rate, 0.0, 4.0, 20.0)
    assert rate.rate == 100.0  # never pushed back: at the ceiling
    rate.on_throttle(t, sent_at=t, retry_after=None)
    assert rate.rate == pytest.approx(20.0 * CUT_FACTOR, rel=0.06)
    pause = rate.delay(t)
    assert 0.5 <= pause <= 1.0
    assert rate.delay(t + pause) == 0  # one request when the pause ends ...
    rate.take(t + pause)
    assert rate.delay(t + pause) == pytest.approx(1 / rate.rate)  # ... then the new rate
    view = rate.view(t)
    assert (view.throttled_since, view.throttled_count) == (t, 1)
    assert view.pause_left == pytest.approx(pause)


def test_answers_to_requests_sent_before_a_cut_do_not_cut_again():
    rate = AdaptiveRate(100.0, random.Random(1))
    t = settle(rate, 0.0, 4.0, 20.0)
    rate.on_throttle(t, sent_at=t - 0.1, retry_after=None)
    after_one = (rate.rate, rate.paused_until)
    for late in range(5):
        rate.on_throttle(t + 0.01 * late, sent_at=t - 0.05, retry_after=None)
    assert (rate.rate, rate.paused_until) == after_one
    assert rate.throttled_total == 6 and rate.view(t).throttled_count == 6


def test_throttles_in_a_row_lengthen_the_pause_and_a_clean_answer_resets_it():
    rate = AdaptiveRate(100.0, random.Random(3))
    t, pauses = 0.0, []
    for _ in range(3):
        rate.take(t)
        rate.on_throttle(t, sent_at=t, retry_after=None)
        pauses.append(rate.delay(t))
        t += pauses[-1]
    assert 0.5 <= pauses[0] <= 1.0 and 1.0 <= pauses[1] <= 2.0 and 2.0 <= pauses[2] <= 4.0
    assert rate.rate == MIN_RATE
    rate.take(t)
    rate.on_success(t)
    rate.take(t + 5)
    rate.on_throttle(t + 5, sent_at=t + 5, retry_after=None)
    assert rate.delay(t + 5) <= 1.0


def test_retry_after_is_honoured_within_bounds():
    rate = AdaptiveRate(100.0)
    rate.take(0.0)
    rate.on_throttle(0.0, sent_at=0.0, retry_after=7.0)
    assert rate.delay(0.0) == pytest.approx(7.0)
    assert rate.delay(6.9) > 0 and rate.delay(7.0) == 0
    # an answer to an older request may still lengthen the pause
    rate.on_throttle(1.0, sent_at=-1.0, retry_after=12.0)
    assert rate.delay(1.0) == pytest.approx(12.0)
    # "0" would ask again at once; absurd values would freeze the poller
    zero = AdaptiveRate(100.0)
    zero.on_throttle(0.0, sent_at=0.0, retry_after=0.0)
    assert zero.delay(0.0) == pytest.approx(RETRY_AFTER_MIN)
    huge = AdaptiveRate(100.0)
    huge.on_throttle(0.0, sent_at=0.0, retry_after=1e9)
    assert huge.delay(0.0) == pytest.approx(RETRY_AFTER_CAP)


def test_clean_answers_grow_the_rate_back_past_the_cut_up_to_the_ceiling():
    rate = AdaptiveRate(40.0, random.Random(1))
    t = settle(rate, 0.0, 4.0, 25.0)
    rate.on_throttle(t, sent_at=t, retry_after=None)
    cut = rate.rate
    assert cut == pytest.approx(25.0 * CUT_FACTOR, rel=0.06)
    t = rate.paused_until
    rates = []
    for _ in range(12):
        t = settle(rate, t, 1.0, max(rate.rate, 1.0))
        rates.append(rate.rate)
    assert rates == sorted(rates)  # grows, never shrinks without pushback
    assert rates[1] > cut
    # near the old rate, growth slows (cubic plateau), then goes past it to the ceiling
    assert rates[-1] == 40.0
    assert any(24.0 <= r <= 26.5 for r in rates)


def test_growth_waits_for_demand():
    rate = AdaptiveRate(100.0, random.Random(1))
    t = settle(rate, 0.0, 4.0, 30.0)
    rate.on_throttle(t, sent_at=t, retry_after=None)
    cut = rate.rate
    # a trickle of clean answers, long after: no growth beyond GROWTH_CAP times what is sent
    t = settle(rate, rate.paused_until + 60.0, 4.0, 2.0)
    assert rate.rate == cut
    t = settle(rate, t, 4.0, 20.0)
    assert cut < rate.rate <= GROWTH_CAP * 20.0 + 1e-9


def test_a_throttled_spell_ends_after_a_quiet_while():
    rate = AdaptiveRate(100.0, random.Random(1))
    rate.take(0.0)
    rate.on_throttle(0.0, sent_at=0.0, retry_after=None)
    rate.take(5.0)
    rate.on_throttle(5.0, sent_at=5.0, retry_after=None)
    assert (rate.view(30.0).throttled_since, rate.view(30.0).throttled_count) == (0.0, 2)
    quiet = rate.view(5.0 + QUIET_AFTER + 1)
    assert (quiet.throttled_since, quiet.throttled_count, quiet.pause_left) == (None, 0, 0.0)
    rate.take(100.0)
    rate.on_throttle(100.0, sent_at=100.0, retry_after=None)
    assert (rate.view(100.0).throttled_since, rate.view(100.0).throttled_count) == (100.0, 1)


def test_cubic_curve_starts_at_the_cut_and_flattens_at_the_old_rate():
    assert cubic_rate(25.0, 0.0) == pytest.approx(25.0 * CUT_FACTOR)
    k = (25.0 * (1 - CUT_FACTOR) / CUBIC_SCALE) ** (1 / 3)
    assert cubic_rate(25.0, k) == pytest.approx(25.0)
    assert cubic_rate(25.0, k + 0.5) - cubic_rate(25.0, k) < 0.1
    assert cubic_rate(25.0, k + 4.0) > 45.0


def test_refuses_a_non_positive_ceiling():
    with pytest.raises(ValueError):
        AdaptiveRate(0)


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
