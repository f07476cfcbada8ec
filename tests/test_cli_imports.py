"""A command loads only what it needs: start-up time is part of every `jobdash status`."""

from __future__ import annotations

import subprocess
import sys

NOT_FOR_STATUS = (
    "textual",
    "jobdash.tui",
    "jobdash.simulator.server",
    "jobdash.cli.watchlist",
    "jobdash.store",
    "rich.live",
    "yaml",  # read only when a clouds.yaml exists
)


def loaded_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_status_parser_and_command_load_neither_dashboard_simulator_nor_store() -> None:
    loaded = loaded_after(
        "from jobdash.cli import build_parser, _async_command\n"
        "build_parser('status').parse_args(['status', '0' * 32])\n"
        "_async_command('status')"
    )
    assert "jobdash.cli.status" in loaded
    unwanted = sorted(m for m in loaded if m.startswith(NOT_FOR_STATUS))
    assert unwanted == []


def test_the_full_parser_still_knows_every_command() -> None:
    loaded = loaded_after("from jobdash.cli import build_parser\nbuild_parser()")
    # the check above would notice: building every command's options loads these
    assert {"jobdash.cli.watchlist", "jobdash.simulator.cli"} <= loaded
