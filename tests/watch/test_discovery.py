"""Discovery against the simulator over loopback: each list's jobs in the window become
entries of their service; older jobs do not; a failing list is reported, not raised."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from jobdash.api.client import JobsClient
from jobdash.services.base import endpoint_for
from jobdash.services.registry import service
from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.watch.discovery import discover, listed_services, parse_window
from jobdash.watch.values import WatchEntry, WatchKey

LISTED = ("cbr", "cce", "elb", "rds")


@pytest.fixture
async def http(simulator: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"X-Auth-Token": simulator.credentials.token}
    async with httpx.AsyncClient(headers=headers, timeout=5) as client:
        yield client


def _client_for(http: httpx.AsyncClient) -> Callable[[WatchKey], JobsClient]:
    def client_for(key: WatchKey) -> JobsClient:
        return JobsClient(http, key.endpoint, key.project_id, service=service(key.service))

    return client_for


def _connection(sim: Simulator) -> WatchEntry:
    return WatchEntry(WatchKey(sim.url, sim.project_id, ""), profile="sim", region="eu-de")


def test_the_listed_services_are_the_four_with_a_list() -> None:
    assert sorted(one.name for one in listed_services()) == list(LISTED)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30m", timedelta(minutes=30)), ("6h", timedelta(hours=6)), (" 2D ", timedelta(days=2))],
)
def test_windows_read(text: str, expected: timedelta) -> None:
    assert parse_window(text) == expected


@pytest.mark.parametrize("text", ["", "6", "h", "0h", "-1h", "6w", "1.5h", "6 hours"])
def test_bad_windows_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="30m, 6h or 2d"):
        parse_window(text)


async def test_finds_each_listed_services_jobs_in_the_window_and_not_older_ones(
    simulator: Simulator, http: httpx.AsyncClient
) -> None:
    old = {name: simulator.create_service_job(name, fail_count=0) for name in LISTED}
    simulator.advance(3 * 3600)
    since = simulator.now() - timedelta(hours=1)
    new = {
        name: {simulator.create_service_job(name, fail_count=0) for _ in range(2)}
        for name in LISTED
    }
    simulator.create_service_job("evs", fail_count=0)  # EVS has no list: never found

    found = await discover(_client_for(http), _connection(simulator), since, now=simulator.now())

    assert not found.failed
    by_service = {one.service.name: one for one in found.found}
    assert sorted(by_service) == list(LISTED)
    for name in LISTED:
        ids = {entry.key.job_id for entry in by_service[name].entries}
        assert ids == new[name], name
        assert old[name] not in ids
    for entry in found.entries:
        assert entry.key.service in LISTED
        assert entry.key.endpoint == endpoint_for(simulator.url, service(entry.key.service))
        assert entry.key.project_id == simulator.project_id
        assert (entry.profile, entry.region) == ("sim", "eu-de")
        assert entry.added_at == simulator.now()


async def test_endpoints_are_each_services_in_the_connections_region() -> None:
    ecs = "https://ecs.eu-de.example.test"
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(f"{request.url.scheme}://{request.url.host}")
        return httpx.Response(503)

    # No cloud behind these names: each list fails on its own and the call still returns.
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        entry = WatchEntry(WatchKey(ecs, "0" * 32, ""))
        since = datetime.now(UTC) - timedelta(hours=1)
        found = await discover(_client_for(http), entry, since, [service("rds"), service("cce")])
    assert sorted(asked) == ["https://cce.eu-de.example.test", "https://rds.eu-de.example.test"]
    assert [one.service.name for one in found.failed] == ["rds", "cce"]
    assert all("HTTP 503" in (one.error or "") for one in found.failed)


@pytest.mark.parametrize("fault", ["server_error", "html"])
async def test_a_failing_list_is_reported_and_the_others_still_found(
    simulator: Simulator, http: httpx.AsyncClient, fault: str
) -> None:
    started = {name: simulator.create_service_job(name, fail_count=0) for name in LISTED}
    since = simulator.now() - timedelta(hours=1)
    simulator.inject(fault, count=1, job_id="")  # lists are asked for without a job id

    found = await discover(_client_for(http), _connection(simulator), since)

    failed = found.failed
    assert len(failed) == 1
    assert failed[0].entries == []
    assert ("HTTP 500" if fault == "server_error" else "not JSON") in (failed[0].error or "")
    for one in found.found:
        if one is not failed[0]:
            assert one.error is None
            assert [e.key.job_id for e in one.entries] == [started[one.service.name]]


async def test_unauthorized_lists_are_reported_per_service(simulator: Simulator) -> None:
    since = simulator.now() - timedelta(hours=1)
    async with httpx.AsyncClient(headers={"X-Auth-Token": "wrong"}, timeout=5) as http:
        found = await discover(_client_for(http), _connection(simulator), since)
    assert len(found.failed) == len(LISTED)
    assert all("HTTP 401" in (one.error or "") for one in found.failed)


async def test_found_entries_added_twice_are_duplicates(
    simulator: Simulator, http: httpx.AsyncClient
) -> None:
    simulator.create_service_job("rds", fail_count=0)
    since = simulator.now() - timedelta(hours=1)
    first = await discover(_client_for(http), _connection(simulator), since, [service("rds")])
    second = await discover(_client_for(http), _connection(simulator), since, [service("rds")])
    with Store() as store:
        added = store.add(first.entries)
        again = store.add(second.entries)
    assert len(added.added) == 1
    assert again.added == []
    assert again.duplicates == [first.entries[0].key]
