from __future__ import annotations

import pytest

from jobdash.api.errors import ConfigError
from jobdash.config.config_file import load_config_toml
from jobdash.config.paths import config_file
from jobdash.poll.options import RANGES, PollerOptions, poller_options


def test_defaults_without_a_config() -> None:
    assert poller_options({}) == PollerOptions(3.0, 30.0, 32, 100.0)
    assert poller_options(None, interval=1.5).interval == 1.5


def test_config_table_and_flag_precedence() -> None:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[poller]\ninterval = 5\nmax_in_flight = 16\nmax_rps = 2.5\n")
    options = poller_options(load_config_toml())
    assert options == PollerOptions(interval=5.0, max_interval=30.0, max_in_flight=16, max_rps=2.5)
    assert poller_options(load_config_toml(), interval=60).max_interval == 60.0


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"poller": {"interval": 0}}, "interval must be a positive number"),
        ({"poller": {"max_rps": "fast"}}, "max_rps must be a positive number"),
        ({"poller": {"max_in_flight": 2.5}}, "max_in_flight must be a whole number"),
        ({"poller": {"speed": 1}}, "unknown key(s) in [poller]: speed"),
        ({"poller": 3}, "[poller] must be a table"),
    ],
)
def test_bad_values_are_named(table: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        poller_options(table)
    assert message in str(caught.value)


def test_bad_interval_flag() -> None:
    with pytest.raises(ConfigError, match="--interval must be positive"):
        poller_options({}, interval=-1)


@pytest.mark.parametrize(
    ("name", "value", "span"),
    [
        ("interval", 0.05, "0.1 to 3600"),
        ("max_interval", 100000, "0.1 to 86400"),
        ("max_in_flight", 257, "1 to 256"),
        ("max_rps", 20000, "0.1 to 10000"),
    ],
)
def test_values_outside_the_documented_ranges_are_named(name: str, value: float, span: str) -> None:
    with pytest.raises(ConfigError) as caught:
        poller_options({"poller": {name: value}})
    assert f"[poller] {name} must be from {span}" in str(caught.value)
    low, high = RANGES[name]
    assert getattr(poller_options({"poller": {name: high}}), name) == high
    assert poller_options({"poller": {name: low}}) is not None


def test_interval_flag_outside_the_range() -> None:
    with pytest.raises(ConfigError, match=r"--interval must be from 0\.1 to 3600 seconds"):
        poller_options({}, interval=5000)
