"""`jobdash ls` at a narrow terminal keeps every column and wraps between words; into a
pipe it prints whole values, tab-separated (the columns `ls --help` names)."""

from __future__ import annotations

import os
import pty
import re
import subprocess
from collections.abc import Callable

import pytest
from cli_helpers import cli_command, connection_flags, run_cli

from jobdash.cli.watchlist import PLAIN_COLUMNS
from jobdash.simulator import Simulator

LABEL = "nightly rollout of the web tier"


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    return simulator_factory(seed=5, fail_rate=0.0)


@pytest.fixture
def watched(sim: Simulator, capsys, monkeypatch) -> list[str]:
    """Two fetched jobs with a long label, one never fetched with none."""
    jobs = [sim.create_servers(2, "web", fail_count=0, duration=(5, 5)) for _ in range(2)]
    sim.advance(60)
    flags = connection_flags(sim)
    added = run_cli(["add", *flags, "--label", LABEL, *jobs], capsys, monkeypatch, sim=sim)
    assert added.code == 0, added.err
    assert run_cli(["status", *flags], capsys, monkeypatch, sim=sim).code == 0
    later = "fedcba9876543210fedcba9876543210"
    assert run_cli(["add", *flags, later], capsys, monkeypatch, sim=sim).code == 0
    return [*jobs, later]


def ls_on_a_terminal(columns: int, env: dict[str, str]) -> str:
    """`jobdash ls` with its output on a pseudo-terminal `columns` wide, as a user sees it."""
    main, child = pty.openpty()
    env = {**env, "COLUMNS": str(columns), "LINES": "40", "TERM": "xterm", "NO_COLOR": "1"}
    process = subprocess.Popen(
        [*cli_command(), "ls"], stdin=subprocess.DEVNULL, stdout=child, stderr=child, env=env
    )
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed its side
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert process.wait(timeout=30) == 0
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    return re.sub(r"\x1b\[[0-9;]*m", "", text)  # bold and dim: the text is what is checked


@pytest.mark.parametrize("columns", [80, 100])
def test_a_narrow_terminal_keeps_the_label_and_wraps_between_words(
    columns: int, watched: list[str], subprocess_env: dict[str, str]
) -> None:
    text = ls_on_a_terminal(columns, subprocess_env)
    lines = text.splitlines()
    assert all(len(line) <= columns for line in lines), text
    assert "label" in lines[0], text
    for job_id in watched:
        assert job_id in text  # ids whole, on one line
    words = " ".join(text.split())
    # Every word of the label is there whole: wrapped between words, never cut.
    for word in LABEL.split():
        assert f" {word} " in f" {words} ", text
    assert not re.search(r"\w…", text), text  # no word cut with an ellipsis
    assert "createServer" in words.split()
    assert "never" in words  # the job not fetched yet


def test_into_a_pipe_each_job_is_one_line_of_whole_tab_separated_values(
    watched: list[str], sim: Simulator, capsys, monkeypatch
) -> None:
    result = run_cli(["ls"], capsys, monkeypatch, columns=40)
    assert result.code == 0, result.err
    header, *rows = [line.split("\t") for line in result.out.splitlines()]
    assert tuple(header) == PLAIN_COLUMNS
    assert [row[0] for row in rows] == watched
    assert all(len(row) == len(PLAIN_COLUMNS) for row in rows)
    first = dict(zip(PLAIN_COLUMNS, rows[0], strict=True))
    assert first["status"] == "SUCCESS"
    assert first["label"] == LABEL
    assert first["service"] == "ecs"
    assert first["project_id"] == sim.project_id
    assert first["endpoint"] == sim.url
    assert first["fetched_at"].endswith("+00:00")
    never = dict(zip(PLAIN_COLUMNS, rows[2], strict=True))
    assert never["status"] == "unknown" and never["label"] == "-" and never["fetched_at"] == "-"
    assert "\x1b" not in result.out


def test_the_pipe_columns_are_documented(capsys, monkeypatch) -> None:
    with pytest.raises(SystemExit):
        run_cli(["ls", "--help"], capsys, monkeypatch)
    assert "tabs: " + ", ".join(PLAIN_COLUMNS) in " ".join(capsys.readouterr().out.split())
