"""One poller per watchlist: the lease, following, refresh requests and failover, with
several `SharedPoller`s on one SQLite file (each its own connection, as processes have)
against the simulator over loopback."""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from jobdash.api.client import JobsClient
from jobdash.api.model import JobStatus
from jobdash.poll.poller import Poller
from jobdash.poll.sharing import Role, SharedPoller
from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.store.sharing import Holder
from jobdash.watch.values import PollUpdate, WatchEntry, WatchKey

INTERVAL = 0.2
PERIOD = 0.8
CHECK = 0.1


class Screen:
    """One process's view: its store connection, its shared poller, what it was told, and
    when its own poller fetched which job."""

    def __init__(
        self,
        name: str,
        path: Path,
        sim: Simulator,
        http: httpx.AsyncClient,
        fetches: list[tuple[str, str, float]],
        *,
        lead: bool = True,
    ) -> None:
        self.name = name
        self.store = Store(path)
        self.updates: list[PollUpdate] = []

        def client_for(key: WatchKey) -> JobsClient:
            client = JobsClient(http, key.endpoint, key.project_id)
            get_job = client.get_job

            async def counted(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
                fetches.append((name, args[0], time.monotonic()))  # type: ignore[arg-type]
                return await get_job(*args, **kwargs)  # type: ignore[arg-type]

            client.get_job = counted  # type: ignore[method-assign]
            return client

        def make(on_update: Callable[[PollUpdate], None]) -> Poller:
            return Poller(client_for, on_update=on_update, interval=INTERVAL, max_interval=INTERVAL)

        self.shared = SharedPoller(
            make,
            self.store,
            self._record,
            lead=lead,
            since=self.store.change_number(),
            period=PERIOD,
            check_every=CHECK,
            holder=Holder(f"{name}-run", socket.gethostname(), os.getpid()),
        )
        self.shared.set_watchlist([e.key for e in self.store.entries()], self.store.snapshots())
        self.task: asyncio.Task[None] | None = None

    def _record(self, update: PollUpdate) -> None:
        self.updates.append(update)
        if not update.followed:
            self.store.record(update)  # as the dashboard's watchlist writes what it fetched

    def start(self) -> None:
        self.task = asyncio.create_task(self.shared.run())

    async def close(self) -> None:
        await self.shared.aclose()
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        self.store.close()


async def until(condition: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def http_for(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(headers={"X-Auth-Token": sim.credentials.token}) as http:
        yield http


def watch(path: Path, sim: Simulator, *job_ids: str) -> list[WatchKey]:
    keys = [WatchKey(sim.url, sim.project_id, job_id) for job_id in job_ids]
    with Store(path) as store:
        store.add(WatchEntry(key) for key in keys)
    return keys


async def test_the_second_screen_follows_and_sends_no_request(
    simulator: Simulator, tmp_path: Path
) -> None:
    path = tmp_path / "watchlist.sqlite3"
    job = simulator.create_servers(3, fail_count=1, duration=(5.0, 5.0))
    (key,) = watch(path, simulator, job)
    fetches: list[tuple[str, str, float]] = []
    async with http_for(simulator) as http:
        first = Screen("first", path, simulator, http, fetches)
        second = Screen("second", path, simulator, http, fetches)
        try:
            first.start()
            await until(lambda: first.shared.role is Role.POLLING, "the first to poll")
            second.start()
            await until(lambda: second.shared.role is Role.FOLLOWING, "the second to follow")
            assert second.shared.leader is not None
            assert second.shared.describe() == f"following {socket.gethostname()}:{os.getpid()}"
            simulator.advance(30)
            await until(
                lambda: any(
                    u.job is not None and u.job.status == JobStatus.FAIL for u in second.updates
                ),
                "the follower to see the job fail",
            )
            ended = next(u for u in second.updates if u.job and u.job.status == JobStatus.FAIL)
            assert ended.followed and ended.key == key
            # The follower learns the change as a poller would: transitions and sub-jobs.
            assert any(t.new_status == JobStatus.FAIL for t in ended.transitions)
            assert ended.changed and ended.previous_status in (JobStatus.INIT, JobStatus.RUNNING)
            assert ended.changed_sub_jobs
            assert {name for name, _job, _at in fetches} == {"first"}
        finally:
            await second.close()
            await first.close()


async def test_a_follower_refresh_is_fetched_by_the_poller(
    simulator: Simulator, tmp_path: Path
) -> None:
    path = tmp_path / "watchlist.sqlite3"
    job = simulator.create_servers(1, fail_count=0, duration=(5.0, 5.0))
    (key,) = watch(path, simulator, job)
    fetches: list[tuple[str, str, float]] = []
    async with http_for(simulator) as http:
        first = Screen("first", path, simulator, http, fetches)
        second = Screen("second", path, simulator, http, fetches)
        try:
            first.start()
            await until(lambda: first.shared.role is Role.POLLING, "the first to poll")
            simulator.advance(30)
            await until(
                lambda: any(u.job and u.job.is_terminal for u in first.updates), "the job to end"
            )
            second.start()
            await until(lambda: second.shared.role is Role.FOLLOWING, "the second to follow")
            # Finished: nobody polls it any more, until someone asks.
            before = len(fetches)
            await asyncio.sleep(3 * INTERVAL)
            assert len(fetches) == before
            second.shared.refresh(key)
            await until(lambda: len(fetches) > before, "the refresh to reach the poller")
            assert fetches[-1][0] == "first"
        finally:
            await second.close()
            await first.close()


async def test_quitting_hands_the_lease_over_at_once(simulator: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "watchlist.sqlite3"
    watch(path, simulator, simulator.create_servers(1, fail_count=0, duration=(60.0, 60.0)))
    fetches: list[tuple[str, str, float]] = []
    async with http_for(simulator) as http:
        first = Screen("first", path, simulator, http, fetches)
        second = Screen("second", path, simulator, http, fetches)
        try:
            first.start()
            await until(lambda: first.shared.role is Role.POLLING, "the first to poll")
            second.start()
            await until(lambda: second.shared.role is Role.FOLLOWING, "the second to follow")
            quit_at = time.monotonic()
            await first.close()
            await until(lambda: second.shared.role is Role.POLLING, "the second to take over")
            assert time.monotonic() - quit_at < PERIOD  # given back, not run out
            await until(lambda: any(n == "second" for n, _j, _t in fetches), "its first fetch")
        finally:
            await second.close()
            await first.close()


async def test_a_hung_poller_is_replaced_and_stops_fetching(
    simulator: Simulator, tmp_path: Path
) -> None:
    """The polling process freezes (its looks stop; its poller would go on): the lease runs
    out, a follower takes over within two periods, and the frozen one's gate stops it."""
    path = tmp_path / "watchlist.sqlite3"
    jobs = [simulator.create_servers(1, fail_count=0, duration=(60.0, 60.0)) for _ in range(3)]
    watch(path, simulator, *jobs)
    fetches: list[tuple[str, str, float]] = []
    async with http_for(simulator) as http:
        first = Screen("first", path, simulator, http, fetches)
        second = Screen("second", path, simulator, http, fetches)
        try:
            first.start()
            await until(lambda: first.shared.role is Role.POLLING, "the first to poll")
            second.start()
            await until(lambda: second.shared.role is Role.FOLLOWING, "the second to follow")
            await asyncio.sleep(3 * INTERVAL)
            hang = asyncio.Event()

            async def frozen() -> None:
                await hang.wait()

            first.shared._look = frozen  # type: ignore[method-assign]
            hung_at = time.monotonic()
            await until(lambda: second.shared.role is Role.POLLING, "the follower to take over")
            took = time.monotonic() - hung_at
            assert took <= 2 * PERIOD, f"took {took:.2f}s, over two lease periods"
            await asyncio.sleep(5 * INTERVAL)
            handed = min(at for name, _j, at in fetches if name == "second")
            # After the handover only the new poller fetches...
            assert all(name == "second" for name, _j, at in fetches if at > handed + INTERVAL)
            # ...and no job was fetched by both right after each other. The simulator
            # counts the same requests as the pollers' own record (once none is under way).
            second.shared.inner.pause()
            await asyncio.sleep(2 * INTERVAL)
            for job in jobs:
                assert simulator.request_count(job) == sum(1 for _n, j, _t in fetches if j == job)
                times = [(at, name) for name, j, at in fetches if j == job]
                for (at1, name1), (at2, name2) in itertools.pairwise(times):
                    if name1 != name2:
                        assert at2 - at1 >= INTERVAL * 0.5, f"{job} fetched twice in a row"
            hang.set()
        finally:
            await second.close()
            await first.close()


async def test_a_dead_pollers_lease_is_taken_at_once(simulator: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "watchlist.sqlite3"
    watch(path, simulator, simulator.create_servers(1, fail_count=0, duration=(60.0, 60.0)))
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = Holder("dead-run", socket.gethostname(), int(gone.stdout))
    with Store(path) as store:
        # A lease that would bind for another minute, held by a process that no longer is.
        store.take_lease(dead, time.time(), 60.0)
        assert store.read_lease(time.time()).holder is None
    fetches: list[tuple[str, str, float]] = []
    async with http_for(simulator) as http:
        screen = Screen("new", path, simulator, http, fetches)
        try:
            screen.start()
            await until(lambda: screen.shared.role is Role.POLLING, "the lease to be taken", 1.0)
        finally:
            await screen.close()


async def test_status_watch_polls_alone_then_follows_a_dashboard(
    simulator: Simulator, tmp_path: Path
) -> None:
    path = tmp_path / "watchlist.sqlite3"
    watch(path, simulator, simulator.create_servers(1, fail_count=0, duration=(60.0, 60.0)))
    fetches: list[tuple[str, str, float]] = []
    async with http_for(simulator) as http:
        status = Screen("status", path, simulator, http, fetches, lead=False)
        dashboard = Screen("dashboard", path, simulator, http, fetches)
        try:
            status.start()
            await until(lambda: status.shared.role is Role.ALONE, "status to poll by itself")
            await until(lambda: any(n == "status" for n, _j, _t in fetches), "its fetch")
            with Store(path) as store:
                assert store.read_lease(time.time()).holder is None  # it takes no lease
            dashboard.start()
            await until(lambda: status.shared.role is Role.FOLLOWING, "status to follow")
            switched = time.monotonic()
            await asyncio.sleep(5 * INTERVAL)
            late = [n for n, _j, at in fetches if at > switched + INTERVAL]
            assert late and set(late) == {"dashboard"}
            await dashboard.close()
            await until(lambda: status.shared.role is Role.ALONE, "status to poll again")
        finally:
            await status.close()
            await dashboard.close()


def test_a_lease_held_elsewhere_binds_until_it_runs_out(tmp_path: Path) -> None:
    with Store(tmp_path / "w.sqlite3") as store:
        other = Holder("other", "another-host", 1)
        me = Holder("me", socket.gethostname(), os.getpid())
        assert store.take_lease(other, 100.0, 5.0).holder == other
        assert store.take_lease(me, 104.0, 5.0).holder == other  # still binds
        assert store.read_lease(104.0).holder == other
        assert store.take_lease(me, 105.5, 5.0).holder == me  # ran out: taken
        assert store.take_lease(other, 106.0, 5.0).holder == me
        store.release_lease(me)
        assert store.read_lease(106.0).holder is None


def test_refresh_requests_are_taken_once_and_only_for_watched_jobs(tmp_path: Path) -> None:
    with Store(tmp_path / "w.sqlite3") as store:
        key = WatchKey("https://ecs.example", "p" * 32, "a" * 32)
        store.add([WatchEntry(key)])
        stray = WatchKey("https://ecs.example", "p" * 32, "b" * 32)
        store.ask_refresh([key, stray], 1.0)
        store.ask_refresh(None, 2.0)
        assert store.take_refresh_requests() == [key, None]
        assert store.take_refresh_requests() == []


def test_change_numbers_tell_followers_what_was_written(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from jobdash.api.model import parse_job

    with Store(tmp_path / "w.sqlite3") as store:
        key = WatchKey("https://ecs.example", "p" * 32, "a" * 32)
        store.add([WatchEntry(key)])
        start = store.change_number()
        job = parse_job({"job_id": key.job_id, "status": "RUNNING", "entities": {}})
        at = datetime(2026, 1, 1, tzinfo=UTC)
        store.record(PollUpdate(key, at, job=job, server_time=at + timedelta(seconds=90)))
        (change,) = store.snapshot_changes(start)
        assert change.body_changed and change.snapshot.job is not None
        assert change.clock_offset == 90.0  # followers show times in the cloud's clock too
        store.record(PollUpdate(key, at.replace(second=5), job=job, same_answer=True))
        (same,) = store.snapshot_changes(change.seq)
        assert not same.body_changed and same.snapshot.job is None
        assert same.snapshot.fetched_at == at.replace(second=5)
        assert store.snapshot_changes(same.seq) == []
        entries_before = store.entries_number()
        store.set_label(key, "web")
        assert store.entries_number() == entries_before + 1


async def test_pausing_the_poller_hands_polling_to_another_screen(
    simulator: Simulator, tmp_path: Path
) -> None:
    path = tmp_path / "watchlist.sqlite3"
    watch(path, simulator, simulator.create_servers(1, fail_count=0, duration=(60.0, 60.0)))
    fetches: list[tuple[str, str, float]] = []
    async with http_for(simulator) as http:
        first = Screen("first", path, simulator, http, fetches)
        second = Screen("second", path, simulator, http, fetches)
        try:
            first.start()
            await until(lambda: first.shared.role is Role.POLLING, "the first to poll")
            second.start()
            await until(lambda: second.shared.role is Role.FOLLOWING, "the second to follow")
            first.shared.pause()
            await until(lambda: second.shared.role is Role.POLLING, "the second to take over")
            await until(lambda: first.shared.role is Role.FOLLOWING, "the paused one to follow")
            first.shared.resume()
            await asyncio.sleep(5 * CHECK)
            assert second.shared.role is Role.POLLING  # no tug of war on resume
            assert first.shared.role is Role.FOLLOWING
        finally:
            await second.close()
            await first.close()
