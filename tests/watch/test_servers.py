"""Servers behind sub-jobs: the simulator's details call, the client, the store, the join
through the poller, and what `jobdash status` makes of it, all over a real socket."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cli_helpers import connection_flags, run_cli

from jobdash.api.client import JobsClient
from jobdash.api.errors import UnauthorizedError
from jobdash.api.server import GONE, ServerInfo, parse_server, status_meaning
from jobdash.poll.poller import Poller
from jobdash.simulator import Simulator, SimulatorConfig
from jobdash.store import schema
from jobdash.store.core import Store
from jobdash.watch.servers import ServerJoin, fetch_all
from jobdash.watch.values import WatchEntry, WatchKey

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    return simulator_factory(seed=5, fail_rate=0.0, start_time=NOW)


@pytest.fixture
async def http(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(headers={"X-Auth-Token": sim.credentials.token}) as client:
        yield client


async def _job(sim: Simulator, http: httpx.AsyncClient, job_id: str):
    return await JobsClient(http, sim.url, sim.project_id).get_job(job_id)


def _poller(sim: Simulator, http: httpx.AsyncClient) -> Poller:
    client = JobsClient(http, sim.url, sim.project_id)
    return Poller(lambda key: client, max_rps=1000.0)


async def test_simulator_serves_servers_through_their_life(sim, http) -> None:
    job_id = sim.create_servers(3, "web", fail_count=1, duration=(30, 30))
    client = JobsClient(http, sim.url, sim.project_id)
    sim.advance(10)
    job = await client.get_job(job_id)
    ids = [sub.server_id for sub in job.sub_jobs]
    building = await client.get_server(ids[0])
    assert building is not None and building.status == "BUILD"
    assert building.name in {"web-0001", "web-0002", "web-0003"}
    assert building.flavor == "s3.medium.2"
    sim.advance(120)
    job = await client.get_job(job_id)
    failed = [sub.server_id for sub in job.sub_jobs if sub.failed]
    ok = [sub.server_id for sub in job.sub_jobs if not sub.failed]
    assert len(failed) == 1
    broken = await client.get_server(failed[0])
    assert broken is not None and broken.status == "ERROR"
    assert broken.fault_code == "500" and broken.fault_message
    assert broken.created is not None and broken.updated is not None
    active = await client.get_server(ok[0])
    assert active is not None and active.status == "ACTIVE" and active.fault_code is None
    # Stop one, delete the other: SHUTOFF, then gone (404 itemNotFound -> None).
    sim.batch_action("os-stop", [ok[0]], fail_count=0, duration=(5, 5))
    sim.delete_servers([ok[1]], fail_count=0, duration=(5, 5))
    sim.advance(30)
    stopped = await client.get_server(ok[0])
    assert stopped is not None and stopped.status == "SHUTOFF"
    assert await client.get_server(ok[1]) is None
    response = await http.get(f"{sim.url}/v1/{sim.project_id}/cloudservers/{ok[1]}")
    assert response.status_code == 404 and "itemNotFound" in response.json()


async def test_server_call_checks_credentials(sim) -> None:
    job_id = sim.create_servers(1, fail_count=0)
    del job_id
    async with httpx.AsyncClient(headers={"X-Auth-Token": "wrong"}) as http:
        client = JobsClient(http, sim.url, sim.project_id)
        with pytest.raises(UnauthorizedError):
            await client.get_server("0b3e0f7c-1111-2222-3333-444455556666")


def test_parse_server_tolerates_odd_bodies() -> None:
    odd = parse_server({"server": {"name": 5, "fault": "x", "flavor": None, "created": ""}}, "s1")
    assert odd.server_id == "s1" and odd.name == "5"
    assert odd.fault_code is None and odd.flavor is None and odd.created is None
    assert parse_server(None, "s2").status is None
    assert status_meaning("ERROR") and status_meaning(GONE) and status_meaning("WEIRD") is None


async def test_failure_fetches_its_server_once(sim, http) -> None:
    job_id = sim.create_servers(4, "db", fail_count=1, duration=(10, 20))
    sim.advance(60)
    key = WatchKey(sim.url, sim.project_id, job_id)
    job = await _job(sim, http, job_id)
    poller = _poller(sim, http)
    join = ServerJoin()
    found = await fetch_all(poller, join, join.wanted(key, job))
    failed = [sub for sub in job.sub_jobs if sub.failed]
    assert [info.server_id for info in found] == [failed[0].server_id]
    assert found[0].server is not None and found[0].status == "ERROR"
    assert found[0].for_sub_job == failed[0].job_id
    assert sim.server_request_count() == 1
    # The same failure seen again (another poll) asks nothing more.
    assert join.wanted(key, job) == []
    # A join rebuilt from what was stored does not ask again either.
    assert ServerJoin(found).wanted(key, job) == []
    assert sim.server_request_count() == 1
    await poller.aclose()


async def test_success_fetches_nothing_unless_asked(sim, http) -> None:
    job_id = sim.create_servers(2, fail_count=0, duration=(5, 10))
    sim.advance(60)
    key = WatchKey(sim.url, sim.project_id, job_id)
    job = await _job(sim, http, job_id)
    poller = _poller(sim, http)
    join = ServerJoin()
    assert join.wanted(key, job) == []
    assert sim.server_request_count() == 0
    server_id = job.sub_jobs[0].server_id
    request = join.ask(key, server_id)
    assert request is not None and join.ask(key, server_id) is None  # one at a time
    found = await fetch_all(poller, join, [request])
    assert found[0].status == "ACTIVE" and found[0].for_sub_job is None
    assert join.get(key, server_id) == found[0]
    assert sim.server_request_count(server_id) == 1
    await poller.aclose()


async def test_deleted_server_reads_as_gone(sim, http) -> None:
    create = sim.create_servers(1, fail_count=0, duration=(5, 5))
    sim.advance(30)
    server_id = (await _job(sim, http, create)).sub_jobs[0].server_id
    sim.delete_servers([server_id], fail_count=0, duration=(5, 5))
    sim.advance(30)
    key = WatchKey(sim.url, sim.project_id, create)
    poller = _poller(sim, http)
    join = ServerJoin()
    request = join.ask(key, server_id)
    assert request is not None
    (info,) = await fetch_all(poller, join, [request])
    assert info.gone and info.server is None and info.status == GONE
    assert info.as_json()["status_meaning"] == status_meaning(GONE)
    await poller.aclose()


async def test_a_failed_fetch_is_noted_not_raised(sim) -> None:
    job_id = sim.create_servers(2, fail_count=1, duration=(5, 5))
    sim.advance(60)
    key = WatchKey(sim.url, sim.project_id, job_id)
    async with httpx.AsyncClient(headers={"X-Auth-Token": sim.credentials.token}) as good:
        job = await _job(sim, good, job_id)
    async with httpx.AsyncClient(headers={"X-Auth-Token": "expired"}) as http:
        poller = _poller(sim, http)
        join = ServerJoin()
        requests = join.wanted(key, job)
        assert await fetch_all(poller, join, requests) == []
        assert "not authorized" in join.errors[requests[0].server_key]
        assert join.wanted(key, job) == []  # not retried by every poll; asking retries it
        await poller.aclose()


def test_store_keeps_servers_and_migrates_version_1(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as connection:
        schema.MIGRATIONS[0](connection)
        connection.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
        connection.execute("PRAGMA user_version = 1")
        connection.execute(
            "INSERT INTO entries (endpoint, project_id, job_id, added_at)"
            " VALUES ('https://e', 'p', 'j1', '2026-01-01T00:00:00+00:00')"
        )
        body = {
            "job_id": "j1",
            "job_type": "createServer",
            "status": "SUCCESS",
            "begin_time": "2026-01-01T00:00:00.000Z",
            "end_time": "2026-01-01T00:02:00.000Z",
            "entities": {},
        }
        connection.execute(
            "INSERT INTO snapshots (entry_id, raw_json, status, fetched_at)"
            " VALUES (1, ?, 'SUCCESS', '2026-01-01T00:03:00+00:00')",
            (json.dumps(body),),
        )
    with Store(path) as store:
        # Step 2 learned the history from the snapshot already there.
        (finished,) = store.finished_jobs()
        assert finished.job_type == "createServer" and finished.duration == 120.0
        server = parse_server({"server": {"id": "s1", "name": "web", "status": "ERROR"}}, "s1")
        store.record_server(ServerInfo("https://e", "p", "s1", NOW, server, for_sub_job="sub"))
        store.record_server(ServerInfo("https://e", "p", "s2", NOW, None, gone=True))
        store.add([WatchEntry(WatchKey("https://e", "p", "j2"))])
    with Store(path) as store:
        loaded = {info.server_id: info for info in store.servers()}
        assert loaded["s1"].name == "web" and loaded["s1"].status == "ERROR"
        assert loaded["s1"].for_sub_job == "sub" and loaded["s1"].fetched_at == NOW
        assert loaded["s2"].gone and loaded["s2"].server is None


def test_status_json_and_tree_carry_the_servers(sim, capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    job_id = sim.create_servers(3, "api", fail_count=1, duration=(10, 20))
    sim.advance(60)
    added = run_cli(["add", *connection_flags(sim), job_id], capsys, monkeypatch, sim=sim)
    assert added.code == 0, added.err
    result = run_cli(["status", *connection_flags(sim), "--json"], capsys, monkeypatch, sim=sim)
    assert result.code == 0, result.err
    (item,) = result.json()
    failed = [sub for sub in item["entities"]["sub_jobs"] if sub["status"] == "FAIL"]
    server_id = failed[0]["entities"]["server_id"]
    extra = item["jobdash"]["servers"][server_id]
    assert extra["status"] == "ERROR" and extra["name"].startswith("api-")
    assert extra["fault"]["message"] and extra["gone"] is False
    # The job's own fields are the API's; nothing of jobdash's is mixed in.
    assert "servers" not in item and "name" not in failed[0]
    assert sim.server_request_count() == 1
    # Kept in the store: the tree shows it without asking the cloud again.
    tree = run_cli(["status", *connection_flags(sim)], capsys, monkeypatch, sim=sim)
    assert f"server {extra['name']} ERROR (fault 500" in tree.out
    assert sim.server_request_count() == 1


def test_a_server_found_after_the_watchlist_closed_is_kept_in_memory_only(
    tmp_path: Path,
) -> None:
    from jobdash.watch.watchlist import Watchlist

    with Store(tmp_path / "w.sqlite3") as store:
        watchlist = Watchlist.load(store)
        watchlist.close()
        info = ServerInfo("https://e", "p", "s1", NOW, None, gone=True)
        watchlist.put_server(info)  # a fetch that finished while the app was quitting
        watchlist.set_preference("sort", "recent")
        assert watchlist.servers.get(WatchKey("https://e", "p", "j"), "s1") == info
        assert store.servers() == [] and store.preference("sort") is None


def test_status_json_carries_the_estimate(capsys, monkeypatch, tmp_path) -> None:
    # `status` reads the local clock, so this simulator starts now.
    config = SimulatorConfig(manual_clock=True, seed=5, start_time=datetime.now(UTC))
    with Simulator(config) as sim:
        _status_estimate(sim, capsys, monkeypatch, tmp_path)


def _status_estimate(sim, capsys, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from jobdash.config.paths import database_file
    from jobdash.tui.demo import seed_history

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    job_id = sim.create_servers(3, "api", fail_count=0, duration=(600, 700))
    sim.advance(30)
    assert run_cli(["add", *connection_flags(sim), job_id], capsys, monkeypatch, sim=sim).code == 0
    with Store(database_file()) as store:
        seed_history(store, sim.now(), seed=1)
    result = run_cli(["status", *connection_flags(sim), "--json"], capsys, monkeypatch, sim=sim)
    (item,) = result.json()
    estimate = item["jobdash"]["estimate"]
    # createServer jobs of 2-5 servers have no history: all 15 createServer jobs count.
    assert estimate["samples"] == 15 and estimate["stalled"] is False
    assert estimate["remaining_seconds"] > 0
    assert "servers" not in item["jobdash"]  # nothing failed, nothing fetched
    assert sim.server_request_count() == 0
    tree = run_cli(["status", *connection_flags(sim)], capsys, monkeypatch, sim=sim)
    assert " left" in tree.out


async def test_a_throttled_server_fetch_slows_the_endpoint(sim, http) -> None:
    from jobdash.api.errors import ThrottledError

    job_id = sim.create_servers(1, fail_count=1, duration=(5, 5))
    sim.advance(30)
    job = await _job(sim, http, job_id)
    server_id = job.sub_jobs[0].server_id
    sim.inject("throttle", job_id=server_id, retry_after=30)
    poller = _poller(sim, http)
    key = WatchKey(sim.url, sim.project_id, job_id)
    with pytest.raises(ThrottledError):
        await poller.fetch_server(key, server_id)
    (state,) = poller.endpoint_states()
    assert state.throttled or state.backoff_seconds > 20
    assert poller.next_due_in(key) is None  # not watched; but the endpoint waits for all
    poller.add([key])
    assert poller.next_due_in(key) > 20  # type: ignore[operator]
    await poller.aclose()


def test_status_of_given_ids_uses_the_history_but_not_the_watchlist(
    capsys, monkeypatch, tmp_path
) -> None:
    from jobdash.config.paths import database_file
    from jobdash.tui.demo import seed_history

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    config = SimulatorConfig(manual_clock=True, seed=5, start_time=datetime.now(UTC))
    with Simulator(config) as sim:
        job_id = sim.create_servers(2, "api", fail_count=1, duration=(20, 20))
        sim.advance(10)
        database_file().parent.mkdir(parents=True)
        with Store(database_file()) as store:
            seed_history(store, sim.now(), seed=1)
        args = ["status", *connection_flags(sim), "--json", job_id]
        (item,) = run_cli(args, capsys, monkeypatch, sim=sim).json()
        assert item["jobdash"]["estimate"]["samples"] == 15
        sim.advance(60)
        for _ in range(2):  # nothing is saved for ids outside the watchlist: asked each time
            (item,) = run_cli(args, capsys, monkeypatch, sim=sim).json()
            (server,) = item["jobdash"]["servers"].values()
            assert server["status"] == "ERROR"
        assert sim.server_request_count() == 2
        with Store(database_file()) as store:
            assert store.servers() == [] and store.entries() == []
