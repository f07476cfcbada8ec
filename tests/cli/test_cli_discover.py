"""`jobdash discover` against the simulator over loopback: what it adds, what it skips,
what it says about services without a list, and its exit codes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from jobdash.simulator import Simulator
from jobdash.store.core import Store
from tests.cli_helpers import connection_flags, run_cli

LISTED = ("cbr", "cce", "elb", "rds")


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    # The simulated clock starts 10 hours back, so jobs can be made before and inside a
    # window measured from the real clock.
    return simulator_factory(start_time=datetime.now(UTC) - timedelta(hours=10))


def _watched() -> set[tuple[str, str]]:
    with Store() as store:
        return {(entry.key.service, entry.key.job_id) for entry in store.entries()}


def test_discover_adds_the_jobs_in_the_window_then_skips_them(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = {sim.create_service_job(name, fail_count=0) for name in LISTED}
    sim.advance(9.5 * 3600)
    new = {(name, sim.create_service_job(name, fail_count=0)) for name in LISTED}

    result = run_cli(
        ["discover", "--since", "6h", *connection_flags(sim)], capsys, monkeypatch, sim=sim
    )

    assert result.code == 0, result.err
    assert _watched() == new
    assert not old & {job_id for _name, job_id in _watched()}
    assert set(result.out.split()) == {job_id for _name, job_id in new}
    for title in ("RDS", "CCE", "CBR", "ELB"):
        assert f"{title}: added 1 job" in result.err
    assert "ECS, " in result.err and "no job list" in result.err
    for title in ("EVS", "BMS", "IMS", "VBS", "DDS", "DCS", "SFS Turbo"):
        assert title in result.err

    again = run_cli(
        ["discover", "--since", "6h", "--json", *connection_flags(sim)],
        capsys,
        monkeypatch,
        sim=sim,
    )
    assert again.code == 0, again.err
    data = again.json()
    assert set(data["services"]) == set(LISTED)
    for name, job_id in new:
        assert data["services"][name]["added"] == []
        assert data["services"][name]["duplicates"] == [job_id]
        assert data["services"][name]["error"] is None
    assert "ecs" in data["without_list"] and "rds" not in data["without_list"]
    assert _watched() == new


def test_discover_only_the_services_named(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.advance(10 * 3600)  # to the real clock's time: in the default window
    rds = sim.create_service_job("rds", fail_count=0)
    sim.create_service_job("cce", fail_count=0)
    result = run_cli(
        ["discover", "--service", "RDS", "--json", *connection_flags(sim)],
        capsys,
        monkeypatch,
        sim=sim,
    )
    assert result.code == 0, result.err
    assert list(result.json()["services"]) == ["rds"]
    assert _watched() == {("rds", rds)}


def test_a_failing_list_exits_3_and_the_others_are_added(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.advance(10 * 3600)
    started = {name: sim.create_service_job(name, fail_count=0) for name in LISTED}
    sim.inject("server_error", count=1, job_id="")  # one list call fails
    result = run_cli(["discover", "--json", *connection_flags(sim)], capsys, monkeypatch, sim=sim)
    assert result.code == 3
    services = result.json()["services"]
    failed = [name for name, one in services.items() if one["error"]]
    assert len(failed) == 1 and "HTTP 500" in services[failed[0]]["error"]
    assert _watched() == {(name, job_id) for name, job_id in started.items() if name != failed[0]}

    text = run_cli(["discover", *connection_flags(sim)], capsys, monkeypatch, sim=sim)
    assert text.code == 0  # nothing fails now; the one left out is added this time
    assert _watched() == set(started.items())


@pytest.mark.parametrize("since", ["6", "0h", "6w", "yesterday"])
def test_a_bad_window_exits_2_and_says_what_is_accepted(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, since: str
) -> None:
    result = run_cli(
        ["discover", "--since", since, *connection_flags(sim)], capsys, monkeypatch, sim=sim
    )
    assert result.code == 2
    assert "--since" in result.err and "30m, 6h or 2d" in result.err
    assert sim.request_count() == 0


def test_an_unknown_service_exits_2(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_cli(
        ["discover", "--service", "rds,nope", *connection_flags(sim)], capsys, monkeypatch, sim=sim
    )
    assert result.code == 2
    assert "unknown service 'nope'" in result.err
    assert _watched() == set()


def test_only_services_without_a_list_exits_2_saying_so(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_cli(
        ["discover", "--service", "ecs,evs", *connection_flags(sim)], capsys, monkeypatch, sim=sim
    )
    assert result.code == 2
    assert "ECS, EVS cannot list their jobs" in result.err
    assert "jobdash add --service" in result.err


def test_discover_searches_every_connection_of_the_watchlist(
    simulator_factory: Callable[..., Simulator],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.connections.test_connections import both_clouds, write_clouds

    sim = simulator_factory(extra_accounts=1, start_time=datetime.now(UTC) - timedelta(hours=1))
    team_project = sim.accounts[1].project_id
    write_clouds(both_clouds(sim))
    # One job of each cloud on the watchlist names its connection.
    prod_ecs, team_ecs = sim.create_servers(1), sim.create_servers(1)
    for cloud, job in (("prod", prod_ecs), ("team", team_ecs)):
        added = run_cli(["add", "--os-cloud", cloud, job], capsys, monkeypatch)
        assert added.code == 0, added.err
    prod_rds = sim.create_service_job("rds", fail_count=0)
    team_rds = sim.create_service_job("rds", fail_count=0, project_id=team_project)

    # No connection flags and no credentials in the environment: each connection's own.
    result = run_cli(["discover", "--service", "rds", "--json"], capsys, monkeypatch)

    assert result.code == 0, result.err
    data = result.json()
    assert len(data["connections"]) == 2
    assert sorted(data["services"]["rds"]["added"]) == sorted([prod_rds, team_rds])
    with Store() as store:
        by_job = {entry.key.job_id: entry for entry in store.entries()}
    assert by_job[prod_rds].profile == "prod" and by_job[team_rds].profile == "team"
    assert by_job[team_rds].key.project_id == team_project
