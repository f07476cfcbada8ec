"""Running the `jobdash` command in tests: in-process for speed, as a subprocess where it matters."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from jobdash.cli import main
from jobdash.simulator import Simulator, SimulatorConfig


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def connection_flags(sim: Simulator) -> list[str]:
    return ["--endpoint", sim.url, "--project-id", sim.project_id]


def run_cli(
    args: Sequence[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *,
    sim: Simulator | None = None,
    stdin: str | None = None,
    columns: int = 200,
) -> CliResult:
    """Run `jobdash ARGS` in this process with the simulator's static token."""
    monkeypatch.setenv("COLUMNS", str(columns))
    if sim is not None:
        monkeypatch.setenv("OS_AUTH_TOKEN", sim.credentials.token)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin) if stdin is not None else _TtyStdin())
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


class _TtyStdin(io.StringIO):
    """An empty stdin that claims to be a terminal, so nothing is read from it."""

    def isatty(self) -> bool:
        return True


def cli_command() -> list[str]:
    return [sys.executable, "-m", "jobdash"]


def subprocess_env_for(sim: Simulator | None, base: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    env["COLUMNS"] = "200"
    env.pop("FORCE_COLOR", None)
    if sim is not None:
        env["OS_AUTH_TOKEN"] = sim.credentials.token
    return env


def run_process(
    args: Sequence[str],
    env: dict[str, str],
    *,
    stdin: str | None = None,
    timeout: float = 60,
) -> CliResult:
    result = subprocess.run(
        [*cli_command(), *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd=os.getcwd(),
    )
    return CliResult(result.returncode, result.stdout, result.stderr)


def fast_simulator(**overrides: Any) -> Simulator:
    """A simulator whose clock runs fast, for following jobs to the end in real time."""
    settings: dict[str, Any] = {"speed": 60.0, "seed": 7, "fail_rate": 0.0}
    settings.update(overrides)
    return Simulator(SimulatorConfig(**settings)).start()
