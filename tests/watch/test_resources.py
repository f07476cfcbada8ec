"""Other services' resources behind failed jobs (EVS volumes, IMS images, CCE nodes, RDS
instances): the client's lookup, the join through the poller, the store and `jobdash
status`, all against the simulator over a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cli_helpers import connection_flags, run_cli

from jobdash.api.client import JobsClient
from jobdash.api.model import Job
from jobdash.poll.poller import Poller
from jobdash.services.registry import service
from jobdash.services.resources import resource_api
from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.watch.servers import ServerJoin, fetch_all
from jobdash.watch.values import WatchKey

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    return simulator_factory(seed=11, fail_rate=0.0, start_time=NOW)


@pytest.fixture
async def http(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(headers={"X-Auth-Token": sim.credentials.token}) as client:
        yield client


def _client(sim: Simulator, http: httpx.AsyncClient, name: str) -> JobsClient:
    return JobsClient(http, sim.url, sim.project_id, service=service(name))


async def _failed_job(
    sim: Simulator, http: httpx.AsyncClient, name: str, count: int = 1, **options: object
) -> tuple[WatchKey, Job]:
    job_id = sim.create_service_job(name, count, fail_count=1, duration=(10, 20), **options)  # type: ignore[arg-type]
    sim.advance(60)
    job = await _client(sim, http, name).get_job(job_id)
    assert job.failed
    return WatchKey(sim.url, sim.project_id, job_id, name), job


async def _join(
    sim: Simulator, http: httpx.AsyncClient, key: WatchKey, job: Job, join: ServerJoin
) -> list:  # type: ignore[type-arg]
    client = _client(sim, http, key.service)
    poller = Poller(lambda _key: client, max_rps=1000.0)
    try:
        return await fetch_all(poller, join, join.wanted(key, job))
    finally:
        await poller.aclose()


@pytest.mark.parametrize(
    ("name", "count", "kind", "status", "what"),
    [
        ("evs", 3, None, "error", "volume"),
        ("cce", 2, "create_node", "Abnormal", "node"),
        ("rds", 1, "create", "FAILED", "instance"),
    ],
)
async def test_a_failed_jobs_resource_is_fetched_once(
    sim, http, name, count, kind, status, what
) -> None:
    key, job = await _failed_job(sim, http, name, count, kind=kind)
    join = ServerJoin()
    found = await _join(sim, http, key, job, join)
    assert len(found) == 1
    (info,) = found
    assert info.kind == what and info.status == status and not info.gone
    assert info.name and info.name.startswith(f"{name}-")
    if job.sub_job_count:
        failed = [sub for sub in job.sub_jobs if sub.failed and sub.resource_id]
        assert info.server_id == failed[0].resource_id
        assert join.for_sub(key, failed[0]) == info
    else:
        # RDS: a job without sub-jobs names its instance at the top.
        assert info.server_id == job.resource_id and info.for_sub_job == job.job_id
        assert join.for_job(key, job) == info
    assert sim.server_request_count(info.server_id) == 1
    # Seen again (another poll, or a join rebuilt from the store): nothing more is asked.
    assert join.wanted(key, job) == []
    assert ServerJoin(found).wanted(key, job) == []
    assert sim.server_request_count() == 1


async def test_ims_names_no_image_for_a_failure_so_none_is_fetched(sim, http) -> None:
    # IMS names an image only once it exists (a failed image job gives just its name), so
    # nothing is asked; an image that exists is read by the same lookup.
    key, job = await _failed_job(sim, http, "ims", 2)
    assert await _join(sim, http, key, job, ServerJoin()) == []
    assert sim.server_request_count() == 0
    made = sim.create_service_job("ims", name="base", fail_count=0, duration=(5, 5))
    sim.advance(30)
    client = _client(sim, http, "ims")
    image_id = (await client.get_job(made)).resource_id
    assert image_id
    image = await client.get_resource(image_id)
    assert image is not None and (image.name, image.status) == ("base", "active")
    assert await client.get_resource("0b1c2d3e-0000-4000-8000-000000000000") is None


async def test_a_deleted_volume_reads_as_gone(sim, http) -> None:
    key, job = await _failed_job(sim, http, "evs")
    # A one-disk job names its disk at the top, with no sub-jobs.
    volume = job.resource_id
    assert volume and not job.sub_job_count
    sim.create_service_job(
        "evs", kind="delete", fail_count=0, duration=(5, 5), resource_ids=[volume]
    )
    sim.advance(30)
    response = await http.get(f"{sim.url}/v2/{sim.project_id}/volumes/{volume}")
    assert response.status_code == 404
    found = await _join(sim, http, key, job, ServerJoin())
    assert [(info.server_id, info.gone, info.status) for info in found] == [(volume, True, "GONE")]


async def test_an_instance_outlives_a_failed_resize_and_an_unknown_one_is_gone(sim, http) -> None:
    key, job = await _failed_job(sim, http, "rds", kind="resize")
    (info,) = await _join(sim, http, key, job, ServerJoin())
    assert (info.kind, info.status, info.gone) == ("instance", "ACTIVE", False)
    # RDS answers a list: an instance it does not know is an empty one, read as gone.
    empty = await http.get(f"{sim.url}/v3/{sim.project_id}/instances?id=nosuchinstance")
    assert empty.status_code == 200 and empty.json() == {"instances": [], "total_count": 0}
    assert await _client(sim, http, "rds").get_resource("nosuchinstance") is None


async def test_the_simulator_follows_a_volume_through_its_life(sim, http) -> None:
    job_id = sim.create_service_job("evs", 2, fail_count=1, duration=(30, 30))
    sim.advance(10)
    client = _client(sim, http, "evs")
    job = await client.get_job(job_id)
    ids = [sub.resource_id for sub in job.sub_jobs]
    creating = await client.get_resource(ids[0])
    assert creating is not None and creating.status == "creating"
    sim.advance(60)
    job = await client.get_job(job_id)
    statuses = {sub.resource_id: sub.failed for sub in job.sub_jobs}
    for volume, failed in statuses.items():
        assert volume is not None
        found = await client.get_resource(volume)
        assert found is not None and found.status == ("error" if failed else "available")
    # The v3 path answers the same; the image and node paths know nothing of a volume.
    v3 = await http.get(f"{sim.url}/v3/{sim.project_id}/volumes/{ids[0]}")
    assert v3.status_code == 200 and v3.json()["volume"]["id"] == ids[0]
    assert (await http.get(f"{sim.url}/v2/images/{ids[0]}")).status_code == 404


async def test_a_cce_node_is_asked_under_its_cluster(sim, http) -> None:
    _key, job = await _failed_job(sim, http, "cce", kind="create_node")
    failed = [sub for sub in job.sub_jobs if sub.failed and sub.resource_id]
    cluster = failed[0].entities.get("cluster_id")
    assert isinstance(cluster, str) and cluster
    api = resource_api("cce")
    assert api is not None
    path = api.path(sim.project_id, str(failed[0].resource_id), cluster)
    assert path == (
        f"/api/v3/projects/{sim.project_id}/clusters/{cluster}/nodes/{failed[0].resource_id}"
    )
    answer = await http.get(sim.url + str(path))
    assert answer.status_code == 200 and answer.json()["status"]["phase"] == "Abnormal"
    cluster_answer = await http.get(
        f"{sim.url}/api/v3/projects/{sim.project_id}/clusters/{cluster}"
    )
    assert cluster_answer.json()["status"]["phase"] == "Available"
    missing = await http.get(f"{sim.url}/api/v3/projects/{sim.project_id}/clusters/nosuch")
    assert missing.status_code == 404 and missing.json()["errorCode"] == "CCE.01404001"


async def test_the_resource_calls_check_credentials(sim) -> None:
    async with httpx.AsyncClient() as anonymous:
        answer = await anonymous.get(f"{sim.url}/v2/{sim.project_id}/volumes/anything")
    assert answer.status_code == 401


async def test_the_store_keeps_resources_by_kind(sim, http, tmp_path: Path) -> None:
    key, job = await _failed_job(sim, http, "cce", 2, kind="create_node")
    found = await _join(sim, http, key, job, ServerJoin())
    with Store(tmp_path / "w.sqlite3") as store:
        for info in found:
            store.record_server(info)
        (again,) = store.servers()
    assert again.kind == "node" and again.status == "Abnormal" and again.name == found[0].name


def test_status_shows_a_failed_volume_and_a_failed_instance(
    sim, capsys, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    volumes = sim.create_service_job("evs", 2, name="data", fail_count=1, duration=(10, 20))
    instance = sim.create_service_job(
        "rds", name="orders", kind="create", fail_count=1, duration=(10, 20)
    )
    sim.advance(60)
    for name, job_id in (("evs", volumes), ("rds", instance)):
        added = run_cli(
            ["add", *connection_flags(sim), "--service", name, job_id], capsys, monkeypatch, sim=sim
        )
        assert added.code == 0, added.err
    result = run_cli(["status", *connection_flags(sim), "--json"], capsys, monkeypatch, sim=sim)
    assert result.code == 0, result.err
    extras = {item["jobdash"]["servers"].popitem()[1]["kind"]: item for item in result.json()}
    assert set(extras) == {"volume", "instance"}
    assert sim.server_request_count() == 2
    # Kept in the store: the tree shows both without asking again.
    tree = run_cli(["status", *connection_flags(sim)], capsys, monkeypatch, sim=sim)
    assert "volume data-0" in tree.out and " error" in tree.out
    assert "instance orders FAILED" in tree.out
    assert sim.server_request_count() == 2
