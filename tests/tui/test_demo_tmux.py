"""End to end: `jobdash demo` in a real terminal (tmux), read off the screen like a user."""

from __future__ import annotations

import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

WIDTH, HEIGHT = 140, 45


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


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    session = Tmux(tmp_path / "tmux.sock")
    yield session
    subprocess.run(
        ["tmux", "-S", str(session.socket), "kill-server"], capture_output=True, timeout=10
    )


def test_demo_shows_a_failure_and_its_reason(
    tmux: Tmux, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    exit_file = tmp_path / "exit-code"
    env_args = [
        shlex.quote(f"{k}={v}") for k, v in subprocess_env.items() if k.startswith(("XDG_", "HOME"))
    ]
    command = (
        f"env -u COLUMNS -u LINES {' '.join(env_args)} TERM=xterm-256color {sys.executable} -m jobdash demo "
        f"--speed 15 --interval 0.5; echo $? > {exit_file}"
    )
    # Create the window at its size first, then start the demo in it.
    tmux.run(
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-s",
        tmux.session,
        "-x",
        str(WIDTH),
        "-y",
        str(HEIGHT),
        "sleep 600",
    )
    tmux.run("set-option", "-t", tmux.session, "window-size", "manual")
    tmux.run("resize-window", "-t", tmux.session, "-x", str(WIDTH), "-y", str(HEIGHT))
    tmux.run("respawn-pane", "-k", "-t", tmux.session, command)
    first = tmux.wait_for(lambda s: "web tier x20" in s, "the demo's jobs")
    # Two projects in two regions: a row per connection, and each one's state in the header.
    tmux.wait_for(
        lambda s: "demo · eu-nl · eu-nl_demo ● ok" in s and "demo · eu-de · eu-de_demo  " in s,
        "the second region's connection",
    )
    port = re.search(r"http://127\.0\.0\.1:(\d+)", first)
    assert port is not None, first
    tmux.wait_for(lambda s: "✗ createServer" in s, "the batch to fail")
    tmux.keys("n")
    screen = tmux.wait_for(
        lambda s: "fail_reason" in s and "Job failed" not in s and "Job succeeded" not in s,
        "details of a failed sub-job, clear of toasts",
    )
    assert len(screen.splitlines()) == HEIGHT
    cursor_line = next(
        line for line in screen.splitlines() if "Ecs." in line and "✗ server" in line
    )
    code = "Ecs." + cursor_line.split("Ecs.", 1)[1][:4]
    details = [line.split("││", 1)[1] for line in screen.splitlines() if "││" in line]
    panel = " ".join(" ".join(part.strip(" │") for part in details).split())
    # The failure reason as the simulator reported it, read off the details panel.
    reason = panel.split("fail_reason", 1)[1]
    assert "failed" in reason and code in reason, f"{screen}\n{panel}"
    assert f"Error code {code}" in panel
    assert "✗ FAIL" in panel
    tmux.keys("q")
    deadline = time.monotonic() + 20
    while not exit_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert exit_file.read_text().strip() == "0"
    # The in-process simulator went away with it.
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", int(port.group(1))), 2):
        pass
    # Nothing of the demo is left: no watchlist was written to the user's state dir.
    state = Path(subprocess_env["XDG_STATE_HOME"])
    assert not list(state.rglob("*.sqlite3"))
