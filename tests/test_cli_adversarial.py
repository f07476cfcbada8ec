"""`jobdash` used the hard way: locked databases, hostile API text, messy input."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from cli_helpers import connection_flags, run_cli

import jobdash.store
from jobdash.paths import database_file
from jobdash.simulator import Simulator, SimulatorConfig
from jobdash.store import Store
from jobdash.watch import PollUpdate


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(manual_clock=True, seed=23, fail_rate=0.0)) as simulator:
        yield simulator


class CountingStore(Store):
    """The real store with a short busy timeout, counting the writes `status` attempts."""

    attempts = 0

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("busy_timeout", 0.2)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def record(self, update: PollUpdate):  # type: ignore[no-untyped-def]
        type(self).attempts += 1
        return super().record(update)


def test_status_on_a_locked_database_tries_the_store_once_not_per_job(
    sim: Simulator, capsys, monkeypatch, caplog
) -> None:
    jobs = [sim.create_servers(1, fail_count=0, duration=(5, 5)) for _ in range(6)]
    sim.advance(60)
    added = run_cli(["add", *connection_flags(sim), *jobs], capsys, monkeypatch, sim=sim)
    assert added.code == 0, added.err
    monkeypatch.setattr(jobdash.store, "Store", CountingStore)
    holder = sqlite3.connect(database_file(), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = run_cli(["status", *connection_flags(sim)], capsys, monkeypatch, sim=sim)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.code == 0, result.err
    assert "6 jobs:  ✓6 succeeded" in result.out
    # Each write to a locked file waits the whole busy timeout: after the first failure
    # the others wait in memory instead of costing one timeout per job.
    assert CountingStore.attempts == 1
    assert any("is locked" in message for message in caplog.messages)
