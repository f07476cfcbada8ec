"""The simulator over real loopback sockets: job lifecycle, auth, faults, determinism."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from jobdash.api.catalog import failure_codes
from jobdash.api.model import Job, parse_job
from jobdash.simulator import Simulator, SimulatorConfig

START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
Factory = Callable[..., Simulator]


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def job_url(sim: Simulator, job_id: str, project_id: str | None = None) -> str:
    return f"{sim.url}/v1/{project_id or sim.project_id}/jobs/{job_id}"


def fetch(http: httpx.Client, sim: Simulator, job_id: str, token: str | None = None) -> Job:
    response = http.get(
        job_url(sim, job_id), headers={"X-Auth-Token": token or sim.credentials.token}
    )
    assert response.status_code == 200, response.text
    return parse_job(response.json())


def password_body(sim: Simulator, **changes: Any) -> dict[str, Any]:
    creds = sim.credentials
    user = {
        "name": changes.get("name", creds.username),
        "password": changes.get("password", creds.password),
        "domain": {"name": changes.get("domain", creds.user_domain_name)},
    }
    scope = changes.get("scope", {"project": {"name": creds.project_name}})
    return {
        "auth": {
            "identity": {"methods": ["password"], "password": {"user": user}},
            "scope": scope,
        }
    }


def iam_token(http: httpx.Client, sim: Simulator) -> str:
    response = http.post(f"{sim.auth_url}/auth/tokens", json=password_body(sim))
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def run_to_end(http: httpx.Client, sim: Simulator, job_id: str, step: float = 1.0) -> list[Job]:
    """Poll once per simulated `step` until the job is terminal; every snapshot seen."""
    seen = [fetch(http, sim, job_id)]
    while not seen[-1].is_terminal:
        assert len(seen) < 10_000, "job never finished"
        sim.advance(step)
        seen.append(fetch(http, sim, job_id))
    return seen


# -- lifecycle ----------------------------------------------------------------------------


def test_job_goes_init_running_success(simulator: Simulator, http: httpx.Client) -> None:
    created = simulator.now()
    job_id = simulator.create_servers(3, fail_count=0, duration=(10.0, 10.0))
    first = fetch(http, simulator, job_id)
    assert first.status == "INIT"
    assert first.job_type == "createServer"
    assert first.raw["end_time"] == ""
    assert first.sub_jobs_total == 3

    simulator.advance(3.001)  # the parent leaves INIT within 1..3 s
    running = fetch(http, simulator, job_id)
    assert running.status == "RUNNING"
    assert len(running.sub_jobs) == 3
    assert all(sub.job_type == "createSingleServer" and sub.server_id for sub in running.sub_jobs)

    simulator.advance(20)  # at most 6 s in INIT + 10 s running + 2 s to wrap up
    done = fetch(http, simulator, job_id)
    assert done.status == "SUCCESS"
    assert done.error_code is None and done.fail_reason is None
    assert [sub.status for sub in done.sub_jobs] == ["SUCCESS"] * 3
    assert done.begin_time == created
    assert done.end_time is not None and done.end_time > done.begin_time
    assert all(sub.end_time is not None and sub.end_time <= done.end_time for sub in done.sub_jobs)


def test_sub_jobs_finish_at_different_times(simulator: Simulator, http: httpx.Client) -> None:
    job_id = simulator.create_servers(6, fail_count=0, duration=(10.0, 60.0))
    snapshots = run_to_end(http, simulator, job_id)

    mixed = [
        job for job in snapshots if {"RUNNING", "SUCCESS"} <= {sub.status for sub in job.sub_jobs}
    ]
    assert mixed, "some sub-jobs should finish while others still run"
    for job in snapshots:
        if any(not sub.is_terminal for sub in job.sub_jobs):
            assert not job.is_terminal, "the parent ends only after all its sub-jobs"
    final = snapshots[-1]
    assert len({sub.end_time for sub in final.sub_jobs}) > 1
    assert len({sub.job_id for sub in final.sub_jobs}) == 6


def test_parent_fails_with_first_sub_job_failure(simulator: Simulator, http: httpx.Client) -> None:
    job_id = simulator.create_servers(5, fail_count=2, duration=(10.0, 40.0))
    snapshots = run_to_end(http, simulator, job_id)
    final = snapshots[-1]
    assert final.status == "FAIL"
    failed = sorted(final.failed_sub_jobs, key=lambda sub: sub.end_time or START)
    assert len(failed) == 2
    first = failed[0]
    assert final.error_code == first.error_code
    assert final.fail_reason == first.fail_reason
    known = {info.code: info.message for info in failure_codes()}
    for sub in failed:
        assert sub.error_code in known
        assert sub.errorcode_message == known[sub.error_code]
        assert sub.fail_reason
    for sub in final.sub_jobs:
        if sub.status == "SUCCESS":
            assert sub.error_code is None and "errorcode_message" not in sub.entities
    # While the failed sub-jobs had ended but others ran, the parent was still RUNNING.
    assert any(job.failed_sub_jobs and job.status == "RUNNING" for job in snapshots)


@pytest.mark.parametrize(("fail_rate", "expected"), [(0.0, "SUCCESS"), (1.0, "FAIL")])
def test_fail_rate_draws_failures(
    simulator_factory: Factory, http: httpx.Client, fail_rate: float, expected: str
) -> None:
    sim = simulator_factory(fail_rate=fail_rate)
    job_id = sim.create_servers(4, duration=(5.0, 5.0))
    sim.advance(60)
    job = fetch(http, sim, job_id)
    assert {sub.status for sub in job.sub_jobs} == {expected}
    assert job.status == expected


def test_batch_actions_and_delete_have_their_own_types(
    simulator: Simulator, http: httpx.Client
) -> None:
    servers = ["3c5a1bd4-5b8e-4c63-9a57-0e2b3c4d5e6f", "9d0e1f2a-3b4c-4d5e-8f70-1a2b3c4d5e6f"]
    expected = {
        "os-start": ("batchStartServer", "startServer"),
        "os-stop": ("batchStopServer", "stopServer"),
        "reboot": ("batchRebootServer", "rebootServer"),
    }
    jobs = {action: simulator.batch_action(action, servers) for action in expected}
    deleted = simulator.delete_servers(servers, fail_count=1)
    simulator.advance(200)
    for action, (job_type, sub_type) in expected.items():
        job = fetch(http, simulator, jobs[action])
        assert job.job_type == job_type
        assert {sub.job_type for sub in job.sub_jobs} == {sub_type}
        assert [sub.server_id for sub in job.sub_jobs] == servers
    gone = fetch(http, simulator, deleted)
    assert gone.job_type == "deleteServer"
    assert gone.status == "FAIL"
    with pytest.raises(ValueError):
        simulator.batch_action("os-explode", servers)


def test_sub_job_ids_can_be_fetched_on_their_own(simulator: Simulator, http: httpx.Client) -> None:
    job_id = simulator.create_servers(2, fail_count=0)
    simulator.advance(200)
    parent = fetch(http, simulator, job_id)
    sub = parent.sub_jobs[1]
    assert sub.job_id is not None
    alone = fetch(http, simulator, sub.job_id)
    assert alone.job_id == sub.job_id
    assert alone.status == "SUCCESS"
    assert alone.server_id == sub.server_id


# -- purge and not found ------------------------------------------------------------------


@pytest.mark.parametrize(("style", "status"), [("404", 404), ("400", 400)])
def test_finished_jobs_are_purged(
    simulator_factory: Factory, http: httpx.Client, style: str, status: int
) -> None:
    sim = simulator_factory(purge_after=3600.0, not_found_style=style)
    job_id = sim.create_servers(1, fail_count=0, duration=(10.0, 10.0))
    sim.advance(30)
    job = fetch(http, sim, job_id)
    assert job.status == "SUCCESS"
    assert job.end_time is not None
    sim.advance((job.end_time + timedelta(seconds=3600) - sim.now()).total_seconds() - 1)
    assert fetch(http, sim, job_id).status == "SUCCESS"
    sim.advance(1)
    response = http.get(job_url(sim, job_id), headers={"X-Auth-Token": sim.credentials.token})
    assert response.status_code == status
    assert response.json()["error"]["code"] == "Common.0011"
    unknown = http.get(job_url(sim, "0" * 32), headers={"X-Auth-Token": sim.credentials.token})
    assert unknown.status_code == status


def test_running_jobs_are_never_purged(simulator_factory: Factory, http: httpx.Client) -> None:
    sim = simulator_factory(purge_after=0.0)
    job_id = sim.create_servers(1, fail_count=0, duration=(100.0, 100.0))
    sim.advance(50)
    assert fetch(http, sim, job_id).status == "RUNNING"


# -- authentication -----------------------------------------------------------------------


def test_static_token_accepted_and_bad_tokens_rejected(
    simulator: Simulator, http: httpx.Client
) -> None:
    job_id = simulator.create_servers(1)
    url = job_url(simulator, job_id)
    assert http.get(url, headers={"X-Auth-Token": simulator.credentials.token}).status_code == 200
    missing = http.get(url)
    assert missing.status_code == 401
    assert missing.json()["error_code"] == "APIGW.0301"
    assert http.get(url, headers={"X-Auth-Token": "MIIbogus"}).status_code == 401
    other = http.get(
        job_url(simulator, job_id, project_id="f" * 32),
        headers={"X-Auth-Token": simulator.credentials.token},
    )
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "Ecs.0023"


@pytest.mark.parametrize("scope", ["name", "id"])
def test_iam_password_token(simulator: Simulator, http: httpx.Client, scope: str) -> None:
    project = {"name": simulator.project_name} if scope == "name" else {"id": simulator.project_id}
    response = http.post(
        f"{simulator.auth_url}/auth/tokens",
        json=password_body(simulator, scope={"project": project}),
    )
    assert response.status_code == 201
    token = response.headers["X-Subject-Token"]
    body = response.json()["token"]
    assert body["project"] == {
        "id": simulator.project_id,
        "name": simulator.project_name,
        "domain": body["project"]["domain"],
    }
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert expires - simulator.now() == timedelta(days=1)
    ecs = next(entry for entry in body["catalog"] if entry["type"] == "ecs")
    assert ecs["endpoints"][0]["url"] == f"{simulator.url}/v1/{simulator.project_id}"
    assert ecs["endpoints"][0]["region"] == simulator.region
    job_id = simulator.create_servers(1)
    assert fetch(http, simulator, job_id, token=token).job_id == job_id
    assert simulator.stats()["tokens_issued"] == 1


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"password": "wrong"}, 401),
        ({"name": "someone-else"}, 401),
        ({"domain": "other-domain"}, 401),
        ({"scope": {"project": {"name": "eu-de_other"}}}, 401),
        ({"scope": {"project": {"id": "0" * 32}}}, 401),
    ],
)
def test_iam_rejects_wrong_credentials(
    simulator: Simulator, http: httpx.Client, changes: dict[str, Any], status: int
) -> None:
    response = http.post(
        f"{simulator.auth_url}/auth/tokens", json=password_body(simulator, **changes)
    )
    assert response.status_code == status
    assert (
        response.json()["error"]["message"] == "The request you have made requires authentication."
    )
    assert "X-Subject-Token" not in response.headers
    assert simulator.stats()["tokens_issued"] == 0


def test_iam_rejects_malformed_bodies(simulator: Simulator, http: httpx.Client) -> None:
    url = f"{simulator.auth_url}/auth/tokens"
    assert http.post(url, content=b"{not json").status_code == 400
    assert http.post(url, json={"auth": {}}).status_code == 400
    assert http.get(url).status_code == 405


def test_iam_tokens_expire_after_ttl(simulator_factory: Factory, http: httpx.Client) -> None:
    sim = simulator_factory(token_ttl=600.0)
    token = iam_token(http, sim)
    job_id = sim.create_servers(1)
    assert fetch(http, sim, job_id, token=token).job_id == job_id
    sim.advance(599.999)
    assert fetch(http, sim, job_id, token=token).job_id == job_id
    sim.advance(0.001)
    expired = http.get(job_url(sim, job_id), headers={"X-Auth-Token": token})
    assert expired.status_code == 401
    assert "expired" in expired.json()["error_msg"]
    # A fresh token works again; the static token never expires.
    assert fetch(http, sim, job_id, token=iam_token(http, sim)).job_id == job_id
    assert fetch(http, sim, job_id).job_id == job_id


def test_expire_tokens_fault(simulator: Simulator, http: httpx.Client) -> None:
    token = iam_token(http, simulator)
    job_id = simulator.create_servers(1)
    simulator.inject("expire_tokens")
    assert http.get(job_url(simulator, job_id), headers={"X-Auth-Token": token}).status_code == 401
    assert fetch(http, simulator, job_id).job_id == job_id  # static token unaffected
    assert fetch(http, simulator, job_id, token=iam_token(http, simulator)).job_id == job_id


def sdk_signed_headers(
    sim: Simulator,
    path: str,
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    project_id: str | None = None,
    when: datetime | None = None,
) -> dict[str, str]:
    """Headers the Huawei Cloud SDK's own signer produces for a GET of `path`."""
    headers: dict[str, str] = {}
    if project_id != "":
        headers["X-Project-Id"] = project_id or sim.project_id
    if when is not None:
        headers["X-Sdk-Date"] = when.strftime("%Y%m%dT%H%M%SZ")
    request = SdkRequest(
        method="GET",
        schema="http",
        host=sim.url.removeprefix("http://"),
        resource_path=path,
        query_params=[],
        header_params=headers,
        body="",
    )
    credentials = SimpleNamespace(
        ak=access_key or sim.credentials.access_key, sk=secret_key or sim.credentials.secret_key
    )
    Signer(credentials).sign(request)
    return dict(request.header_params)


