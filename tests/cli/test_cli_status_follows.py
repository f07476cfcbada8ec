"""`status --watch` on a watchlist another process polls: it follows that process through
the database, sends no job request of its own, and keeps its exit codes."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from cli_helpers import connection_flags, run_cli
from sharing_helpers import PollingElsewhere

from jobdash.simulator import Simulator
from jobdash.store.core import Store


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
