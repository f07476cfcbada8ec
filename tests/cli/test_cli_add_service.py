"""`jobdash add -` with a pasted create answer: the answer's shape names its service when it
can, `--service` always wins, and a bare `{"job_id": ...}` stays ECS's. Against the simulator
over loopback: the added jobs are then read through their service's job API."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from cli_helpers import connection_flags, run_cli

from jobdash.simulator import Simulator


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    return simulator_factory(seed=47, fail_rate=0.0)


def rds_answer(job_id: str, engine: str = "MySQL") -> str:
    return json.dumps(
        {
            "instance": {
                "id": "3f9e1c7a2b4d4e6f8a0b1c2d3e4f5a6bin01",
                "name": "orders-db",
                "status": "BUILD",
                "datastore": {"type": engine, "version": "8.0"},
            },
            "job_id": job_id,
        }
    )


def statuses(sim: Simulator, capsys, monkeypatch) -> dict[str, dict[str, object]]:
    shown = run_cli(["status", *connection_flags(sim), "--json"], capsys, monkeypatch, sim=sim)
    assert shown.code == 0, shown.err
    return {item["job_id"]: item for item in shown.json()}


def test_a_piped_rds_answer_is_added_as_rds_and_read_by_its_api(
    sim: Simulator, capsys, monkeypatch
) -> None:
    job = sim.create_service_job("rds", fail_count=0, duration=(30.0, 30.0))
    sim.advance(5)
    added = run_cli(
        ["add", *connection_flags(sim), "-"], capsys, monkeypatch, sim=sim, stdin=rds_answer(job)
    )
    assert added.code == 0, added.err
    assert "recognised an RDS answer" in added.err
    assert added.out.split() == [job]
    (entry,) = run_cli(["ls", "--json"], capsys, monkeypatch).json()
    assert entry["service"] == "rds" and entry["job_id"] == job
    item = statuses(sim, capsys, monkeypatch)[job]
    # Read through RDS's API: its own status word came back.
    assert item["status"] == "RUNNING" and item["service_status"] == "Running"


def test_a_piped_cce_node_answer_adds_the_job_it_names(sim: Simulator, capsys, monkeypatch) -> None:
    job = sim.create_service_job("cce", fail_count=0, duration=(10.0, 10.0))
    sim.advance(600)
    node = {"kind": "Node", "apiVersion": "v3", "metadata": {"name": "pool-a"}}
    node["status"] = {"jobID": job}
    added = run_cli(
        ["add", *connection_flags(sim), "-"], capsys, monkeypatch, sim=sim, stdin=json.dumps(node)
    )
    assert added.code == 0, added.err
    assert "recognised a CCE answer" in added.err
    item = statuses(sim, capsys, monkeypatch)[job]
    assert item["service"] == "cce" and item["status"] == "SUCCESS"


def test_service_given_wins_over_the_answer(sim: Simulator, capsys, monkeypatch) -> None:
    job = sim.create_service_job("dds", fail_count=0, duration=(30.0, 30.0))
    sim.advance(5)
    flags = connection_flags(sim)
    # Shaped like RDS's answer, but the user knows better.
    added = run_cli(
        ["add", *flags, "--service", "dds", "-"],
        capsys,
        monkeypatch,
        sim=sim,
        stdin=rds_answer(job),
    )
    assert added.code == 0, added.err
    assert "recognised" not in added.err
    item = statuses(sim, capsys, monkeypatch)[job]
    assert item["service"] == "dds" and item["status"] == "RUNNING"


def test_an_answer_that_names_no_service_stays_ecs(sim: Simulator, capsys, monkeypatch) -> None:
    job = sim.create_servers(1, fail_count=0, duration=(5.0, 5.0))
    flags = connection_flags(sim)
    # A database answer without a datastore could be RDS's or DDS's: not guessed.
    stdin = json.dumps({"instance": {"id": "i-1"}, "job_id": job})
    added = run_cli(["add", *flags, "-"], capsys, monkeypatch, sim=sim, stdin=stdin)
    assert added.code == 0, added.err
    assert "recognised" not in added.err
    (entry,) = run_cli(["ls", "--json"], capsys, monkeypatch).json()
    assert entry["service"] == "ecs" and entry["job_id"] == job


def test_a_recognised_answer_of_another_service_is_searched_for_ids_under_the_one_given(
    sim: Simulator, capsys, monkeypatch
) -> None:
    # A CCE Job object names no `job_id`: under `--service rds` there is nothing to add.
    job_object = {"kind": "Job", "metadata": {"uid": "7d2f0b6e-1c3a-11f0-9e41-0255ac10004a"}}
    added = run_cli(
        ["add", *connection_flags(sim), "--service", "rds", "-"],
        capsys,
        monkeypatch,
        sim=sim,
        stdin=json.dumps(job_object),
    )
    assert added.code == 2
    assert "found no job id" in added.err
    assert run_cli(["ls", "--json"], capsys, monkeypatch).json() == []
