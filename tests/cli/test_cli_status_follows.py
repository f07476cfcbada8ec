"""`status --watch` on a watchlist another process polls: it follows that process through
the database, sends no job request of its own, and keeps its exit codes."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from jobdash.api.client import JobsClient
from jobdash.poll.poller import Poller
from jobdash.poll.sharing import SharedPoller
from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.watch.values import PollUpdate, WatchKey
from tests.cli_helpers import connection_flags, run_cli


class PollingElsewhere:
    """A dashboard's poller on the user's watchlist, in a thread with its own loop and its
    own database connection: to the command under test, another process."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.fetches: Counter[str] = Counter()
        self.polling = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> PollingElsewhere:
        self._thread.start()
        assert self.polling.wait(10), "the other poller never took the lease"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    async def _main(self) -> None:
        headers = {"X-Auth-Token": self.sim.credentials.token}
        with Store() as store:
            async with httpx.AsyncClient(headers=headers) as http:

                def client_for(key: WatchKey) -> JobsClient:
                    client = JobsClient(http, key.endpoint, key.project_id)
                    get_job = client.get_job

                    async def counted(job_id: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
                        self.fetches[job_id] += 1
                        return await get_job(job_id, *args, **kwargs)  # type: ignore[arg-type]

                    client.get_job = counted  # type: ignore[method-assign]
                    return client

                def make(on_update: Callable[[PollUpdate], None]) -> Poller:
                    return Poller(client_for, on_update=on_update, interval=0.1, max_interval=0.1)

                def record(update: PollUpdate) -> None:
                    if not update.followed:
                        store.record(update)

                shared = SharedPoller(make, store, record, check_every=0.1)
                shared.set_watchlist([e.key for e in store.entries()], store.snapshots())
                task = asyncio.create_task(shared.run())
                while not self._stop.is_set():
                    if shared.polling:
                        self.polling.set()
                    await asyncio.sleep(0.05)
                await shared.aclose()
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


def test_watch_follows_the_polling_process_and_keeps_its_exit_code(
    simulator: Simulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ok = simulator.create_servers(2, fail_count=0, duration=(5.0, 5.0))
    bad = simulator.create_servers(2, fail_count=1, duration=(5.0, 5.0))
    flags = connection_flags(simulator)
    assert run_cli(["add", *flags, ok, bad], capsys, monkeypatch, sim=simulator).code == 0
    caplog.set_level(logging.INFO, logger="jobdash.poll.sharing")
    with PollingElsewhere(simulator) as other:
        # The jobs end a moment after the command starts following.
        timer = threading.Timer(1.0, simulator.advance, args=(30,))
        timer.start()
        try:
            before = simulator.request_count()
            started = time.monotonic()
            result = run_cli(
                ["status", *flags, "--watch", "--exit-status", "--timeout", "30"],
                capsys,
                monkeypatch,
                sim=simulator,
            )
            took = time.monotonic() - started
        finally:
            timer.cancel()
        sent = simulator.request_count() - before
        fetched_there = sum(other.fetches.values())
    assert result.code == 1, result.err  # a job failed: the same code as when polling itself
    assert "FAIL" in result.out and "SUCCESS" in result.out
    assert "polling role: starting -> following" in caplog.text
    # Every job request went out from the polling process; the command sent none.
    assert sent <= fetched_there
    assert took < 20


def test_watch_polls_by_itself_when_nobody_polls(
    simulator: Simulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = simulator.create_servers(1, fail_count=0, duration=(5.0, 5.0))
    flags = connection_flags(simulator)
    assert run_cli(["add", *flags, job], capsys, monkeypatch, sim=simulator).code == 0
    caplog.set_level(logging.INFO, logger="jobdash.poll.sharing")
    simulator.advance(60)
    result = run_cli(
        ["status", *flags, "--watch", "--exit-status", "--timeout", "30"],
        capsys,
        monkeypatch,
        sim=simulator,
    )
    assert result.code == 0, result.err
    assert "starting -> alone" in caplog.text
    with Store() as store:
        assert store.read_lease(time.time()).holder is None  # it took no lease
