"""The README's "Trying it against the simulator by hand", run as written: `jobdash simulate`
in the background, then in one shell and on one watchlist each printed block pasted in
turn, each followed by the README's commands. Only the port (a free one), the speed and the
failure rate (none, so that `--exit-status` is 0) differ; the dashboard line is left to the
tmux test.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import cli_command

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Trying it against the simulator by hand"

pytestmark = pytest.mark.skipif(
    shutil.which("bash") is None or shutil.which("curl") is None, reason="needs bash and curl"
)


def walkthrough() -> tuple[str, list[str]]:
    """The simulate command and the commands run after pasting a block, from the README."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", len(SECTION))]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2, "the section has the simulate block and the commands block"
    simulate = blocks[0].split("#", 1)[0].strip()
    joined = blocks[1].replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        command = line.split("  #", 1)[0].strip()
        if command and command != "jobdash":  # the dashboard needs a terminal
            commands.append(command)
    return simulate, commands


@pytest.fixture
def printed_blocks(subprocess_env: dict[str, str]) -> Iterator[dict[str, list[str]]]:
    simulate, _ = walkthrough()
    assert simulate.startswith("jobdash simulate ") and "--port 8787" in simulate
    args = simulate.split()[1:]
    args[args.index("--port") + 1] = "0"
    args[args.index("--speed") + 1] = "120"
    process = subprocess.Popen(
        [*cli_command(), *args, "--fail-rate", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env,
    )
    try:
        assert process.stdout is not None
        blocks: dict[str, list[str]] = {}
        current: list[str] = []
        process.stdout.readline()  # the banner
        while len(blocks) < 3 or not current[-1].startswith("export OS_SECRET_KEY"):
            line = process.stdout.readline().rstrip("\n")
            assert line, "the simulator stopped printing before all three blocks"
            if line.startswith("# "):
                current = blocks.setdefault(line, [])
            current.append(line)
        yield blocks
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


#: Printed between rounds, to tell each block's output apart.
ROUND = "=== round: "


def test_the_printed_blocks_run_the_walkthrough_one_after_another(
    printed_blocks: dict[str, list[str]], subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    _, commands = walkthrough()
    assert list(printed_blocks) == ["# static token:", "# or IAM password:", "# or AK/SK:"]
    env = dict(subprocess_env)
    # One watchlist for all three rounds, as a user trying each method in turn has.
    for name, sub in (("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache")):
        env[name] = str(tmp_path / sub)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # A shell where something else was set before: the first block must override it.
    env["OS_AUTH_TOKEN"] = "left-over-from-another-shell"
    script = ["set -euo pipefail"]
    for title, block in printed_blocks.items():
        script += [f"echo {shlex.quote(ROUND + title)}", *block, *commands]
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    rounds = result.stdout.split(ROUND)[1:]
    assert [r.splitlines()[0] for r in rounds] == list(printed_blocks)
    for text in rounds:
        assert re.search(r"^[0-9a-f]{32}$", text, flags=re.M), text
        assert "✓ SUCCESS" in text and "10/10" in text, text
        assert "no credentials" not in text and "no_credentials" not in text, text
