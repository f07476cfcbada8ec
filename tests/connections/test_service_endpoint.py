"""Where a service's jobs are asked for: the configured endpoint, else the token's catalog,
else the one derived from the ECS endpoint; against the simulator's IAM and job APIs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from jobdash.api.client import JobsClient
from jobdash.api.errors import ConfigError
from jobdash.config.settings import Settings
from jobdash.connections.connection import open_connection, service_endpoint
from jobdash.services.registry import service
from jobdash.simulator import Simulator

#: An ECS endpoint by name: the endpoints derived from it differ from the simulator's URL.
NAMED_ECS = "https://ecs.eu-de.example.test"


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    return simulator_factory(seed=11, fail_rate=0.0)


def password_settings(sim: Any, **overrides: Any) -> Settings:
    creds = sim.credentials
    values: dict[str, Any] = {
        "auth_url": sim.auth_url,
        "username": creds.username,
        "password": creds.password,
        "user_domain_name": creds.user_domain_name,
        "project_name": creds.project_name,
        "region": sim.region,
    }
    values.update(overrides)
    return Settings(**values)


async def test_the_catalog_beats_the_derived_endpoint_and_serves_the_job(sim: Simulator) -> None:
    settings = password_settings(sim, endpoint=NAMED_ECS)
    evs, rds = service("evs"), service("rds")
    job_id = sim.create_service_job("evs", 3, name="data")
    async with await open_connection(settings) as connection:
        assert connection.endpoint == NAMED_ECS
        # The token's catalog lists EVS (at the simulator), so the name is not guessed.
        evs_endpoint = service_endpoint(settings, connection.endpoint, evs, connection.auth)
        assert evs_endpoint == sim.url
        # RDS is not in it: its endpoint is ECS's with RDS's host name.
        assert (
            service_endpoint(settings, connection.endpoint, rds, connection.auth)
            == "https://rds.eu-de.example.test"
        )
        # The job is there, read as EVS's.
        client = JobsClient(connection.http, evs_endpoint, connection.project_id, service=evs)
        job = await client.get_job(job_id)
        assert job.job_id == job_id and job.job_type == "batchCreateVolume"


async def test_a_configured_endpoint_beats_the_catalog(sim: Simulator) -> None:
    settings = password_settings(
        sim,
        endpoint=NAMED_ECS,
        service_endpoints=(("evs", "https://volumes.example.test/v2/abc"), ("rds", sim.url)),
    )
    async with await open_connection(settings) as connection:
        pick = lambda name: service_endpoint(  # noqa: E731
            settings, connection.endpoint, service(name), connection.auth
        )
        assert pick("evs") == "https://volumes.example.test"
        assert pick("rds") == sim.url
        assert pick("cce") == "https://cce.eu-de.example.test"
        assert pick("ecs") == NAMED_ECS


async def test_without_a_login_there_is_no_catalog(sim: Simulator) -> None:
    settings = Settings(token=sim.credentials.token, project_id=sim.project_id, endpoint=NAMED_ECS)
    async with await open_connection(settings) as connection:
        evs = service_endpoint(settings, connection.endpoint, service("evs"), connection.auth)
        assert evs == "https://evs.eu-de.example.test"
    configured = replace(settings, service_endpoints=(("evs", sim.url),))
    assert service_endpoint(configured, NAMED_ECS, service("evs")) == sim.url


def test_a_configured_endpoint_must_be_a_url() -> None:
    settings = Settings(service_endpoints=(("evs", "volumes here"),))
    with pytest.raises(ConfigError):
        service_endpoint(settings, NAMED_ECS, service("evs"))
