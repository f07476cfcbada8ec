"""Driving a program in a real terminal: a tmux server of its own, read off the pane."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class Tmux:
    def __init__(self, socket: Path) -> None:
        self.socket = socket
        self.session = f"jobdash-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return result.stdout

    def start(self, command: str, width: int, height: int) -> None:
        """Run the shell `command` in a window of exactly `width` x `height` cells."""
        # Create the window at its size first, then start the command in it.
        self.run(
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            self.session,
            "-x",
            str(width),
            "-y",
            str(height),
            "sleep 600",
        )
        self.run("set-option", "-t", self.session, "window-size", "manual")
        self.run("resize-window", "-t", self.session, "-x", str(width), "-y", str(height))
        self.run("respawn-pane", "-k", "-t", self.session, command)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.session, *keys)

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float = 60) -> str:
        """Poll the pane until `condition` holds; the timeout only bounds a hung run."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"gave up waiting for {what}; the pane shows:\n{screen}")


@contextmanager
def tmux_server(directory: Path) -> Iterator[Tmux]:
    """A tmux server of its own (socket in `directory`), killed with all it runs after."""
    session = Tmux(directory / "tmux.sock")
    try:
        yield session
    finally:
        subprocess.run(
            ["tmux", "-S", str(session.socket), "kill-server"], capture_output=True, timeout=10
        )


def demo_command(subprocess_env: dict[str, str], exit_file: Path, *, speed: float) -> str:
    """`jobdash demo` as a user types it (the test's own config and state dirs, no
    inherited size), writing its exit code to `exit_file` once it ends."""
    env_args = [
        shlex.quote(f"{k}={v}") for k, v in subprocess_env.items() if k.startswith(("XDG_", "HOME"))
    ]
    return (
        f"env -u COLUMNS -u LINES {' '.join(env_args)} TERM=xterm-256color {sys.executable} "
        f"-m jobdash demo --speed {speed:g} --interval 0.5; echo $? > {exit_file}"
    )