def test_aksk_signed_requests(simulator: Simulator, http: httpx.Client) -> None:
    job_id = simulator.create_servers(1)
    path = f"/v1/{simulator.project_id}/jobs/{job_id}"
    ok = http.get(simulator.url + path, headers=sdk_signed_headers(simulator, path))
    assert ok.status_code == 200, ok.text
    assert ok.json()["job_id"] == job_id


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("wrong_secret", 401),
        ("unknown_access_key", 401),
        ("other_path", 401),
        ("stale_date", 401),
        ("no_project_header", 401),
        ("other_project", 403),
    ],
)
def test_aksk_rejections(simulator: Simulator, http: httpx.Client, case: str, status: int) -> None:
    job_id = simulator.create_servers(1)
    path = f"/v1/{simulator.project_id}/jobs/{job_id}"
    url = simulator.url + path
    if case == "wrong_secret":
        headers = sdk_signed_headers(simulator, path, secret_key="x" * 40)
    elif case == "unknown_access_key":
        headers = sdk_signed_headers(simulator, path, access_key="AKNOTKNOWN0000000000")
    elif case == "other_path":
        headers = sdk_signed_headers(simulator, f"/v1/{simulator.project_id}/jobs/{'1' * 32}")
    elif case == "stale_date":
        stale = datetime.now(UTC) - timedelta(minutes=20)
        headers = sdk_signed_headers(simulator, path, when=stale)
    elif case == "no_project_header":
        headers = sdk_signed_headers(simulator, path, project_id="")
    else:
        other = "e" * 32
        path = f"/v1/{other}/jobs/{job_id}"
        url = simulator.url + path
        headers = sdk_signed_headers(simulator, path)
    response = http.get(url, headers=headers)
    assert response.status_code == status, response.text


