"""config.toml: loaded once into a typed Config, every table checked the same way,
every number within its documented range (exit 2 otherwise)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import connection_flags, run_cli

from jobdash.api.errors import ConfigError
from jobdash.config import config_file as config_module
from jobdash.config.config_file import Config, UiOptions, load_config
from jobdash.config.paths import config_file
from jobdash.poll.options import RANGES, PollerOptions
from jobdash.simulator import Simulator


def write_config(text: str) -> Path:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file() -> None:
    config = load_config()
    assert isinstance(config, Config) and not config.found
    assert config.poller == PollerOptions()
    assert config.ui == UiOptions(notify=True, bell=True)
    assert config.connection.region is None


def test_every_table_is_typed() -> None:
    path = write_config(
        '[connection]\nregion = "eu-nl"\ninsecure = true\n\n'
        "[poller]\ninterval = 5\nmax_in_flight = 16\n\n[ui]\nbell = false\n"
    )
    config = load_config()
    assert config.found and config.path == path
    assert (config.connection.region, config.connection.insecure) == ("eu-nl", True)
    assert (config.poller.interval, config.poller.max_in_flight) == (5.0, 16)
    assert config.ui == UiOptions(notify=True, bell=False)
    assert config.poller_with(9.0).interval == 9.0
    with pytest.raises(AttributeError):
        config.ui.bell = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[poller]\nmax_in_flight = 1000000000\n",
            "max_in_flight must be from 1 to 256, not 1000000000",
        ),
        ("[poller]\ninterval = 0.01\n", "interval must be from 0.1 to 3600, not 0.01"),
        ("[poller]\nmax_interval = 100000\n", "max_interval must be from 0.1 to 86400"),
        ("[poller]\nmax_rps = 1e6\n", "max_rps must be from 0.1 to 10000"),
        ("[ui]\nbell = 1\n", "[ui] bell must be true or false"),
        ("[ui]\nnotfy = false\n", "unknown key(s) in [ui]: notfy"),
        ("ui = 3\n", "[ui] must be a table"),
        ("[polller]\ninterval = 1\n", "unknown table(s) or key(s) at the top level: polller"),
    ],
)
def test_bad_values_are_configuration_errors_naming_the_file(text: str, message: str) -> None:
    path = write_config(text)
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_the_range_table_covers_every_poller_number() -> None:
    assert set(RANGES) == {"interval", "max_interval", "max_in_flight", "max_rps"}
    for least, most in RANGES.values():
        assert 0 < least < most


def test_out_of_range_is_exit_2_for_every_command(
    simulator: Simulator, capsys, monkeypatch
) -> None:
    write_config("[poller]\nmax_in_flight = 1000000000\n")
    job = simulator.create_servers(1, fail_count=0)
    flags = connection_flags(simulator)
    for args in (["status", *flags, job], ["add", *flags, job]):
        result = run_cli(args, capsys, monkeypatch, sim=simulator)
        assert result.code == 2, args
        assert "max_in_flight must be from 1 to 256, not 1000000000" in result.err


def test_interval_flag_out_of_range_is_exit_2(simulator: Simulator, capsys, monkeypatch) -> None:
    job = simulator.create_servers(1, fail_count=0)
    result = run_cli(
        ["status", *connection_flags(simulator), "--interval", "0.01", job],
        capsys,
        monkeypatch,
        sim=simulator,
    )
    assert result.code == 2
    assert "--interval must be from 0.1 to 3600 seconds" in result.err


def test_status_reads_config_toml_once(simulator: Simulator, capsys, monkeypatch) -> None:
    write_config("[poller]\ninterval = 2\n\n[ui]\nbell = false\n")
    reads: list[Path | None] = []
    real = config_module.load_config_toml

    def counting(path: Path | None = None) -> dict:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(config_module, "load_config_toml", counting)
    job = simulator.create_servers(1, fail_count=0)
    result = run_cli(
        ["status", *connection_flags(simulator), job], capsys, monkeypatch, sim=simulator
    )
    assert result.code == 0, result.err
    assert len(reads) == 1
