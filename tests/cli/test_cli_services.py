"""Jobs of every service in one watchlist, headless, against the simulator over loopback:
`add --service`, `status` (tree, JSON, exit codes) and `status --watch --exit-status`."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cli_helpers import connection_flags, fast_simulator, run_cli

from jobdash.services.registry import services
from jobdash.simulator import Simulator

#: The simulator's name for each service that differs from jobdash's.
SIMULATED = {"sfs-turbo": "sfs_turbo"}
OTHERS = [name for name in services() if name != "ecs"]


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    return simulator_factory(seed=31, fail_rate=0.0)


def create(sim: Simulator, service: str, *, fail: bool, seconds: float = 20.0) -> str:
    return sim.create_service_job(
        SIMULATED.get(service, service),
        fail_count=1 if fail else 0,
        duration=(seconds, seconds),
    )


@pytest.mark.parametrize("service", OTHERS)
def test_a_finished_job_of_each_service_reads_the_same_way(
    sim: Simulator, service: str, capsys, monkeypatch
) -> None:
    ok, bad = create(sim, service, fail=False), create(sim, service, fail=True)
    sim.advance(600)
    flags = connection_flags(sim)
    added = run_cli(["add", *flags, "--service", service, ok, bad], capsys, monkeypatch, sim=sim)
    assert added.code == 0, added.err
    shown = run_cli(["status", *flags, "--json"], capsys, monkeypatch, sim=sim)
    assert shown.code == 0, shown.err
    by_id = {item["job_id"]: item for item in shown.json()}
    assert by_id[ok]["status"] == "SUCCESS", by_id[ok]
    assert by_id[bad]["status"] == "FAIL", by_id[bad]
    assert by_id[bad]["service"] == service
    # The tree names the failure, whatever the service called it.
    tree = run_cli(["status", *flags, "--exit-status"], capsys, monkeypatch, sim=sim)
    assert tree.code == 1, tree.err  # a job failed
    assert "✗ FAIL" in tree.out and "✓ SUCCESS" in tree.out


def test_status_of_ids_given_with_a_service(sim: Simulator, capsys, monkeypatch) -> None:
    job = create(sim, "rds", fail=False)
    sim.advance(5)
    flags = connection_flags(sim)
    result = run_cli(
        ["status", *flags, "--service", "rds", "--json", job], capsys, monkeypatch, sim=sim
    )
    assert result.code == 0, result.err
    (item,) = result.json()
    assert item["status"] == "RUNNING" and item["service_status"] == "Running"
    unknown = run_cli(["status", *flags, "--service", "nope", job], capsys, monkeypatch, sim=sim)
    assert unknown.code == 2
    assert "unknown service 'nope'" in unknown.err and "rds" in unknown.err


def test_add_refuses_an_unknown_service_and_adds_nothing(
    sim: Simulator, capsys, monkeypatch
) -> None:
    job = create(sim, "evs", fail=False)
    flags = connection_flags(sim)
    result = run_cli(["add", *flags, "--service", "s3", job], capsys, monkeypatch, sim=sim)
    assert result.code == 2
    assert "unknown service 's3'" in result.err
    listed = run_cli(["ls", "--json"], capsys, monkeypatch)
    assert listed.json() == []


def test_watch_with_exit_status_follows_a_mixed_watchlist_to_its_end(capsys, monkeypatch) -> None:
    sim = fast_simulator(speed=60.0)
    try:
        flags = connection_flags(sim)
        ecs = sim.create_servers(2, fail_count=0, duration=(60, 120))
        assert run_cli(["add", *flags, ecs], capsys, monkeypatch, sim=sim).code == 0
        for service in ("evs", "cce", "rds", "cbr", "elb"):
            job = create(sim, service, fail=service == "cce", seconds=90)
            added = run_cli(
                ["add", *flags, "--service", service, job], capsys, monkeypatch, sim=sim
            )
            assert added.code == 0, added.err
        result = run_cli(
            ["status", *flags, "--watch", "--exit-status", "--interval", "0.2", "--timeout", "60"],
            capsys,
            monkeypatch,
            sim=sim,
        )
    finally:
        sim.stop()
    assert result.code == 1, result.err  # every job ended; the CCE one failed
    assert result.out.count("✓ SUCCESS") >= 5
    assert "✗ FAIL" in result.out