# -- faults -------------------------------------------------------------------------------


def test_throttle_faults(simulator: Simulator, http: httpx.Client) -> None:
    job_id = simulator.create_servers(1)
    url = job_url(simulator, job_id)
    auth = {"X-Auth-Token": simulator.credentials.token}

    simulator.inject("throttle")
    plain = http.get(url, headers=auth)
    assert plain.status_code == 429
    assert plain.json()["error"]["code"] == "Common.1503"
    assert "Retry-After" not in plain.headers

    simulator.inject("throttle", retry_after=7)
    timed = http.get(url, headers=auth)
    assert timed.status_code == 429
    assert timed.headers["Retry-After"] == "7"

    simulator.inject("throttle_202", retry_after=2.5)
    flow = http.get(url, headers=auth)
    assert flow.status_code == 202
    assert flow.json() == {"code": "Common.0024", "message": "Flow limit exceeded."}
    assert flow.headers["Retry-After"] == "2.5"

    assert http.get(url, headers=auth).status_code == 200


@pytest.mark.parametrize(("status", "expected"), [(None, 500), (503, 503), (502, 502)])
def test_server_error_fault(
    simulator: Simulator, http: httpx.Client, status: int | None, expected: int
) -> None:
    job_id = simulator.create_servers(1)
    simulator.inject("server_error", status=status)
    response = http.get(
        job_url(simulator, job_id), headers={"X-Auth-Token": simulator.credentials.token}
    )
    assert response.status_code == expected
    assert response.json()["error"]["code"] == "Common.0001"


