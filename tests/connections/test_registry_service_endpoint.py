"""A connection of the watchlist picks its services' endpoints: clouds.yaml's
`<service>_endpoint_override`, the catalog of a login made already, or the derived one;
`jobdash add --service` stores the configured one."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_helpers import run_cli

from jobdash.connections.registry import Connections
from jobdash.services.registry import service
from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.watch.values import WatchEntry, WatchKey

NAMED_ECS = "https://ecs.eu-de.example.test"


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    return simulator_factory(seed=5, fail_rate=0.0)


def write_prod_cloud(sim: Simulator, **extra: str) -> None:
    creds = sim.credentials
    cloud = {
        "region_name": sim.region,
        "auth": {
            "auth_url": sim.auth_url,
            "username": creds.username,
            "password": creds.password,
            "user_domain_name": creds.user_domain_name,
            "project_name": creds.project_name,
        },
        **extra,
    }
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "openstack" / "clouds.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"clouds": {"prod": cloud}}))


def test_configured_then_catalog_once_logged_in_else_derived(sim: Simulator) -> None:
    write_prod_cloud(sim, ecs_endpoint_override=NAMED_ECS, rds_endpoint_override=sim.url)
    connection = WatchEntry(WatchKey(NAMED_ECS, sim.project_id, ""), profile="prod")
    rds_job = sim.create_service_job("rds", name="orders-db")
    rds_key = WatchKey(sim.url, sim.project_id, rds_job, "rds")
    entries = {connection.key: connection, rds_key: WatchEntry(rds_key, profile="prod")}

    async def run() -> None:
        connections = Connections(None, env={}, entry_for=entries.get)
        try:
            evs = service("evs")
            # Nothing logged in yet: no catalog, so EVS's endpoint is derived from ECS's.
            assert connections.service_endpoint(connection, evs) == (
                "https://evs.eu-de.example.test"
            )
            assert connections.service_endpoint(connection, service("rds")) == sim.url
            # A fetch logs in; the token's catalog then names EVS's endpoint.
            job = await connections.client_for(rds_key).get_job(rds_job)
            assert job.job_id == rds_job
            assert connections.service_endpoint(connection, evs) == sim.url
            # What the catalog lacks is still derived; ECS's is the connection's own.
            assert connections.service_endpoint(connection, service("cce")) == (
                "https://cce.eu-de.example.test"
            )
            assert connections.service_endpoint(connection, service("ecs")) == NAMED_ECS
        finally:
            await connections.aclose()

    asyncio.run(run())


def test_add_stores_the_configured_endpoint_and_the_job_is_fetched(
    sim: Simulator, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ECS at a name that does not resolve: only the configured endpoint reaches the job.
    write_prod_cloud(sim, ecs_endpoint_override=NAMED_ECS, rds_endpoint_override=sim.url)
    rds_job = sim.create_service_job("rds", name="orders-db")
    result = run_cli(
        ["add", "--os-cloud", "prod", "--service", "rds", rds_job], capsys, monkeypatch
    )
    assert result.code == 0, result.err
    with Store() as store:
        (entry,) = store.entries()
    assert entry.key == WatchKey(sim.url, sim.project_id, rds_job, "rds")
    result = run_cli(["status", "--os-cloud", "prod"], capsys, monkeypatch)
    assert result.code == 0, result.out + result.err
    assert "CreateMysqlSingleHAInstance" in result.out


def test_add_without_an_override_derives_the_endpoint(
    sim: Simulator, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_prod_cloud(sim, ecs_endpoint_override=NAMED_ECS)
    result = run_cli(
        ["add", "--os-cloud", "prod", "--service", "rds", "--any-id", "job-1"], capsys, monkeypatch
    )
    assert result.code == 0, result.err
    with Store() as store:
        (entry,) = store.entries()
    assert entry.key.endpoint == "https://rds.eu-de.example.test"
