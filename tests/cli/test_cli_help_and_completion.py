"""The help a first-time user reads, `-V`, and the shell completion `jobdash completion`
prints, run in the shell it is for."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import run_cli

from jobdash import __version__

CONNECTION_FLAGS = (
    "--os-cloud",
    "--endpoint",
    "--project-id",
    "--region",
    "--ca-file",
    "--insecure",
)


def help_text(words: list[str], capsys, monkeypatch) -> str:
    with pytest.raises(SystemExit) as stopped:
        run_cli(words, capsys, monkeypatch)
    assert stopped.value.code == 0
    return capsys.readouterr().out


def test_the_main_help_lists_the_connection_flags_and_the_exit_codes_once(
    capsys, monkeypatch
) -> None:
    main = help_text(["--help"], capsys, monkeypatch)
    for flag in CONNECTION_FLAGS:
        assert flag in main
    assert "before or after the command" in main
    assert "exit codes: 0 ok" in main and "141" in main
    assert "completion" in main
    for command in ("status", "ls", "add", "history", "simulate"):
        text = help_text([command, "--help"], capsys, monkeypatch)
        assert "exit codes: 0 ok" not in text, command
        assert "see `jobdash --help`" in text, command


def test_every_connection_flag_says_what_it_is(capsys, monkeypatch) -> None:
    text = help_text(["status", "--help"], capsys, monkeypatch)
    lines = text.splitlines()
    for flag in CONNECTION_FLAGS:
        (line,) = [line for line in lines if line.strip().startswith(flag)]
        described = line.strip().split(maxsplit=2)[-1]
        assert described and not described.startswith("("), (flag, line)


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_short_and_long_version(flag: str, capsys, monkeypatch) -> None:
    assert help_text([flag], capsys, monkeypatch).strip() == f"jobdash {__version__}"


def script(shell: str, capsys, monkeypatch) -> str:
    result = run_cli(["completion", shell], capsys, monkeypatch)
    assert result.code == 0, result.err
    return result.out


def bash_complete(script_path: Path, line: str) -> list[str]:
    """What bash offers for `line` (the cursor at its end) with the script sourced."""
    words = line.split(" ")
    program = "\n".join(
        [
            f"source {script_path}",
            f"COMP_WORDS=({' '.join(repr(word) for word in words)})",
            f"COMP_CWORD={len(words) - 1}",
            '_jobdash; printf "%s\\n" "${COMPREPLY[@]}"',
        ]
    )
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return [word for word in done.stdout.splitlines() if word]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_commands_options_and_values(capsys, monkeypatch, tmp_path: Path) -> None:
    path = tmp_path / "jobdash.bash"
    path.write_text(script("bash", capsys, monkeypatch), encoding="utf-8")
    assert bash_complete(path, "jobdash st") == ["status"]
    assert set(bash_complete(path, "jobdash ")) >= {"status", "add", "ls", "completion"}
    assert bash_complete(path, "jobdash status --ex") == ["--exit-status"]
    assert bash_complete(path, "jobdash --os-cloud prod status --wa") == ["--watch"]
    assert bash_complete(path, "jobdash add --service r") == ["rds"]
    assert bash_complete(path, "jobdash completion f") == ["fish"]
    assert bash_complete(path, "jobdash ls --os-cloud ") == []  # a name of the user's own
    (tmp_path / "ca.pem").write_text("", encoding="utf-8")
    assert bash_complete(path, f"jobdash status --ca-file {tmp_path}/ca") == [f"{tmp_path}/ca.pem"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_load_in_their_shell(
    shell: str, capsys, monkeypatch, tmp_path: Path
) -> None:
    text = script(shell, capsys, monkeypatch)
    if shell == "fish":
        assert "-a status" in text and "-l exit-status" in text and "-l os-cloud" in text
    else:
        assert "bashcompinit" in text and "_jobdash" in text
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed: the script is checked as text only")
    path = tmp_path / f"jobdash.{shell}"
    path.write_text(text, encoding="utf-8")
    check = (
        ["zsh", "-c", f"source {path} && whence -w _jobdash"]
        if shell == "zsh"
        else ["fish", "-c", f"source {path}; and complete -C 'jobdash st'"]
    )
    done = subprocess.run(check, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert ("status" if shell == "fish" else "function") in done.stdout


def test_completion_needs_a_shell_name(subprocess_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "jobdash", "completion", "tcsh"],
        capture_output=True,
        text=True,
        timeout=30,
        env=subprocess_env,
    )
    assert done.returncode == 2
    assert "invalid choice" in done.stderr and "bash" in done.stderr
