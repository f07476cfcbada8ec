"""A command loads only what it needs: start-up time is part of every `jobdash status`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import connection_flags

from jobdash.config import paths
from jobdash.simulator import Simulator

NOT_FOR_STATUS = (
    "textual",
    "jobdash.tui",
    "jobdash.simulator.server",
    "jobdash.cli.watchlist",
    "jobdash.store",
    "rich.live",
    "yaml",  # read only when a clouds.yaml exists
)


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    return simulator_factory(seed=5, fail_rate=0.0)


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


# A whole `jobdash status` run in a child process, then the modules it loaded.
_RUN_STATUS = """
import sys
from jobdash.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
print("--modules--")
print("\\n".join(sorted(sys.modules)))
sys.exit(code)
"""


def loaded_by_status(args: list[str], env: dict[str, str]) -> tuple[str, set[str]]:
    result = subprocess.run(
        [sys.executable, "-c", _RUN_STATUS, "status", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    shown, _, modules = result.stdout.partition("--modules--\n")
    return shown, set(modules.split())


def test_status_of_one_job_into_a_pipe_loads_only_what_it_needs(
    sim: Simulator, subprocess_env: dict[str, str]
) -> None:
    job = sim.create_servers(2, fail_count=0, duration=(5, 5))
    sim.advance(60)
    env = {**subprocess_env, "OS_AUTH_TOKEN": sim.credentials.token}
    shown, loaded = loaded_by_status([*connection_flags(sim), job], env)
    assert job in shown and "SUCCESS" in shown
    # No config.toml: nothing to parse, so no TOML parser either. (The store is not in
    # this list: the poller's store writer names its error type.)
    not_for_this = (*(m for m in NOT_FOR_STATUS if m != "jobdash.store"), "tomllib")
    unwanted = sorted(m for m in loaded if m.startswith(not_for_this))
    assert unwanted == []
    assert "jobdash.cli.status" in loaded


def test_status_reads_clouds_yaml_and_config_toml_when_they_exist(
    sim: Simulator, subprocess_env: dict[str, str], isolated_dirs: Path
) -> None:
    """The other side of the test above: the parsers load when there is a file to read."""
    job = sim.create_servers(1, fail_count=0, duration=(5, 5))
    clouds = isolated_dirs / "clouds.yaml"
    clouds.write_text(
        "clouds:\n"
        "  sim:\n"
        f"    auth: {{token: {sim.credentials.token}, project_id: {sim.project_id}}}\n"
        f"    endpoint: {sim.url}\n"
        "    region_name: eu-de\n"
    )
    config = paths.config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[poller]\ninterval = 5\n")
    env = {**subprocess_env, "OS_CLIENT_CONFIG_FILE": str(clouds), "OS_CLOUD": "sim"}
    shown, loaded = loaded_by_status([job], env)
    assert job in shown
    assert {"yaml", "tomllib"} <= loaded
    assert not any(m.startswith(("textual", "jobdash.tui")) for m in loaded)
