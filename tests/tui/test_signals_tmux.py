"""Signals from outside end the dashboard as `q` does, in a real terminal (tmux): the
terminal leaves the alternate screen with mouse reporting off, and the exit code is the
documented one (an interrupt 130; a closed terminal or SIGTERM 0)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tmux_helpers import Tmux, demo_command, tmux_server

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

#: The pane's terminal modes that the dashboard turns on and must turn off again.
MODES = ("alternate_on", "mouse_any_flag", "mouse_all_flag", "mouse_button_flag", "mouse_sgr_flag")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    with tmux_server(tmp_path) as session:
        yield session


def _modes(tmux: Tmux) -> dict[str, str]:
    shown = tmux.run(
        "display-message", "-p", "-t", tmux.session, " ".join(f"#{{{m}}}" for m in MODES)
    )
    return dict(zip(MODES, shown.split(), strict=True))


def _dashboard_pid(tmux: Tmux) -> int:
    """The jobdash process: the pane shell's child."""
    shell = tmux.run("display-message", "-p", "-t", tmux.session, "#{pane_pid}").strip()
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", shell], capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(children) == 1, children
    return int(children[0])


def _exit_code(exit_file: Path, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if exit_file.exists() and exit_file.read_text().strip():
            return exit_file.read_text().strip()
        time.sleep(0.1)
    raise AssertionError("the dashboard did not end")


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGHUP, "0"), (signal.SIGTERM, "0"), (signal.SIGINT, "130")],
    ids=["SIGHUP", "SIGTERM", "SIGINT"],
)
def test_a_signal_restores_the_terminal_and_exits_as_documented(
    tmux: Tmux, subprocess_env: dict[str, str], tmp_path: Path, signum: int, code: str
) -> None:
    exit_file = tmp_path / "exit-code"
    # The shell stays on after it, as a user's would: its terminal is what is checked.
    tmux.start(demo_command(subprocess_env, exit_file, speed=15) + "; sleep 60", 120, 40)
    tmux.wait_for(lambda s: "web tier x20" in s, "the demo's jobs")
    modes = _modes(tmux)
    assert modes["alternate_on"] == "1" and modes["mouse_any_flag"] == "1", modes
    os.kill(_dashboard_pid(tmux), signum)
    assert _exit_code(exit_file) == code
    assert set(_modes(tmux).values()) == {"0"}, _modes(tmux)
    # Back on the shell's screen, no traceback on it.
    screen = tmux.screen()
    assert "Traceback" not in screen and "web tier x20" not in screen, screen
