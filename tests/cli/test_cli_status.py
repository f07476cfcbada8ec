"""`jobdash status` against the simulator over a real socket: tree, JSON and exit codes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cli_helpers import connection_flags, fast_simulator, run_cli

from jobdash.simulator import Simulator, SimulatorConfig

UNKNOWN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    return simulator_factory(seed=11, fail_rate=0.0)


def test_tree_shows_jobs_and_failed_sub_jobs(sim: Simulator, capsys, monkeypatch) -> None:
    ok = sim.create_servers(2, "web", fail_count=0, duration=(10, 20))
    bad = sim.create_servers(3, "db", fail_count=1, duration=(10, 20))
    sim.advance(120)
    result = run_cli(["status", *connection_flags(sim), ok, bad], capsys, monkeypatch, sim=sim)
    assert result.code == 0, result.err
    assert ok in result.out and bad in result.out
    assert "✓ SUCCESS" in result.out
    assert "✗ FAIL" in result.out
    assert "createSingleServer" in result.out
    assert "3/3" in result.out and "✗1" in result.out
    # The failed sub-job shows its error code, and the summary what it means.
    assert "Ecs." in result.out
    assert "failures by error code" in result.out
    assert "× 1: " in result.out
    assert "2 jobs:  ✓1 succeeded  ✗1 failed" in result.out


def test_json_keeps_api_fields_and_order(sim: Simulator, capsys, monkeypatch) -> None:
    first = sim.create_servers(1, fail_count=0, duration=(5, 5))
    second = sim.create_servers(2, fail_count=0, duration=(500, 600))
    sim.advance(60)
    result = run_cli(
        ["status", *connection_flags(sim), "--json", second, UNKNOWN, first],
        capsys,
        monkeypatch,
        sim=sim,
    )
    assert result.code == 3  # one could not be fetched
    data = result.json()
    assert [item["job_id"] for item in data] == [second, UNKNOWN, first]
    assert data[0]["status"] == "RUNNING"
    assert data[0]["project_id"] == sim.project_id
    assert data[0]["entities"]["sub_jobs_total"] == 2
    assert {"job_type", "begin_time", "end_time", "error_code", "fail_reason"} <= set(data[0])
    assert data[1] == {
        "job_id": UNKNOWN,
        "project_id": sim.project_id,
        "service": "ecs",
        "status": None,
        "error": data[1]["error"],
    }
    assert data[1]["error"]["kind"] == "not_found"
    assert data[1]["error"]["http_status"] == 404
    assert data[1]["error"]["code"] == "Common.0011"
    assert data[2]["status"] == "SUCCESS"
    # An id that breaks the id rule is refused up front: tests/cli/test_cli_id_rule.py.


@pytest.mark.parametrize(
    ("fail_count", "advance", "expected"),
    [(0, 300, 0), (1, 300, 1), (0, 1, 8)],
)
def test_exit_status(
    sim: Simulator, capsys, monkeypatch, fail_count: int, advance: float, expected: int
) -> None:
    job = sim.create_servers(2, fail_count=fail_count, duration=(30, 60))
    sim.advance(advance)
    flags = connection_flags(sim)
    plain = run_cli(["status", *flags, job], capsys, monkeypatch, sim=sim)
    assert plain.code == 0
    strict = run_cli(["status", *flags, "--exit-status", job], capsys, monkeypatch, sim=sim)
    assert strict.code == expected


def test_every_error_kind_is_reported_with_exit_3(sim: Simulator, capsys, monkeypatch) -> None:
    job = sim.create_servers(1, fail_count=0)
    flags = connection_flags(sim)
    for fault, kind in [
        ("throttle", "throttled"),
        ("server_error", "server"),
        ("html", "bad_response"),
        ("drop", "network"),
    ]:
        sim.inject(fault, count=None, job_id=job)
        result = run_cli(["status", *flags, "--json", job], capsys, monkeypatch, sim=sim)
        sim.clear_faults()
        assert result.code == 3, fault
        assert result.json()[0]["error"]["kind"] == kind
    monkeypatch.setenv("OS_AUTH_TOKEN", "not-a-valid-token")
    bad_token = run_cli(["status", *flags, "--json", job], capsys, monkeypatch)
    assert bad_token.code == 3
    assert bad_token.json()[0]["error"]["kind"] == "unauthorized"
    assert "not-a-valid-token" not in bad_token.out + bad_token.err


def test_missing_configuration_is_exit_2(capsys, monkeypatch) -> None:
    result = run_cli(["status", UNKNOWN], capsys, monkeypatch)
    assert result.code == 2
    assert "jobdash:" in result.err
    # The message says how to provide what is missing.
    assert "OS_AUTH_TOKEN" in result.err or "--os-cloud" in result.err


def test_status_of_the_watchlist_records_snapshots(sim: Simulator, capsys, monkeypatch) -> None:
    job = sim.create_servers(2, fail_count=0, duration=(10, 20))
    flags = connection_flags(sim)
    assert (
        run_cli(["add", *flags, job, "--label", "web batch"], capsys, monkeypatch, sim=sim).code
        == 0
    )
    sim.advance(100)
    result = run_cli(["status", *flags], capsys, monkeypatch, sim=sim)
    assert result.code == 0
    assert "web batch" in result.out
    listing = run_cli(["ls", "--json"], capsys, monkeypatch).json()
    assert listing[0]["job_id"] == job
    assert listing[0]["status"] == "SUCCESS"
    assert listing[0]["label"] == "web batch"


def test_purged_job_shows_as_expired_from_its_last_snapshot(capsys, monkeypatch) -> None:
    config = SimulatorConfig(manual_clock=True, seed=3, fail_rate=0.0, purge_after=3600)
    with Simulator(config) as sim:
        job = sim.create_servers(1, fail_count=0, duration=(10, 10))
        flags = connection_flags(sim)
        run_cli(["add", *flags, job], capsys, monkeypatch, sim=sim)
        sim.advance(60)
        assert run_cli(["status", *flags], capsys, monkeypatch, sim=sim).code == 0
        sim.advance(7200)
        direct = run_cli(["status", *flags, "--json", job], capsys, monkeypatch, sim=sim)
        assert direct.json()[0]["error"]["kind"] == "not_found"
        result = run_cli(
            ["status", *flags, "--json", "--exit-status"], capsys, monkeypatch, sim=sim
        )
    assert result.code == 0
    (item,) = result.json()
    assert item["status"] == "SUCCESS"
    assert item["expired"] is True
    listing = run_cli(["ls", "--json"], capsys, monkeypatch).json()
    assert listing[0]["expired"] is True and listing[0]["status"] == "SUCCESS"


def test_watch_follows_jobs_to_the_end(capsys, monkeypatch) -> None:
    sim = fast_simulator()
    try:
        ok = sim.create_servers(3, fail_count=0, duration=(20, 60))
        bad = sim.create_servers(2, fail_count=1, duration=(20, 60))
        flags = connection_flags(sim)
        result = run_cli(
            [
                "status",
                *flags,
                "--watch",
                "--interval",
                "0.2",
                "--exit-status",
                "--json",
                "--timeout",
                "60",
                ok,
                bad,
            ],
            capsys,
            monkeypatch,
            sim=sim,
        )
    finally:
        sim.stop()
    assert result.code == 1  # one job failed
    data = result.json()
    assert [item["status"] for item in data] == ["SUCCESS", "FAIL"]


def test_watch_times_out_with_exit_8(capsys, monkeypatch) -> None:
    sim = fast_simulator(speed=1.0)
    try:
        job = sim.create_servers(1, fail_count=0, duration=(3600, 3600))
        result = run_cli(
            [
                "status",
                *connection_flags(sim),
                "--watch",
                "--interval",
                "0.2",
                "--timeout",
                "1",
                job,
            ],
            capsys,
            monkeypatch,
            sim=sim,
        )
    finally:
        sim.stop()
    assert result.code == 8
    assert "timed out" in result.err
    assert job in result.out


def test_watch_rides_out_a_throttled_endpoint(capsys, monkeypatch) -> None:
    sim = fast_simulator()
    try:
        job = sim.create_servers(2, fail_count=0, duration=(20, 40))
        sim.inject("throttle", count=3, retry_after=0.3)
        result = run_cli(
            [
                "status",
                *connection_flags(sim),
                "--watch",
                "--interval",
                "0.2",
                "--exit-status",
                "--timeout",
                "60",
                job,
            ],
            capsys,
            monkeypatch,
            sim=sim,
        )
        stats = sim.stats()
    finally:
        sim.stop()
    assert result.code == 0
    # The throttling was seen and logged, then the watch carried on to the end.
    assert "throttled" in result.out
    assert "SUCCESS" in result.out
    assert stats["by_status"].get("429", 0) >= 1
