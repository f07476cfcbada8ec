"""The log file (where, what, how private) and output into a pipe closed early."""

from __future__ import annotations

import logging
import os
import stat
import subprocess

from cli_helpers import cli_command, connection_flags, run_cli, run_process, subprocess_env_for

from jobdash.api.client import JobsClient
from jobdash.cli.common import route_core_warnings
from jobdash.config import paths
from jobdash.simulator import Simulator


def test_help_names_the_log_file(subprocess_env: dict[str, str]) -> None:
    result = run_process(["--help"], subprocess_env)
    assert result.code == 0
    assert f"log file: {paths.log_file()}" in result.out
    assert "141" in result.out


def test_an_unexpected_error_is_in_the_log_the_message_points_to(
    simulator: Simulator, capsys, monkeypatch
) -> None:
    async def broken(self, job_id, project_id=None, *, previous=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug in the fetch path")

    monkeypatch.setattr(JobsClient, "get_job", broken)
    job = simulator.create_servers(1, fail_count=0)
    result = run_cli(
        ["status", *connection_flags(simulator), job], capsys, monkeypatch, sim=simulator
    )
    assert result.code == 3
    assert "see the log" in result.out
    log_file = paths.log_file()
    text = log_file.read_text(encoding="utf-8")
    assert f"unexpected error fetching job {job}" in text
    assert "RuntimeError: a bug in the fetch path" in text
    assert simulator.credentials.token not in text
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_file.parent.stat().st_mode) == 0o700


def test_dashboard_warnings_go_to_the_log_not_the_screen(capsys) -> None:
    route_core_warnings(to_stderr=False)
    try:
        logging.getLogger("jobdash.poll.poller").warning("the store is locked \x1b[2J")
    finally:
        route_core_warnings(to_stderr=True)
    assert capsys.readouterr().err == ""
    text = paths.log_file().read_text(encoding="utf-8")
    assert "WARNING jobdash.poll.poller: the store is locked \\x1b[2J" in text


def closed_pipe_run(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run jobdash with its stdout a pipe whose reading end is closed at once."""
    process = subprocess.Popen(
        [*cli_command(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=os.getcwd(),
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `| head -1` having read its line and gone
    err = process.stderr.read().decode()
    return process.wait(timeout=60), err


def test_ls_json_into_a_closed_pipe_ends_quietly(
    simulator: Simulator, subprocess_env: dict[str, str]
) -> None:
    env = subprocess_env_for(simulator, subprocess_env)
    jobs = [simulator.create_servers(1, fail_count=0) for _ in range(3)]
    assert run_process(["add", *connection_flags(simulator), *jobs], env).code == 0
    code, err = closed_pipe_run(["ls", "--json"], env)
    assert (code, err) == (141, "")


def test_status_json_into_a_closed_pipe_ends_quietly(
    simulator: Simulator, subprocess_env: dict[str, str]
) -> None:
    env = subprocess_env_for(simulator, subprocess_env)
    job = simulator.create_servers(1, fail_count=0)
    code, err = closed_pipe_run(["status", "--json", *connection_flags(simulator), job], env)
    assert (code, err) == (141, "")
