"""A broken config.toml is the same error for every command that reads settings: one
message naming the file and what is wrong, exit 2, whatever the command would have done."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import run_cli

from jobdash.config import paths

BROKEN = {
    "syntax error": ("[poller\ninterval = 3\n", "is not valid TOML"),
    "unknown key": ("[poller]\ninterval = 3\nspeed = 2\n", "speed"),
    "out of range": ("[poller]\nmax_rps = 0\n", "max_rps"),
}

COMMANDS = [
    ["status"],
    ["status", "0123456789abcdef0123456789abcdef"],
    ["ls"],
    ["ls", "--json"],
    ["history"],
    ["rm", "--finished"],
    ["add", "--endpoint", "http://127.0.0.1:9", "--project-id", "p1", "0" * 32],
    ["discover"],
    ["ui"],
    ["demo"],
]


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_every_command_refuses_a_broken_config_alike(broken: str, capsys, monkeypatch) -> None:
    text, named = BROKEN[broken]
    path: Path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    errors = {}
    for words in COMMANDS:
        result = run_cli(words, capsys, monkeypatch)
        assert result.code == 2, (words, result.err)
        assert str(path) in result.err and named in result.err, (words, result.err)
        assert not result.out, words
        errors[" ".join(words)] = result.err
    assert len(set(errors.values())) == 1, errors  # one message, word for word


def test_commands_that_read_no_setting_still_run(capsys, monkeypatch) -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[poller\n", encoding="utf-8")
    result = run_cli(["completion", "bash"], capsys, monkeypatch)
    assert result.code == 0, result.err
    assert "complete -F _jobdash jobdash" in result.out