def test_broken_body_faults(simulator: Simulator, http: httpx.Client) -> None:
    job_id = simulator.create_servers(1)
    url = job_url(simulator, job_id)
    auth = {"X-Auth-Token": simulator.credentials.token}

    simulator.inject("malformed")
    malformed = http.get(url, headers=auth)
    assert malformed.status_code == 200
    assert malformed.text.startswith("{")
    with pytest.raises(json.JSONDecodeError):
        json.loads(malformed.text)

    simulator.inject("html")
    html = http.get(url, headers=auth)
    assert html.status_code == 200
    assert html.headers["Content-Type"].startswith("text/html")
    assert "<html>" in html.text

    simulator.inject("wrong_shape")
    shaped = http.get(url, headers=auth)
    assert shaped.status_code == 200
    assert isinstance(shaped.json(), list)


def test_drop_fault_closes_without_answer(simulator: Simulator, http: httpx.Client) -> None:
    job_id = simulator.create_servers(1)
    simulator.inject("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(job_url(simulator, job_id), headers={"X-Auth-Token": simulator.credentials.token})
    assert simulator.stats()["by_status"]["dropped"] == 1
    assert fetch(http, simulator, job_id).job_id == job_id


def test_latency_fault_delays_but_answers(simulator: Simulator, http: httpx.Client) -> None:
    job_id = simulator.create_servers(1)
    simulator.inject("latency", latency_ms=50, count=2)
    assert simulator.stats()["faults_pending"][0]["fault"] == "latency"
    assert fetch(http, simulator, job_id).job_id == job_id
    assert fetch(http, simulator, job_id).job_id == job_id
    assert simulator.stats()["faults_pending"] == []
    with pytest.raises(ValueError):
        simulator.inject("latency")


def test_fault_count_job_filter_and_clear(simulator: Simulator, http: httpx.Client) -> None:
    one = simulator.create_servers(1)
    two = simulator.create_servers(1)
    auth = {"X-Auth-Token": simulator.credentials.token}

    simulator.inject("server_error", count=2, job_id=one)
    assert http.get(job_url(simulator, two), headers=auth).status_code == 200
    assert http.get(job_url(simulator, one), headers=auth).status_code == 500
    assert http.get(job_url(simulator, one), headers=auth).status_code == 500
    assert http.get(job_url(simulator, one), headers=auth).status_code == 200

    simulator.inject("throttle", count=None)
    statuses = {
        http.get(job_url(simulator, job), headers=auth).status_code for job in (one, two) * 3
    }
    assert statuses == {429}
    simulator.clear_faults()
    assert http.get(job_url(simulator, two), headers=auth).status_code == 200

    # Faults come before authentication, as at the real gateway.
    simulator.inject("throttle")
    assert http.get(job_url(simulator, one)).status_code == 429
    assert simulator.request_count(one) == 7
    assert simulator.request_count(two) == 5
    assert simulator.request_count() == 12

    with pytest.raises(ValueError):
        simulator.inject("meteor")
    with pytest.raises(ValueError):
        simulator.inject("throttle", count=0)


def test_config_latency_answers_normally(simulator_factory: Factory, http: httpx.Client) -> None:
    sim = simulator_factory(latency_ms=20.0)
    job_id = sim.create_servers(1)
    assert fetch(http, sim, job_id).job_id == job_id


# -- raw jobs, creation over HTTP, control endpoints ----------------------------------------


def test_put_job_serves_body_verbatim(simulator: Simulator, http: httpx.Client) -> None:
    body = {
        "status": "WEIRD_STATE",
        "job_id": "ff80808288d41e1b018990260955686a",
        "entities": None,
        "fail_reason": "[bold red]boom[/] \x1b[31mred\x1b[0m",
        "extra": {"nested": [1, 2, 3]},
    }
    assert simulator.put_job(body) == body["job_id"]
    response = http.get(
        job_url(simulator, body["job_id"]), headers={"X-Auth-Token": simulator.credentials.token}
    )
    assert response.json() == body
    with pytest.raises(ValueError):
        simulator.put_job({"status": "SUCCESS"})


def test_create_jobs_over_http(simulator: Simulator, http: httpx.Client) -> None:
    base = f"{simulator.url}/v1/{simulator.project_id}/cloudservers"
    auth = {"X-Auth-Token": simulator.credentials.token}
    created = http.post(base, json={"server": {"name": "web", "count": 3}}, headers=auth)
    assert created.status_code == 200
    job_id = created.json()["job_id"]
    server_ids = created.json()["serverIds"]
    assert len(server_ids) == 3
    simulator.advance(200)
    job = fetch(http, simulator, job_id)
    assert [sub.server_id for sub in job.sub_jobs] == server_ids

    servers = [{"id": server_id} for server_id in server_ids]
    stopped = http.post(
        f"{base}/action", json={"os-stop": {"type": "SOFT", "servers": servers}}, headers=auth
    )
    assert fetch(http, simulator, stopped.json()["job_id"]).job_type == "batchStopServer"
    deleted = http.post(f"{base}/delete", json={"servers": servers}, headers=auth)
    assert fetch(http, simulator, deleted.json()["job_id"]).job_type == "deleteServer"

    assert http.post(base, json={"server": {"count": 3}}).status_code == 401
    assert http.post(base, content=b"", headers=auth).json()["error"]["code"] == "Common.0002"
    bad = http.post(f"{base}/action", json={"os-fly": {"servers": servers}}, headers=auth)
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "Ecs.0005"
    assert http.post(base, json={"server": {"count": 0}}, headers=auth).status_code == 400
    exact = http.post(
        base, json={"server": {"count": 2}, "_sim": {"fail_count": 2}}, headers=auth
    ).json()["job_id"]
    simulator.advance(300)
    assert fetch(http, simulator, exact).status == "FAIL"


def test_control_endpoints(simulator: Simulator, http: httpx.Client) -> None:
    job_id = simulator.put_job({"job_id": "a" * 32, "status": "RUNNING"})
    url = job_url(simulator, job_id)
    auth = {"X-Auth-Token": simulator.credentials.token}
    control = f"{simulator.url}/_sim"

    added = http.post(f"{control}/faults", json={"fault": "throttle", "retry_after": 3})
    assert added.status_code == 201
    assert added.json()["faults"][0]["retry_after"] == 3
    assert http.get(url, headers=auth).headers["Retry-After"] == "3"
    http.post(f"{control}/faults", json={"fault": "server_error", "count": None})
    assert http.get(url, headers=auth).status_code == 500
    assert http.delete(f"{control}/faults").status_code == 200
    assert http.get(url, headers=auth).status_code == 200
    assert http.post(f"{control}/faults", json={"fault": "nope"}).status_code == 400

    before = simulator.now()
    moved = http.post(f"{control}/advance", json={"seconds": 90})
    assert moved.status_code == 200
    assert simulator.now() - before == timedelta(seconds=90)

    put = http.post(f"{control}/jobs", json={"job_id": "b" * 32, "status": "SUCCESS"})
    assert put.json() == {"job_id": "b" * 32}
    assert fetch(http, simulator, "b" * 32).status == "SUCCESS"

    stats = http.get(f"{control}/stats").json()
    assert stats["job_gets"] == simulator.request_count() == 4
    assert stats["by_route"]["job_get"] == 4
    assert stats["by_status"]["500"] == 1
    assert stats["connections_open"] >= 1


def test_unknown_routes(simulator: Simulator, http: httpx.Client) -> None:
    missing = http.get(f"{simulator.url}/v2/nothing/here")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "APIGW.0101"
    wrong_method = http.delete(job_url(simulator, "a" * 32))
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "GET"


# -- determinism ----------------------------------------------------------------------------


def scripted_bodies(seed: int) -> list[Any]:
    """Run one fixed script against a fresh simulator and return every body it served."""
    config = SimulatorConfig(manual_clock=True, seed=seed, start_time=START, fail_rate=0.3)
    bodies: list[Any] = []
    with Simulator(config) as sim, httpx.Client() as http:
        jobs = [sim.create_servers(4), sim.create_servers(2, fail_count=1)]
        jobs.append(sim.batch_action("reboot", ["s-1", "s-2", "s-3"]))
        bodies.append(sim.project_id)
        for step in (0, 2, 5, 15, 40, 120):
            sim.advance(step)
            for job_id in jobs:
                response = http.get(
                    job_url(sim, job_id), headers={"X-Auth-Token": sim.credentials.token}
                )
                bodies.append(response.json())
    return bodies


def test_same_seed_same_calls_same_bodies() -> None:
    first = scripted_bodies(7)
    assert first == scripted_bodies(7)
    assert first != scripted_bodies(8)
    assert any(isinstance(body, dict) and body.get("status") == "FAIL" for body in first), (
        "the script should include a failure"
    )


def test_identity_is_fixed_per_seed() -> None:
    one = Simulator(SimulatorConfig(seed=3))
    two = Simulator(SimulatorConfig(seed=3))
    other = Simulator(SimulatorConfig(seed=4))
    assert one.project_id == two.project_id != other.project_id
    assert len(one.project_id) == 32
    assert one.project_id == one.project_id.lower()
    int(one.project_id, 16)
    assert one.credentials == two.credentials
    assert one.credentials.secret_key not in repr(one.credentials)
    assert one.credentials.token not in repr(one.credentials)
    assert one.credentials.password not in repr(one.credentials)


def test_clock_modes() -> None:
    manual = Simulator(SimulatorConfig(manual_clock=True, start_time=START))
    assert manual.now() == START
    assert manual.advance(1.5) == START + timedelta(seconds=1.5)
    frozen = Simulator(SimulatorConfig(speed=0.0, start_time=START))
    assert frozen.now() == START  # speed 0: only advance() moves it
    with pytest.raises(ValueError):
        manual.advance(-1)
    with pytest.raises(ValueError):
        SimulatorConfig(fail_rate=2.0)
    with pytest.raises(ValueError):
        SimulatorConfig(not_found_style="500")  # type: ignore[arg-type]


def test_real_clock_runs_jobs_at_speed(simulator_factory: Factory, http: httpx.Client) -> None:
    sim = simulator_factory(manual_clock=False, speed=20_000.0, purge_after=1e9)
    job_id = sim.create_servers(3, fail_count=1)
    job = fetch(http, sim, job_id)
    for _ in range(5_000):  # bounded wait, not a timing assertion
        if job.is_terminal:
            break
        time.sleep(0.001)
        job = fetch(http, sim, job_id)
    assert job.status == "FAIL"
    assert job.end_time is not None and sim.now() > job.end_time
