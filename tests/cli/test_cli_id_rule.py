"""One id rule for every command that takes job ids: `status` refuses what `add` refuses,
before anything is sent, and takes what `add` takes (`--any-id`, another `--service`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cli_helpers import connection_flags, run_cli

from jobdash.simulator import Simulator


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    return simulator_factory(seed=3, fail_rate=0.0)


@pytest.mark.parametrize("command", ["add", "status"])
def test_an_id_that_is_not_an_ecs_job_id_is_refused_alike_and_never_sent(
    command: str, sim: Simulator, capsys, monkeypatch
) -> None:
    good = sim.create_servers(1, fail_count=0, duration=(5, 5))
    before = sim.request_count()
    result = run_cli(
        [command, *connection_flags(sim), good, "zzz-bad", "bad/id"], capsys, monkeypatch, sim=sim
    )
    assert result.code == 2, result.err
    assert "'zzz-bad': is not 32 hexadecimal characters" in result.err
    assert "'bad/id': contains a slash" in result.err
    assert "--any-id" in result.err
    assert "Traceback" not in result.err
    if command == "status":
        assert sim.request_count() == before  # nothing was asked for, not even the good id
        assert "nothing was fetched" in result.err


def test_status_takes_any_id_and_other_services_ids_as_add_does(
    sim: Simulator, capsys, monkeypatch
) -> None:
    flags = connection_flags(sim)
    for extra in (["--any-id"], ["--service", "rds"]):
        result = run_cli(
            ["status", *flags, *extra, "--json", "job-1"], capsys, monkeypatch, sim=sim
        )
        # Asked for, and not found: the rule let the id through.
        assert result.code == 3, result.err
        assert result.json()[0]["error"]["kind"] == "not_found"
