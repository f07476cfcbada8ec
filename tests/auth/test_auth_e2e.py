"""The three auth methods end to end: open_connection + JobsClient against the simulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobdash.api.errors import ConfigError, UnauthorizedError
from jobdash.config import paths
from jobdash.config.settings import Settings
from jobdash.config.sources import load_settings
from jobdash.connections.connection import open_connection

simulator_package = pytest.importorskip("jobdash.simulator")
Simulator = simulator_package.Simulator
SimulatorConfig = simulator_package.SimulatorConfig

TOKEN_TTL = 3600.0


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    return simulator_factory(seed=7, token_ttl=TOKEN_TTL, fail_rate=0.0)


def token_settings(sim: Any) -> Settings:
    return Settings(token=sim.credentials.token, project_id=sim.project_id, endpoint=sim.url)


def aksk_settings(sim: Any, secret_key: str | None = None) -> Settings:
    creds = sim.credentials
    return Settings(
        access_key=creds.access_key,
        secret_key=secret_key or creds.secret_key,
        project_id=sim.project_id,
        endpoint=sim.url,
    )


def password_settings(sim: Any, **overrides: Any) -> Settings:
    creds = sim.credentials
    values: dict[str, Any] = {
        "auth_url": sim.auth_url,
        "username": creds.username,
        "password": creds.password,
        "user_domain_name": creds.user_domain_name,
        "project_name": creds.project_name,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.mark.parametrize("make_settings", [token_settings, aksk_settings, password_settings])
async def test_each_method_reads_a_job(sim: Any, make_settings: Any) -> None:
    settings = make_settings(sim)
    job_id = sim.create_servers(3, name="web")
    connection = await open_connection(settings)
    try:
        job = await connection.client.get_job(job_id)
    finally:
        await connection.aclose()
    assert job.job_id == job_id
    assert job.job_type == "createServer"
    assert connection.auth_method == settings.auth_method
    assert connection.project_id == sim.project_id
    assert connection.endpoint == sim.url
    assert connection.warnings == []
    assert sim.request_count(job_id) == 1


async def test_password_login_finds_endpoint_and_project_id_in_the_token(sim: Any) -> None:
    settings = password_settings(sim)
    assert settings.endpoint is None and settings.project_id is None
    async with await open_connection(settings) as connection:
        assert connection.endpoint == sim.url
        assert connection.project_id == sim.project_id
        assert sim.credentials.project_name in connection.description
        assert sim.credentials.password not in connection.description
        job_id = sim.create_servers(2)
        assert (await connection.client.get_job(job_id)).job_id == job_id
    assert sim.stats()["tokens_issued"] == 1


async def test_token_expiring_mid_run_is_refreshed_transparently(sim: Any) -> None:
    job_id = sim.create_servers(2, duration=(5000.0, 6000.0))
    async with await open_connection(password_settings(sim)) as connection:
        first = await connection.client.get_job(job_id)
        sim.advance(TOKEN_TTL + 60)  # the simulated IAM token is now past its expiry
        second = await connection.client.get_job(job_id)
    assert first.job_id == second.job_id == job_id
    stats = sim.stats()
    assert stats["tokens_issued"] == 2
    assert stats["by_status"].get("401") == 1  # one refused GET, then the retry succeeded


async def test_revoked_tokens_are_replaced_once(sim: Any) -> None:
    job_id = sim.create_servers(1)
    async with await open_connection(password_settings(sim)) as connection:
        await connection.client.get_job(job_id)
        sim.inject("expire_tokens")
        job = await connection.client.get_job(job_id)
        assert job.job_id == job_id
        await connection.client.get_job(job_id)
    assert sim.stats()["tokens_issued"] == 2


async def test_cached_token_is_reused_by_the_next_run(sim: Any) -> None:
    for _ in range(2):
        async with await open_connection(password_settings(sim)) as connection:
            await connection.client.get_job(sim.create_servers(1))
    assert sim.stats()["tokens_issued"] == 1
    (cache_file,) = paths.token_cache_dir().iterdir()
    assert sim.credentials.password not in cache_file.read_text()


async def test_wrong_password_fails_to_connect_without_leaking_it(sim: Any) -> None:
    settings = password_settings(sim, password="definitely-wrong-pw")
    with pytest.raises(UnauthorizedError) as caught:
        await open_connection(settings)
    assert "definitely-wrong-pw" not in str(caught.value)
    assert sim.credentials.username in str(caught.value)


async def test_wrong_secret_key_is_unauthorized(sim: Any) -> None:
    job_id = sim.create_servers(1)
    async with await open_connection(aksk_settings(sim, "0" * 40)) as connection:
        with pytest.raises(UnauthorizedError):
            await connection.client.get_job(job_id)


async def test_static_token_needs_no_iam(sim: Any) -> None:
    async with await open_connection(token_settings(sim)) as connection:
        await connection.client.get_job(sim.create_servers(1))
    assert sim.stats()["tokens_issued"] == 0


async def test_clouds_yaml_to_job_through_load_settings(sim: Any) -> None:
    creds = sim.credentials
    openstack = Path.cwd() / "clouds.yaml"
    openstack.write_text(
        yaml.safe_dump(
            {
                "clouds": {
                    "simulated": {
                        "auth": {
                            "auth_url": sim.auth_url,
                            "username": creds.username,
                            "user_domain_name": creds.user_domain_name,
                            "project_name": creds.project_name,
                        },
                        "region_name": sim.region,
                    }
                }
            }
        )
    )
    secure = Path.cwd() / "secure.yaml"
    secure.write_text(
        yaml.safe_dump({"clouds": {"simulated": {"auth": {"password": creds.password}}}})
    )
    settings = load_settings(None, {"OS_CLOUD": "simulated"})
    job_id = sim.create_servers(4)
    async with await open_connection(settings) as connection:
        job = await connection.client.get_job(job_id)
        assert connection.description.startswith("simulated")
    assert job.job_id == job_id
    assert settings.profile == "simulated"


async def test_incomplete_settings_fail_before_any_request(sim: Any) -> None:
    with pytest.raises(ConfigError, match="project id"):
        await open_connection(Settings(token=sim.credentials.token, endpoint=sim.url))
    assert sim.stats()["requests"] == 0
