"""The commands that talk to no cloud (`demo`, `simulate`, `history`, `serve --demo`) refuse
the connection flags clearly, before or after their name, instead of ignoring them or
answering with the top-level usage."""

from __future__ import annotations

import pytest
from cli_helpers import run_cli

import jobdash.cli as cli
from jobdash.tui import launch


@pytest.fixture(autouse=True)
def nothing_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Were a refused command to run anyway, the test fails instead of opening a demo."""

    def started(*_args: object, **_kwargs: object) -> int:
        raise AssertionError("the command ran despite the refused flags")

    monkeypatch.setattr(launch, "run_demo", started)
    monkeypatch.setattr("jobdash.simulator.cli.run_simulate", started)
    monkeypatch.setattr("jobdash.cli.serve.run_serve", started)


@pytest.mark.parametrize(
    ("argv", "command", "flags", "hint"),
    [
        (["--os-cloud", "prod", "demo"], "demo", "--os-cloud", "jobdash --os-cloud NAME"),
        (["demo", "--speed", "3", "--endpoint=http://x", "--insecure"], "demo",
         "--endpoint, --insecure", "opens the dashboard"),
        (["simulate", "--project-id", "p" * 32], "simulate", "--project-id", "it prints them"),
        (["--region", "eu-nl", "simulate", "--port", "0"], "simulate", "--region", "prints"),
        (["history", "--os-cloud", "prod"], "history", "--os-cloud", "ls --os-cloud"),
        (["serve", "--demo", "--os-cloud", "prod"], "serve --demo", "--os-cloud", "--demo"),
        (["--endpoint", "http://x", "serve", "--demo"], "serve --demo", "--endpoint", "--demo"),
    ],
)  # fmt: skip
def test_connection_flags_are_refused_by_commands_without_a_connection(
    argv: list[str],
    command: str,
    flags: str,
    hint: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = run_cli(argv, capsys, monkeypatch)
    assert result.code == 2
    first, second = result.err.splitlines()[:2]
    assert first.startswith(f"jobdash: `jobdash {command}` takes no connection flags ({flags}):")
    assert hint in second
    assert "usage:" not in result.err and not result.out


def test_their_own_options_and_the_others_flags_still_work(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    monkeypatch.setattr(cli, "has_terminal", lambda: True)  # as if typed in a terminal
    monkeypatch.setattr(launch, "run_demo", lambda args: ran.append(f"demo {args.speed}") or 0)
    assert run_cli(["demo", "--speed", "3"], capsys, monkeypatch).code == 0
    assert ran == ["demo 3.0"]
    # A command with a connection takes the flags, before or after its name.
    listed = run_cli(["--os-cloud", "prod", "ls"], capsys, monkeypatch)
    assert "takes no connection flags" not in listed.err
    assert run_cli(["history", "--json"], capsys, monkeypatch).code == 0
