"""Shared fixtures. Every test runs with its own config, state and cache directories."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jobdash.simulator import Simulator, SimulatorConfig

# The tests live in folders named after the packages they test; the helpers they share
# (`cli_helpers`, `poller_helpers`, ...) sit here.
sys.path.insert(0, str(Path(__file__).parent))

#: End-to-end tests that take a real terminal, a browser or a benchmark run: `-m "not slow"`
#: leaves them out for a quick run (the README's command runs everything).
SLOW_FILES = ("bench/", "cli/test_serve.py", "cli/test_readme_walkthrough.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        where = item.path.relative_to(root).as_posix() if item.path.is_relative_to(root) else ""
        if item.get_closest_marker("tmux") or where.startswith(SLOW_FILES):
            item.add_marker(pytest.mark.slow)


CREDENTIAL_ENV = (
    "OS_CLOUD",
    "OS_AUTH_URL",
    "OS_USERNAME",
    "OS_PASSWORD",
    "OS_USER_DOMAIN_NAME",
    "OS_PROJECT_ID",
    "OS_PROJECT_NAME",
    "OS_REGION_NAME",
    "OS_AUTH_TOKEN",
    "OS_ACCESS_KEY",
    "OS_SECRET_KEY",
    "OS_CLIENT_CONFIG_FILE",
    "OS_CLIENT_SECURE_FILE",
    "JOBDASH_ENDPOINT",
)


#: Tests talk to loopback servers directly (a test that wants a proxy sets one).
PROXY_ENV = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")


def _is_credential_variable(name: str) -> bool:
    # Every OS_* variable: openstacksdk (the parity tests) reads them all.
    return name in CREDENTIAL_ENV or name.startswith("OS_") or name.upper() in PROXY_ENV


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point XDG dirs and HOME at a temporary folder and drop any real credentials."""
    home = tmp_path / "home"
    for name, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_DIRS", "etc-xdg"),
    ):
        path = home / sub
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(path))
    monkeypatch.setenv("HOME", str(home))
    for name in [n for n in os.environ if _is_credential_variable(n)]:
        monkeypatch.delenv(name, raising=False)
    # openstacksdk's search path includes the working directory: run from an empty one.
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    yield home


@pytest.fixture
def subprocess_env(isolated_dirs: Path) -> dict[str, str]:
    """Environment for child processes: the isolated dirs, no credentials."""
    return {k: v for k, v in os.environ.items() if not _is_credential_variable(k)}


# -- simulator ---------------------------------------------------------------------------

SIMULATOR_SEED = 1234


@pytest.fixture
def simulator_factory() -> Iterator[Callable[..., Simulator]]:
    """Start simulators with custom settings (manual clock and a fixed seed unless given)."""
    started: list[Simulator] = []

    def make(**overrides: object) -> Simulator:
        settings: dict[str, object] = {"manual_clock": True, "seed": SIMULATOR_SEED}
        settings.update(overrides)
        sim = Simulator(SimulatorConfig(**settings))  # type: ignore[arg-type]
        started.append(sim.start())
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def simulator(simulator_factory: Callable[..., Simulator]) -> Simulator:
    """A running simulator on a free loopback port; time moves only via `advance()`."""
    return simulator_factory()
