"""End to end: the demo's mixed watchlist (ECS, EVS, IMS, CCE, RDS) in a real terminal
(tmux), read off the screen like a user."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tmux_helpers import Tmux, demo_command, tmux_server

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

# Tall enough for every job of the first region, with its expanded sub-jobs, at once.
WIDTH, HEIGHT = 160, 100

#: Each service's row: its tag, then the job type and id, and the demo's label further on.
ROWS = {
    "ECS": re.compile(r"[●✓✗] createServer [0-9a-f]{8} .*«web tier x20»"),
    "EVS": re.compile(r"[●✓✗] EVS batchCreateVolume [0-9a-f]{8} .*«web data volumes"),
    "IMS": re.compile(r"[●✓✗] IMS \w+ [0-9a-f]{8} .*«web base image»"),
    "CCE": re.compile(r"[●✓✗] CCE CreateNode [0-9a-f]{8} .*«web node pool x3»"),
    "RDS": re.compile(r"[●✓✗] RDS \w+ [0-9a-f]{8} .*«orders database»"),
}


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    with tmux_server(tmp_path) as session:
        yield session


def tree_lines(screen: str) -> list[str]:
    """The job tree's cells, line by line (the left panel, without its borders)."""
    # The last "││" is where the panels meet: a sub-job row begins with one of its own.
    return [line.rsplit("││", 1)[0][1:].rstrip() for line in screen.splitlines() if "││" in line]


def details_panel(screen: str) -> str:
    """The details panel's text, line by line (from its left border's column on)."""
    lines = screen.splitlines()
    column = next(line.index("╭─ Details") for line in lines if "╭─ Details" in line)
    return "\n".join(line[column + 1 :].strip(" │") for line in lines if len(line) > column)


def cce_job_and_subs(screen: str) -> tuple[str, list[str]]:
    """The CCE job's row and the sub-job rows under it."""
    lines = tree_lines(screen)
    at = next(i for i, line in enumerate(lines) if ROWS["CCE"].search(line))
    subs = []
    for line in lines[at + 1 :]:
        if not line.startswith(("│  ├─", "│  └─")):
            break
        subs.append(line)
    return lines[at], subs


def cce_failed_with_a_failed_node(screen: str) -> bool:
    if not ROWS["CCE"].search(screen):
        return False
    row, subs = cce_job_and_subs(screen)
    return "✗ CCE CreateNode" in row and any("✗" in sub and "CreateNode" in sub for sub in subs)


def test_the_mixed_demo_shows_each_service_its_details_and_a_failed_node_pool(
    tmux: Tmux, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    exit_file = tmp_path / "exit-code"
    command = demo_command(subprocess_env, exit_file, speed=15)
    tmux.start(command, WIDTH, HEIGHT)
    # Every service's job is on screen, tagged with its service, next to the ECS batch.
    screen = tmux.wait_for(
        lambda s: all(row.search(s) for row in ROWS.values()), "a row of every service"
    )
    lines = tree_lines(screen)
    for service, row in ROWS.items():
        assert sum(1 for line in lines if row.search(line)) == 1, f"{service}:\n{screen}"
    # The ECS rows carry no tag: ECS is what a job is when nothing says otherwise.
    assert not any("ECS " in line for line in lines), screen

    # The node pool's job ends failed, and the node that failed is there under it.
    screen = tmux.wait_for(cce_failed_with_a_failed_node, "the CCE job to fail with its node")
    row, subs = cce_job_and_subs(screen)
    assert "✗" in row and re.search(r"\d+/\d+", row), row
    failed = [sub for sub in subs if "✗" in sub]
    succeeded = [sub for sub in subs if "✓" in sub]
    assert failed and succeeded, "\n".join(subs)

    # The database's job: its details name the service and show the service's own word.
    tmux.wait_for(lambda s: "✓ RDS " in s, "the RDS job to end")
    tmux.keys("/")
    tmux.wait_for(lambda s: "▊" in s, "the filter's input")
    tmux.keys("-l", "orders")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "matching 'orders'" in s, "the filtered tree")
    tmux.keys("Down")
    screen = tmux.wait_for(lambda s: "«orders database»" in s and "service " in s, "RDS details")
    panel = details_panel(screen)
    assert re.search(r"^service\s+RDS$", panel, re.M), panel
    # jobdash's state, and RDS's own word for it beside it.
    assert re.search(r"^status\s+✓ SUCCESS \(Completed\)$", panel, re.M), panel
    assert re.search(r"^label\s+orders database$", panel, re.M), panel

    tmux.keys("q")
    deadline = time.monotonic() + 20
    while not exit_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert exit_file.read_text().strip() == "0"
