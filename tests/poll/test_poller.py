"""Unit tests of the poller against a scripted API (httpx.MockTransport) and a fake clock."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import httpx
import pytest
from poller_helpers import (
    NOW,
    OTHER_ENDPOINT,
    FakeApi,
    FakeClock,
    MemoryStore,
    job_body,
    key,
    run_until_done,
    throttled,
)

from jobdash.api.errors import ErrorKind
from jobdash.api.model import parse_job
from jobdash.poll.poller import Poller
from jobdash.poll.store_writer import STORE_RETRY_AFTER
from jobdash.watch.values import PollUpdate, Snapshot

LONG_AGO = "2024-05-01T10:00:00.000Z"


@pytest.fixture
async def api() -> AsyncIterator[FakeApi]:
    fake = FakeApi()
    yield fake
    await fake.aclose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_poller(api: FakeApi, clock: FakeClock) -> Callable[..., Poller]:
    def make(**kwargs: Any) -> Poller:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("now", lambda: NOW)
        kwargs.setdefault("rng", random.Random(7))
        kwargs.setdefault("max_rps", 1000.0)
        return Poller(api.client_for, **kwargs)

    return make


# ------------------------------------------------------------------ scheduling


async def test_active_job_is_polled_at_the_base_interval(api, clock, make_poller):
    api.jobs["a"] = job_body("a")
    poller = make_poller()
    poller.set_watchlist([key("a")])
    assert poller.next_due_in(key("a")) == 0

    updates = await poller.poll_due()
    assert [u.job.status for u in updates] == ["RUNNING"]
    assert poller.next_due_in(key("a")) == pytest.approx(3.0)

    clock.advance(2.9)
    assert await poller.poll_due() == []
    clock.advance(0.1)
    assert len(await poller.poll_due()) == 1
    assert api.counts["a"] == 2


async def test_long_running_unchanged_job_stretches_up_to_the_cap(api, clock, make_poller):
    api.jobs["a"] = job_body("a", begin=LONG_AGO)
    poller = make_poller()
    poller.set_watchlist([key("a")])
    intervals = []
    for _ in range(9):
        await poller.poll_due()
        due = poller.next_due_in(key("a"))
        intervals.append(due)
        clock.advance(due)
    # the first sighting is not a "no change" yet; then +50% per unchanged poll, capped at 30
    assert intervals[:5] == pytest.approx([4.5, 6.75, 10.125, 15.1875, 22.78125])
    assert intervals[5:] == pytest.approx([30.0] * 4)


async def test_recently_started_job_is_not_stretched(api, clock, make_poller):
    api.jobs["a"] = job_body("a")  # began 10 s before NOW
    poller = make_poller()
    poller.set_watchlist([key("a")])
    for _ in range(5):
        await poller.poll_due()
        assert poller.next_due_in(key("a")) == pytest.approx(3.0)
        clock.advance(3.0)


async def test_any_change_snaps_the_interval_back(api, clock, make_poller):
    api.jobs["a"] = job_body("a", sub_statuses=("RUNNING", "RUNNING"), begin=LONG_AGO)
    poller = make_poller()
    poller.set_watchlist([key("a")])
    for _ in range(4):
        await poller.poll_due()
        clock.advance(poller.next_due_in(key("a")))
    assert poller.next_due_in(key("a")) is not None
    stretched = poller.next_due_in(key("a"))
    await poller.poll_due()
    assert poller.next_due_in(key("a")) > stretched

    clock.advance(poller.next_due_in(key("a")))
    api.jobs["a"] = job_body("a", sub_statuses=("RUNNING", "SUCCESS"), begin=LONG_AGO)
    (update,) = await poller.poll_due()
    assert update.changed
    assert update.previous_status == "RUNNING"
    assert poller.next_due_in(key("a")) == pytest.approx(3.0)


async def test_sub_job_count_change_counts_as_change(api, make_poller):
    api.jobs["a"] = job_body("a", sub_statuses=("RUNNING",))
    poller = make_poller()
    (first,) = await poller.refresh_all_once([key("a")])
    assert not first.changed and first.previous_status is None
    api.jobs["a"] = job_body("a", sub_statuses=("RUNNING", "INIT"))
    (second,) = await poller.refresh_all_once([key("a")])
    assert second.changed
    (third,) = await poller.refresh_all_once([key("a")])
    assert not third.changed


async def test_pending_payment_and_unknown_statuses_poll_at_the_slow_end(api, make_poller):
    api.jobs["p"] = job_body("p", status="PENDING_PAYMENT")
    api.jobs["u"] = job_body("u", status="WAITING_FOR_GODOT")
    poller = make_poller()
    poller.set_watchlist([key("p"), key("u")])
    await poller.poll_due()
    assert poller.next_due_in(key("p")) == pytest.approx(30.0)
    assert poller.next_due_in(key("u")) == pytest.approx(30.0)
    assert not poller.all_terminal()


async def test_finished_job_is_not_polled_again_until_refreshed(api, clock, make_poller):
    api.jobs["a"] = job_body("a", status="SUCCESS")
    api.jobs["b"] = job_body("b")
    poller = make_poller()
    poller.set_watchlist([key("a"), key("b")])
    await poller.poll_due()
    assert poller.next_due_in(key("a")) is None
    assert not poller.all_terminal()
    for _ in range(5):
        clock.advance(30.0)
        await poller.poll_due()
    assert api.counts["a"] == 1
    assert api.counts["b"] == 6

    poller.refresh(key("a"))
    (update,) = await poller.poll_due()
    assert update.key == key("a")
    assert api.counts["a"] == 2
    assert poller.next_due_in(key("a")) is None


async def test_terminal_snapshot_is_not_scheduled_and_seeds_change_detection(api, make_poller):
    old_done = parse_job(job_body("done", status="SUCCESS"))
    old_running = parse_job(job_body("run", status="RUNNING"))
    snapshots = {
        key("done"): Snapshot(key("done"), old_done, NOW),
        key("run"): Snapshot(key("run"), old_running, NOW),
    }
    api.jobs["run"] = job_body("run", status="FAIL")
    poller = make_poller()
    poller.set_watchlist([key("done"), key("run")], snapshots)
    assert poller.next_due_in(key("done")) is None
    assert poller.latest(key("done")).job.status == "SUCCESS"

    updates = await poller.poll_due()
    assert [u.key for u in updates] == [key("run")]
    assert updates[0].changed and updates[0].previous_status == "RUNNING"
    assert api.counts["done"] == 0
    assert poller.all_terminal()


async def test_set_watchlist_syncs_to_exactly_the_given_keys(api, make_poller):
    poller = make_poller()
    poller.set_watchlist([key("a"), key("b")])
    poller.set_watchlist([key("b"), key("c")])
    assert sorted(k.job_id for k in poller.watched()) == ["b", "c"]
    assert poller.next_due_in(key("a")) is None
    poller.remove([key("b")])
    poller.add([key("d")])
    assert sorted(k.job_id for k in poller.watched()) == ["c", "d"]


async def test_refresh_jumps_the_queue(api, clock, make_poller):
    for job_id in "abcd":
        api.jobs[job_id] = job_body(job_id)
    poller = make_poller(max_in_flight=1)
    poller.set_watchlist([key(j) for j in "abcd"])
    poller.refresh(key("d"))
    poller.refresh(key("c"))
    for _ in range(4):
        await poller.poll_due()
    assert api.order == ["d", "c", "a", "b"]


async def test_pause_stops_scheduled_polls_but_not_refreshes(api, clock, make_poller):
    api.jobs["a"] = job_body("a")
    api.jobs["b"] = job_body("b")
    poller = make_poller()
    poller.set_watchlist([key("a"), key("b")])
    poller.pause()
    assert await poller.poll_due() == []
    poller.refresh(key("b"))
    assert [u.key for u in await poller.poll_due()] == [key("b")]
    poller.resume()
    assert [u.key for u in await poller.poll_due()] == [key("a")]


# ------------------------------------------------------------------ throttling


async def test_429_with_retry_after_slows_the_whole_endpoint(api, clock, make_poller):
    for job_id in ("a", "b"):
        api.jobs[job_id] = job_body(job_id)
    api.jobs["other"] = job_body("other")
    api.then("a", throttled(retry_after="7"))
    poller = make_poller(max_in_flight=1)
    poller.set_watchlist([key("a"), key("b"), key("other", OTHER_ENDPOINT)])

    (update,) = await poller.poll_due()
    assert update.error.kind is ErrorKind.THROTTLED
    state = next(s for s in poller.endpoint_states() if s.endpoint == key("a").endpoint)
    assert state.throttled and state.backoff_seconds == pytest.approx(7.0)

    # the other endpoint goes on while this one waits
    for _ in range(3):
        await poller.poll_due()
    assert api.counts["other"] == 1
    assert api.counts["b"] == 0
    assert poller.next_due_in(key("b")) == pytest.approx(7.0)

    clock.advance(7.0)
    assert not next(
        s for s in poller.endpoint_states() if s.endpoint == key("a").endpoint
    ).throttled
    # the endpoint resumes at its cut rate: one request now, the next a little later
    for _ in range(3):
        await poller.poll_due()
        clock.advance(1.0)
    assert api.counts["a"] == 2 and api.counts["b"] == 1 and api.counts["other"] == 2


async def test_429_without_retry_after_backs_off_exponentially(api, clock, make_poller):
    api.jobs["a"] = job_body("a")
    api.then("a", throttled(), throttled(), throttled())
    poller = make_poller()
    poller.set_watchlist([key("a")])
    waits = []
    for _ in range(3):
        await poller.poll_due()
        (state,) = poller.endpoint_states()
        assert state.throttled
        waits.append(state.backoff_seconds)
        clock.advance(state.backoff_seconds)
    assert 0.5 <= waits[0] <= 1.0
    assert 1.0 <= waits[1] <= 2.0
    assert 2.0 <= waits[2] <= 4.0
    (update,) = await poller.poll_due()
    assert update.job is not None
    # a success ends the streak: the next throttle starts small again
    api.then("a", throttled())
    clock.advance(3.0)
    await poller.poll_due()
    assert poller.endpoint_states()[0].backoff_seconds <= 2.0


async def test_flow_limit_202_throttles_too(api, make_poller):
    api.then("a", httpx.Response(202, json={"error_code": "Common.0024", "error_msg": "flow"}))
    poller = make_poller()
    poller.set_watchlist([key("a")])
    (update,) = await poller.poll_due()
    assert update.error.kind is ErrorKind.THROTTLED
    assert poller.endpoint_states()[0].throttled


async def test_answers_throttled_together_do_not_escalate_the_backoff(api, clock, make_poller):
    for job_id in "abcdef":
        api.then(job_id, throttled())
    poller = make_poller()
    poller.set_watchlist([key(j) for j in "abcdef"])
    await poller.poll_due()
    (state,) = poller.endpoint_states()
    assert state.backoff_seconds <= 2.0
    assert state.extra["throttled_total"] == 6


# ------------------------------------------------------------- per-entry errors


async def test_network_errors_back_off_per_entry(api, clock, make_poller):
    api.jobs["a"] = job_body("a")
    api.jobs["b"] = job_body("b")
    boom = httpx.ConnectError("connection refused")
    api.then("a", boom, boom, boom)
    poller = make_poller()
    poller.set_watchlist([key("a")])
    await poller.poll_due()
    first = poller.next_due_in(key("a"))
    assert 1.5 <= first <= 3.0
    assert "ConnectError" in poller.endpoint_states()[0].offline_reason

    poller.add([key("b")])
    await poller.poll_due()
    clock.advance(first)
    await poller.poll_due()
    second = poller.next_due_in(key("a"))
    assert 3.0 <= second <= 6.0
    clock.advance(second)
    updates = await poller.poll_due()
    assert [u.error.kind for u in updates if u.key == key("a")] == [ErrorKind.NETWORK]
    assert 6.0 <= poller.next_due_in(key("a")) <= 12.0
    # the healthy entry on the same endpoint kept its own pace
    assert api.counts["b"] >= 2
    assert poller.next_due_in(key("b")) <= 3.0
    # once it answers, the entry is back at the base interval and the endpoint is not offline
    clock.advance(poller.next_due_in(key("a")))
    await poller.poll_due()
    assert poller.next_due_in(key("a")) == pytest.approx(3.0)
    assert poller.endpoint_states()[0].offline_reason is None


async def test_error_updates_keep_the_last_job(api, clock, make_poller):
    api.jobs["a"] = job_body("a")
    poller = make_poller()
    poller.set_watchlist([key("a")])
    await poller.poll_due()
    api.then("a", httpx.Response(503, json={"error": {"code": "X.1", "message": "busy"}}))
    clock.advance(3.0)
    (update,) = await poller.poll_due()
    assert update.error.kind is ErrorKind.SERVER
    assert update.job is not None and update.job.job_id == "a"


async def test_unauthorized_backs_off_a_lot(api, make_poller):
    api.then("a", httpx.Response(401, json={"error": {"code": 401, "message": "no"}}))
    api.then("b", httpx.Response(403, json={"error": {"code": "Ecs.0023", "message": "no"}}))
    poller = make_poller()
    poller.set_watchlist([key("a"), key("b")])
    updates = await poller.poll_due()
    assert {u.error.kind for u in updates} == {ErrorKind.UNAUTHORIZED, ErrorKind.FORBIDDEN}
    assert poller.next_due_in(key("a")) >= 300
    assert poller.next_due_in(key("b")) >= 300


async def test_invalid_id_is_reported_and_never_retried(api, clock, make_poller):
    poller = make_poller()
    bad = key("../etc/passwd")
    poller.set_watchlist([bad])
    (update,) = await poller.poll_due()
    assert update.error.kind is ErrorKind.INVALID_ID
    assert poller.next_due_in(bad) is None
    assert poller.all_terminal()
    clock.advance(1000)
    assert await poller.poll_due() == []
    assert sum(api.counts.values()) == 0


async def test_finished_job_purged_by_the_cloud_expires(api, clock, make_poller):
    api.jobs["a"] = job_body("a", status="SUCCESS", sub_statuses=("SUCCESS",))
    poller = make_poller()
    poller.set_watchlist([key("a")])
    await poller.poll_due()
    del api.jobs["a"]
    poller.refresh(key("a"))
    (update,) = await poller.poll_due()
    assert update.expired and update.error is None
    assert update.job.status == "SUCCESS" and update.job.job_id == "a"
    assert poller.next_due_in(key("a")) is None
    assert poller.latest(key("a")).expired
    assert poller.all_terminal()


async def test_not_found_for_an_unfinished_job_is_an_error_retried_slowly(api, make_poller):
    api.jobs["a"] = job_body("a")
    poller = make_poller()
    poller.set_watchlist([key("never"), key("a")])
    await poller.poll_due()
    del api.jobs["a"]
    poller.refresh(key("a"))
    (gone,) = await poller.poll_due()
    never = poller.latest(key("never"))
    for update in (never, gone):
        assert update.error.kind is ErrorKind.NOT_FOUND and not update.expired
    assert poller.next_due_in(key("never")) == pytest.approx(30.0)
    assert poller.next_due_in(key("a")) == pytest.approx(30.0)


async def test_unexpected_exception_from_the_client_becomes_an_error_update(api, make_poller):
    def broken(key_: Any) -> Any:
        raise RuntimeError("bug")

    poller = Poller(broken, clock=FakeClock(), now=lambda: NOW)
    poller.set_watchlist([key("a")])
    (update,) = await poller.poll_due()
    assert update.error is not None and "RuntimeError" in update.error.message
    assert poller.next_due_in(key("a")) is not None


# ---------------------------------------------------------------------- caps


async def test_in_flight_cap_holds_for_refresh_all_once(api, make_poller):
    for i in range(20):
        api.jobs[f"j{i}"] = job_body(f"j{i}")
    poller = make_poller(max_in_flight=3, clock=time.monotonic)
    keys = [key(f"j{i}") for i in range(20)]
    updates = await poller.refresh_all_once(keys)
    assert [u.key for u in updates] == keys
    assert api.max_in_flight == 3
    assert sum(api.counts.values()) == 20


async def test_in_flight_cap_holds_for_scheduled_polls(api, make_poller):
    for i in range(10):
        api.jobs[f"j{i}"] = job_body(f"j{i}")
    api.hold = asyncio.Event()
    poller = make_poller(max_in_flight=4)
    poller.set_watchlist([key(f"j{i}") for i in range(10)])
    round_one = asyncio.create_task(poller.poll_due())
    for _ in range(20):
        await asyncio.sleep(0)
    assert api.in_flight == 4
    assert poller.endpoint_states()[0].in_flight == 4
    api.hold.set()
    assert len(await round_one) == 4


async def test_rps_ceiling_per_endpoint_after_the_start_burst(api, clock, make_poller):
    for i in range(80):
        api.jobs[f"j{i}"] = job_body(f"j{i}")
    api.jobs["x"] = job_body("x")
    poller = make_poller(max_rps=10.0, max_in_flight=100)
    poller.set_watchlist([key(f"j{i}") for i in range(80)] + [key("x", OTHER_ENDPOINT)])
    sent = []
    for step in (0.0, 0.5, 0.5, 1.0):
        clock.advance(step)
        sent.append(len(await poller.poll_due()))
    # a start burst of 5 seconds' worth (+1 on the other endpoint), then 10 per second,
    # never more than one second's worth at once
    assert sent == [51, 5, 5, 10]


async def test_refresh_all_once_keeps_order_and_duplicates(api, make_poller):
    api.jobs["a"] = job_body("a", status="SUCCESS")
    api.jobs["b"] = job_body("b")
    poller = make_poller()
    updates = await poller.refresh_all_once([key("b"), key("a"), key("b")])
    assert [u.key.job_id for u in updates] == ["b", "a", "b"]
    assert api.counts == {"a": 1, "b": 1}
    # refresh_all_once also fetches finished entries again when asked
    await poller.refresh_all_once()
    assert api.counts == {"a": 2, "b": 2}


# --------------------------------------------------- callback, store, run loop


async def test_callback_errors_do_not_stop_the_loop(api):
    api.jobs["a"] = job_body("a")
    seen: list[PollUpdate] = []
    enough = asyncio.Event()

    def explode(update: PollUpdate) -> None:
        seen.append(update)
        if len(seen) >= 3:
            enough.set()
        raise ValueError("callback bug")

    poller = Poller(api.client_for, on_update=explode, interval=0.01, max_interval=0.02)
    poller.set_watchlist([key("a")])
    runner = asyncio.create_task(poller.run())
    await asyncio.wait_for(enough.wait(), 10)
    assert not runner.done()
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    assert len(seen) >= 3


async def test_store_records_every_update_and_its_failures_are_not_fatal(api, make_poller):
    api.jobs["a"] = job_body("a")
    store = MemoryStore()
    seen: list[PollUpdate] = []
    poller = make_poller(store=store, on_update=seen.append)
    await poller.refresh_all_once([key("a")])
    assert [u.key for u in store.recorded] == [key("a")]
    store.fail = True
    await poller.refresh_all_once([key("a")])
    assert len(seen) == 2
    assert poller.store_error and "disk full" in poller.store_error


async def test_a_failing_store_is_left_alone_for_a_while_then_gets_the_latest(
    api, clock, make_poller
):
    api.jobs["a"] = job_body("a", status="RUNNING", sub_statuses=("RUNNING",))
    api.jobs["b"] = job_body("b", status="RUNNING", sub_statuses=("RUNNING",))
    store = MemoryStore()
    store.fail = True
    attempts = 0
    record_many = store.record_many

    def counting_record(updates: Iterable[PollUpdate]) -> None:
        nonlocal attempts
        attempts += 1
        record_many(updates)

    store.record_many = counting_record  # type: ignore[method-assign]
    poller = make_poller(store=store)
    await poller.refresh_all_once([key("a"), key("b")])
    assert attempts == 1  # the second update waits in memory, no second blocked write
    store.fail = False
    api.jobs["a"] = job_body("a", status="SUCCESS")
    clock.advance(STORE_RETRY_AFTER / 2)
    await poller.refresh_all_once([key("a")])
    assert attempts == 1 and store.recorded == []
    clock.advance(STORE_RETRY_AFTER)
    api.jobs["b"] = job_body("b", status="SUCCESS")
    await poller.refresh_all_once([key("b")])
    # Once the pause is over, the latest update of every job reaches the store.
    assert {u.key.job_id: u.job.status for u in store.recorded if u.job} == {
        "a": "SUCCESS",
        "b": "SUCCESS",
    }
    assert poller.store_error is None


async def test_snapshots_are_seeded_from_the_store(api, make_poller):
    job = parse_job(job_body("a", status="RUNNING", sub_statuses=("RUNNING",)))
    store = MemoryStore({key("a"): Snapshot(key("a"), job, NOW)})
    api.jobs["a"] = job_body("a", status="RUNNING", sub_statuses=("RUNNING",))
    poller = make_poller(store=store)
    poller.set_watchlist([key("a")])
    (update,) = await poller.poll_due()
    assert not update.changed


async def test_run_loads_the_watchlist_from_the_store_and_stops_when_done(api):
    done = parse_job(job_body("old", status="SUCCESS"))
    store = MemoryStore(
        {key("old"): Snapshot(key("old"), done, NOW), key("a"): Snapshot(key("a"), None, None)}
    )
    api.jobs["a"] = job_body("a")
    api.then("a", httpx.Response(200, json=job_body("a")))
    api.then("a", httpx.Response(200, json=job_body("a", status="SUCCESS")))
    del api.jobs["a"]
    poller = Poller(api.client_for, store=store, interval=0.01, max_interval=0.02)
    assert await run_until_done(poller, 10)
    assert api.counts == {"a": 2}
    assert poller.latest(key("a")).changed
    assert [u.key.job_id for u in store.recorded] == ["a", "a"]


async def test_a_job_that_never_ends_is_never_all_done(api):
    api.jobs["a"] = job_body("a")
    poller = Poller(api.client_for, interval=0.01, max_interval=0.02)
    poller.set_watchlist([key("a")])
    assert await run_until_done(poller, 0.2) is False
    assert api.counts["a"] >= 1


async def test_removed_entry_in_flight_reports_nothing(api, make_poller):
    api.jobs["a"] = job_body("a")
    api.hold = asyncio.Event()
    seen: list[PollUpdate] = []
    poller = make_poller(on_update=seen.append)
    poller.set_watchlist([key("a")])
    round_one = asyncio.create_task(poller.poll_due())
    for _ in range(10):
        await asyncio.sleep(0)
    poller.remove([key("a")])
    api.hold.set()
    await round_one
    assert seen == []
    assert poller.latest(key("a")) is None


async def test_aclose_cancels_fetches_under_way(api, make_poller):
    api.jobs["a"] = job_body("a")
    api.hold = asyncio.Event()
    poller = make_poller()
    poller.set_watchlist([key("a")])
    runner = asyncio.create_task(poller.run())
    for _ in range(20):
        await asyncio.sleep(0)
    assert api.in_flight == 1
    await poller.aclose()
    await asyncio.wait_for(runner, 5)
    assert api.in_flight == 0


async def test_endpoint_state_tells_the_rate_and_the_throttled_spell(api, clock, make_poller):
    for job_id in "abc":
        api.jobs[job_id] = job_body(job_id)
    poller = make_poller(max_rps=50.0)
    poller.set_watchlist([key(j) for j in "abc"])
    await poller.poll_due()
    (state,) = poller.endpoint_states()
    assert state.request_rate == pytest.approx(0.6)  # 3 requests in the 5 s shown
    assert (state.allowed_rate, state.throttle_count, state.throttled_since) == (50.0, 0, None)

    api.then("a", throttled(retry_after="4"))
    clock.advance(3.0)
    await poller.poll_due()
    (state,) = poller.endpoint_states()
    assert state.throttled and state.backoff_seconds == pytest.approx(4.0)
    assert state.throttle_count == 1 and state.throttled_since == NOW
    assert state.allowed_rate < 50.0
