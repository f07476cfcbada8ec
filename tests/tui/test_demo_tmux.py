"""End to end: `jobdash demo` in a real terminal (tmux), read off the screen like a user."""

from __future__ import annotations

import re
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tmux_helpers import Tmux, demo_command, tmux_server

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

WIDTH, HEIGHT = 140, 45


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    with tmux_server(tmp_path) as session:
        yield session


def test_demo_shows_a_failure_and_its_reason(
    tmux: Tmux, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    exit_file = tmp_path / "exit-code"
    command = demo_command(subprocess_env, exit_file, speed=15)
    tmux.start(command, WIDTH, HEIGHT)
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
