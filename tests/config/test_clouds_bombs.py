"""clouds.yaml files built to exhaust memory or time: refused with a message that names
the file, exit 2 as for any other configuration error, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import run_cli

from jobdash.api.errors import ConfigError
from jobdash.config.clouds_yaml import MAX_EXPANDED_VALUES, MAX_FILE_BYTES, load_clouds

JOB = "a" * 32


def clouds_file(text: str, name: str = "clouds.yaml") -> Path:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "openstack" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def laughs(levels: int) -> str:
    """A billion-laughs cloud: each level lists the one below ten times. Six levels are a
    million values once expanded, a few hundred bytes on disk."""
    lines = ["clouds:", "  de:", "    region_name: eu-de", "    auth:", '      l0: &l0 "ha"']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*l{level - 1}"] * 10)
        lines.append(f"      l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_in_the_chosen_cloud_is_refused(capsys: Any, monkeypatch: Any) -> None:
    path = clouds_file(laughs(6))
    assert path.stat().st_size < 1000
    result = run_cli(["status", "--os-cloud", "de", JOB], capsys, monkeypatch)
    assert result.code == 2, result.err
    assert str(path) in result.err
    assert f"expand to more than {MAX_EXPANDED_VALUES} values" in result.err
    assert "Traceback" not in result.err and "MemoryError" not in result.err


def test_aliases_that_only_repeat_a_value_are_fine() -> None:
    clouds_file(
        "base: &base {region_name: eu-de, auth: {auth_url: 'https://iam.example.test/v3'}}\n"
        "clouds:\n  de: *base\n  nl: {<<: *base, region_name: eu-nl}\n"
    )
    clouds = load_clouds({}).clouds
    assert clouds["de"]["region_name"] == "eu-de"
    assert clouds["nl"]["auth"]["auth_url"] == "https://iam.example.test/v3"


def test_a_value_that_contains_itself_is_refused() -> None:
    path = clouds_file("clouds:\n  de: &de {auth: *de}\n")
    with pytest.raises(ConfigError, match="refers to a value that contains it") as caught:
        load_clouds({})
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("name", ["clouds.yaml", "secure.yaml"])
def test_a_huge_file_is_refused_unread(name: str, capsys: Any, monkeypatch: Any) -> None:
    if name == "secure.yaml":
        clouds_file("clouds:\n  de: {region_name: eu-de}\n")
    path = clouds_file("# padding\n" * (MAX_FILE_BYTES // 10 + 1), name)
    assert path.stat().st_size > MAX_FILE_BYTES
    result = run_cli(["status", "--os-cloud", "de", JOB], capsys, monkeypatch)
    assert result.code == 2, result.err
    assert f"{path} is larger than 1024 KB" in result.err


def test_json_nested_beyond_reading_is_a_config_error() -> None:
    path = clouds_file("[" * 100_000 + "]" * 100_000, "clouds.json")
    with pytest.raises(ConfigError, match="nested too deeply") as caught:
        load_clouds({})
    assert str(path) in str(caught.value)
