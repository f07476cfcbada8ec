"""`jobdash add --os-cloud NAME` for an IAM password cloud while IAM cannot be reached.

Offline here means the cloud's auth URL points at a loopback port nothing listens on: the
simulator is started on a port of its own choosing, then stopped (the port is closed) and
started again on the same port, with its jobs, once the test wants it back.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cli_helpers import run_cli

from jobdash.simulator import Simulator
from jobdash.store.core import Store

CLOUD = "lab"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    """A simulator on a fixed port (so it can come back where it was), whose tokens
    expired a day ago by the local clock: an earlier login, as on the next day."""
    return simulator_factory(
        port=free_port(),
        fail_rate=0.0,
        start_time=datetime.now(UTC) - timedelta(days=2),
    )


def write_cloud(cloud: dict[str, Any]) -> None:
    directory = Path(os.environ["XDG_CONFIG_HOME"]) / "openstack"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "clouds.yaml").write_text(yaml.safe_dump({"clouds": {CLOUD: cloud}}))


def password_cloud(sim: Simulator, project: dict[str, str], *, auth_url: str) -> dict[str, Any]:
    creds = sim.credentials
    return {
        "region_name": "eu-de",
        "auth": {
            "auth_url": auth_url,
            "username": creds.username,
            "password": creds.password,
            "user_domain_name": creds.user_domain_name,
            **project,
        },
    }


def watched() -> list[tuple[str, str, str]]:
    with Store() as store:
        return sorted((e.key.job_id, e.key.project_id, e.key.endpoint) for e in store.entries())


def polled(capsys: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    result = run_cli(["status", "--json"], capsys, monkeypatch)
    assert result.code == 0, result.out + result.err
    return {job["job_id"]: job for job in result.json()}


@pytest.mark.parametrize("by", ["project_name", "project_id"])
def test_add_offline_uses_what_the_last_login_told(
    sim: Simulator, by: str, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = {by: sim.project_name if by == "project_name" else sim.project_id}
    url, auth_url = sim.url, sim.auth_url
    write_cloud(password_cloud(sim, project, auth_url=auth_url))
    first = sim.create_servers(1, fail_count=0)
    assert run_cli(["add", "--os-cloud", CLOUD, first], capsys, monkeypatch).code == 0
    assert sim.stats()["tokens_issued"] == 1

    sim.stop()  # IAM and ECS are gone; that login's token has expired
    second = sim.create_servers(2, fail_count=0)
    result = run_cli(["add", "--os-cloud", CLOUD, second], capsys, monkeypatch)
    assert result.code == 0, result.err
    assert second in result.out
    # The same project id and endpoint (the catalog's, not the region's host) as online.
    assert watched() == sorted([(first, sim.project_id, url), (second, sim.project_id, url)])

    sim.start()
    jobs = polled(capsys, monkeypatch)
    assert set(jobs) == {first, second}
    # Fetched from the simulator: its answer, not a stored error.
    assert {job["job_type"] for job in jobs.values()} == {"createServer"}
    assert jobs[second]["entities"]["sub_jobs_total"] == 2


def test_add_offline_without_an_earlier_login_says_why_and_how(
    sim: Simulator, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, auth_url = sim.url, sim.auth_url
    write_cloud(password_cloud(sim, {"project_name": sim.project_name}, auth_url=auth_url))
    job = sim.create_servers(1, fail_count=0)
    sim.stop()

    result = run_cli(["add", "--os-cloud", CLOUD, job], capsys, monkeypatch)
    assert result.code == 3
    err = " ".join(result.err.split())
    assert "IAM login, and it failed" in err
    assert f"cannot reach IAM at {auth_url}: connection refused" in err
    assert f"the id of project {sim.project_name!r} and the ECS endpoint come from" in err
    assert "--project-id ID (or project_id in clouds.yaml)" in err
    assert "--endpoint URL (or ecs_endpoint_override in clouds.yaml)" in err
    assert "Traceback" not in result.err
    assert watched() == []

    # What it says to do works offline, and the entry is fetched once IAM is back.
    flags = ["--os-cloud", CLOUD, "--project-id", sim.project_id, "--endpoint", url]
    assert run_cli(["add", *flags, job], capsys, monkeypatch).code == 0
    assert watched() == [(job, sim.project_id, url)]
    sim.start()
    jobs = polled(capsys, monkeypatch)
    assert jobs[job]["job_type"] == "createServer", jobs


def test_add_offline_at_the_regions_own_iam_takes_the_regions_host(
    sim: Simulator, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every request goes through a proxy that is not there: IAM cannot be reached.
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{free_port()}")
    iam = "https://iam.eu-de.otc.t-systems.com/v3"
    write_cloud(password_cloud(sim, {"project_id": sim.project_id}, auth_url=iam))
    job = sim.create_servers(1, fail_count=0)
    result = run_cli(["add", "--os-cloud", CLOUD, job], capsys, monkeypatch)
    assert result.code == 0, result.err
    assert watched() == [(job, sim.project_id, "https://ecs.eu-de.otc.t-systems.com")]
    err = " ".join(result.err.split())
    assert f"without an IAM login (cannot reach IAM at {iam}" in err


def test_add_offline_elsewhere_never_guesses_the_regions_host(
    sim: Simulator, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another IAM (here the simulator's, as Huawei Cloud's or a private cloud's) may name
    # any ECS host in its catalog: the region's default host would be a wrong entry.
    auth_url = sim.auth_url
    write_cloud(password_cloud(sim, {"project_id": sim.project_id}, auth_url=auth_url))
    job = sim.create_servers(1, fail_count=0)
    sim.stop()
    result = run_cli(["add", "--os-cloud", CLOUD, job], capsys, monkeypatch)
    assert result.code == 3
    err = " ".join(result.err.split())
    assert "the ECS endpoint comes from an IAM login" in err
    assert "connection refused" in err
    assert "--project-id" not in err
    assert watched() == []


def test_status_says_why_iam_cannot_be_reached(
    sim: Simulator, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth_url = sim.auth_url
    write_cloud(password_cloud(sim, {"project_name": sim.project_name}, auth_url=auth_url))
    job = sim.create_servers(1, fail_count=0)
    sim.stop()
    result = run_cli(["status", "--os-cloud", CLOUD, job], capsys, monkeypatch)
    assert result.code == 3
    assert f"cannot reach IAM at {auth_url}: connection refused" in " ".join(result.err.split())


def test_the_cause_of_an_unreachable_host_is_named() -> None:
    from jobdash.auth.iam_errors import unreachable_cause

    # The transports raise their own errors `from None`: the OS error is the context.
    def raised(cause: BaseException) -> BaseException:
        try:
            try:
                raise cause
            except OSError:
                raise httpx.ConnectError("ConnectError") from None
        except httpx.ConnectError as exc:
            return exc

    dns = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert unreachable_cause(raised(dns)) == (
        "the host name does not resolve (DNS: Name or service not known)"
    )
    assert unreachable_cause(raised(TimeoutError())) == "timed out"
    assert unreachable_cause(raised(ConnectionRefusedError(111, "Connection refused"))) == (
        "connection refused (nothing listens there)"
    )
