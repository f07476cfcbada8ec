"""Settings that used to end in a traceback or a silent mistake: broken URLs, ports out of
range, control characters in credentials, a missing CA file next to --insecure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from cli_helpers import connection_flags, run_cli

from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.watch.values import WatchEntry, WatchKey

BROKEN_IPV6 = "http://[::1"


def write_clouds(clouds: dict) -> None:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "openstack" / "clouds.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"clouds": clouds}))


@pytest.mark.parametrize("command", ["status", "add"])
def test_unclosed_ipv6_endpoint_flag_is_exit_2(
    simulator: Simulator, capsys, monkeypatch, command: str
) -> None:
    job = simulator.create_servers(1, fail_count=0)
    args = [command, "--endpoint", BROKEN_IPV6, "--project-id", simulator.project_id, job]
    result = run_cli(args, capsys, monkeypatch, sim=simulator)
    assert result.code == 2
    assert "lacks a closing ']'" in result.err and "Traceback" not in result.err


def test_unclosed_ipv6_endpoint_from_the_environment_is_exit_2(
    simulator: Simulator, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("JOBDASH_ENDPOINT", BROKEN_IPV6)
    job = simulator.create_servers(1, fail_count=0)
    result = run_cli(
        ["status", "--project-id", simulator.project_id, job], capsys, monkeypatch, sim=simulator
    )
    assert result.code == 2
    assert "the endpoint URL 'http://[::1' is not a valid URL" in result.err


def test_unclosed_ipv6_auth_url_in_clouds_yaml_is_exit_2(
    simulator: Simulator, capsys, monkeypatch
) -> None:
    creds = simulator.credentials
    write_clouds(
        {
            "sim": {
                "auth": {
                    "auth_url": BROKEN_IPV6,
                    "username": creds.username,
                    "password": creds.password,
                    "user_domain_name": creds.user_domain_name,
                    "project_id": simulator.project_id,
                },
                "region_name": simulator.region,
            }
        }
    )
    job = simulator.create_servers(1, fail_count=0)
    result = run_cli(["status", "--os-cloud", "sim", job], capsys, monkeypatch)
    assert result.code == 2
    assert "the auth URL 'http://[::1' is not a valid URL" in result.err


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_port_out_of_range_is_exit_2(simulator: Simulator, capsys, monkeypatch, port: str) -> None:
    job = simulator.create_servers(1, fail_count=0)
    endpoint = f"http://127.0.0.1:{port}"
    args = ["status", "--endpoint", endpoint, "--project-id", simulator.project_id, job]
    result = run_cli(args, capsys, monkeypatch, sim=simulator)
    assert result.code == 2
    assert "its port must be a number from 1 to 65535" in result.err


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OS_AUTH_TOKEN", "tok-SECRETPART\nsecond-line"),
        ("OS_AUTH_TOKEN", "tok-SECRETPART\x1b[2J"),
        ("OS_ACCESS_KEY", "AK-SECRETPART\x07more"),
    ],
)
def test_control_characters_in_credentials_are_a_configuration_error_never_echoed(
    simulator: Simulator, capsys, monkeypatch, variable: str, value: str
) -> None:
    job = simulator.create_servers(1, fail_count=0)
    if variable == "OS_ACCESS_KEY":
        monkeypatch.setenv("OS_SECRET_KEY", "sk")
    monkeypatch.setenv(variable, value)
    with Store() as store:
        store.add([WatchEntry(WatchKey(simulator.url, simulator.project_id, job))])
    flags = connection_flags(simulator)
    for command in (["status", *flags], ["add", *flags, job]):
        refused = run_cli(command, capsys, monkeypatch)
        assert refused.code == 2
        assert "contains control characters" in refused.err
        assert "SECRETPART" not in refused.err + refused.out
    result = run_cli(["status", *flags], capsys, monkeypatch)
    assert result.code == 2
    assert "contains control characters" in result.err
    assert "SECRETPART" not in result.err + result.out
    listing = run_cli(["ls", "--json"], capsys, monkeypatch)
    assert "SECRETPART" not in listing.out
    assert listing.json()[0]["error"] is None


def test_insecure_with_a_missing_ca_file_is_exit_2(
    simulator: Simulator, capsys, monkeypatch, tmp_path: Path
) -> None:
    job = simulator.create_servers(1, fail_count=0)
    missing = tmp_path / "no-such-ca.pem"
    flags = [*connection_flags(simulator), "--insecure", "--ca-file", str(missing)]
    result = run_cli(["status", *flags, job], capsys, monkeypatch, sim=simulator)
    assert result.code == 2
    assert f"the CA file {missing} does not exist" in result.err
    assert "--insecure does not make a missing CA file acceptable" in result.err
