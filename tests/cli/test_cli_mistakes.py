"""What a first-time user trips on at the command line: a mistyped command, and the
dashboard started where there is no terminal. Run as a user runs them, in a child process."""

from __future__ import annotations

import subprocess
import sys

import pytest


def jobdash(*words: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobdash", *words],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )


@pytest.mark.parametrize(
    ("words", "suggestion"),
    [
        (["stauts"], "did you mean `jobdash status`?"),
        (["--os-cloud", "prod", "hsitory"], "did you mean `jobdash history`?"),
        (["frobnicate"], "see `jobdash --help`"),
    ],
)
def test_a_mistyped_command_is_an_error_with_a_suggestion(
    words: list[str], suggestion: str, subprocess_env: dict[str, str]
) -> None:
    result = jobdash(*words, env=subprocess_env)
    assert result.returncode == 2
    assert "unknown command" in result.stderr and "not a job id" in result.stderr
    assert suggestion in result.stderr
    assert "Traceback" not in result.stderr and not result.stdout


@pytest.mark.parametrize("command", [[], ["ui"], ["demo"], ["0123456789abcdef0123456789abcdef"]])
def test_the_dashboard_without_a_terminal_refuses_and_points_to_status(
    command: list[str], subprocess_env: dict[str, str]
) -> None:
    result = jobdash(*command, env=subprocess_env)
    assert result.returncode == 2
    assert "needs a terminal" in result.stderr
    assert "jobdash status" in result.stderr
    assert not result.stdout  # no escape codes into the file or pipe
