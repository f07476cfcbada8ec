"""The other services' job APIs in the simulator, over real loopback HTTP: each job's shape,
its progress to the end, each service's not-found answer, and the list calls."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from jobdash.simulator import Simulator

Factory = Callable[..., Simulator]

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
GO_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,9})? \+0000 UTC")
OFFSET = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000")
CBR_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")
PLAIN = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
ZULU = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


def get(http: httpx.Client, sim: Simulator, path: str, **params: Any) -> httpx.Response:
    return http.get(
        sim.url + path.format(p=sim.project_id),
        params=params,
        headers={"X-Auth-Token": sim.credentials.token},
    )


def poll(
    http: httpx.Client, sim: Simulator, path: str, state: Callable[[Any], str], **params: Any
) -> list[Any]:
    """Bodies seen every 2 simulated seconds over 400 s, well past any job's end; `state`
    names what the caller follows (for the reader)."""
    bodies = []
    for _ in range(200):
        answer = get(http, sim, path, **params)
        assert answer.status_code == 200, answer.text
        bodies.append(answer.json())
        sim.advance(2.0)
    return bodies


def states(bodies: list[Any], state: Callable[[Any], str]) -> list[str]:
    seen: list[str] = []
    for body in bodies:
        if not seen or seen[-1] != state(body):
            seen.append(state(body))
    return seen


def test_evs_batch_and_single_jobs(simulator: Simulator, http: httpx.Client) -> None:
    batch = simulator.create_service_job("evs", 3, name="data", fail_count=1)
    path = "/v1/{p}/jobs/" + batch
    bodies = poll(http, simulator, path, lambda b: b["status"])
    assert states(bodies, lambda b: b["status"]) == ["INIT", "RUNNING", "FAIL"]
    last = bodies[-1]
    assert last["job_type"] == "batchCreateVolume"
    assert ISO_MS.fullmatch(last["begin_time"]) and ISO_MS.fullmatch(last["end_time"])
    subs = last["entities"]["sub_jobs"]
    assert [sub["entities"]["name"] for sub in subs] == ["data-01", "data-02", "data-03"]
    assert sorted(sub["status"] for sub in subs) == ["FAIL", "SUCCESS", "SUCCESS"]
    assert last["error_code"].startswith("EVS.") and last["fail_reason"]
    assert all(re.fullmatch(r"[0-9a-f-]{36}", sub["entities"]["volume_id"]) for sub in subs)
    single = simulator.create_service_job("evs", name="logs", fail_count=0)
    body = poll(http, simulator, "/v1/{p}/jobs/" + single, lambda b: b["status"])[-1]
    assert body["status"] == "SUCCESS" and body["job_type"] == "createVolume"
    assert body["entities"]["name"] == "logs" and "sub_jobs" not in body["entities"]
    # An unknown id at the EVS host answers as EVS does: 400 Common.0011.
    missing = http.get(
        simulator.url + f"/v1/{simulator.project_id}/jobs/{'0' * 32}",
        headers={"X-Auth-Token": simulator.credentials.token, "Host": "evs.eu-de.example"},
    )
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "Common.0011"


def test_bms_answers_as_ecs(simulator: Simulator, http: httpx.Client) -> None:
    job_id = simulator.create_service_job("bms", 2, fail_count=0)
    bodies = poll(http, simulator, "/v1/{p}/jobs/" + job_id, lambda b: b["status"])
    assert states(bodies, lambda b: b["status"]) == ["INIT", "RUNNING", "SUCCESS"]
    last = bodies[-1]
    assert last["job_type"] == "baremetalBatchCreate"
    assert last["entities"]["sub_jobs_total"] == 2
    assert {sub["job_type"] for sub in last["entities"]["sub_jobs"]} == {"baremetalSingleCreate"}
    assert all(sub["entities"]["server_id"] for sub in last["entities"]["sub_jobs"])


def test_ims_single_and_multi_image_jobs(simulator: Simulator, http: httpx.Client) -> None:
    single = simulator.create_service_job("ims", name="base", fail_count=0)
    body = poll(http, simulator, "/v1/{p}/jobs/" + single, lambda b: b["status"])[-1]
    assert body["status"] == "SUCCESS" and body["entities"]["image_name"] == "base"
    assert re.fullmatch(r"[0-9a-f-]{36}", body["entities"]["image_id"])
    multi = simulator.create_service_job("ims", 2, fail_count=2)
    body = poll(http, simulator, "/v1/{p}/jobs/" + multi, lambda b: b["status"])[-1]
    assert body["status"] == "FAIL" and body["error_code"].startswith("IMG.")
    results = body["entities"]["sub_jobs_result"]
    assert [sub["job_id"] for sub in results] == body["entities"]["sub_jobs_list"]
    assert all(sub["status"] == "FAIL" and "image_id" not in sub["entities"] for sub in results)


def test_vbs_sub_jobs_at_top_level(simulator: Simulator, http: httpx.Client) -> None:
    job_id = simulator.create_service_job("vbs", name="db-data", fail_count=0)
    bodies = poll(http, simulator, "/v1/{p}/jobs/" + job_id, lambda b: b["status"])
    assert states(bodies, lambda b: b["status"]) == ["INIT", "RUNNING", "SUCCESS"]
    last = bodies[-1]
    assert last["sub_jobs"] == [] and last["job_type"] == "bksCreateBackup"
    assert all(isinstance(value, str) for value in last["entities"].values())
    assert last["entities"]["bks_create_volume_name"] == "db-data"
    assert last["entities"]["backup_id"]


def test_cce_v3_job_and_v2_list(simulator: Simulator, http: httpx.Client) -> None:
    job_id = simulator.create_service_job("cce", 2, name="pool", fail_count=1)
    path = "/api/v3/projects/{p}/jobs/" + job_id
    bodies = poll(http, simulator, path, lambda b: b["status"]["phase"])
    assert states(bodies, lambda b: b["status"]["phase"]) == [
        "Initializing",
        "Running",
        "Failed",
    ]
    last = bodies[-1]
    assert last["kind"] == "Job" and last["apiVersion"] == "v3"
    assert last["metadata"]["uid"] == job_id
    assert GO_TIME.fullmatch(last["metadata"]["creationTimestamp"])
    assert GO_TIME.fullmatch(last["metadata"]["updateTimestamp"])
    assert last["status"]["reason"]
    nodes = last["spec"]["subJobs"]
    assert len(nodes) == 2
    vms = [node["spec"]["subJobs"][0] for node in nodes]
    assert {vm["spec"]["type"] for vm in vms} == {"CreateNodeVM"}
    assert all(
        vm["spec"]["resourceID"] == node["spec"]["resourceID"]
        for vm, node in zip(vms, nodes, strict=True)
    )
    listed = get(http, simulator, "/api/v2/projects/{p}/jobs")
    assert listed.status_code == 200
    [entry] = listed.json()
    assert entry["apiVersion"] == "v2" and entry["metadata"]["uid"] == job_id
    assert entry["status"]["status"] == "Failed" and "phase" not in entry["status"]
    assert GO_TIME.fullmatch(entry["status"]["completionTime"])
    assert "clusteruid" in entry["spec"] and "subjobs" in entry["spec"]
    missing = get(http, simulator, "/api/v3/projects/{p}/jobs/" + "f" * 36)
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == "CCE.01404001"


def test_rds_and_dds_share_the_job_path(simulator: Simulator, http: httpx.Client) -> None:
    rds = simulator.create_service_job("rds", kind="resize", name="orders-db", fail_count=0)
    dds = simulator.create_service_job("dds", name="catalog", fail_count=1)
    bodies = poll(http, simulator, "/v3/{p}/jobs", lambda b: b["job"]["status"], id=rds)
    assert states(bodies, lambda b: b["job"]["status"]) == ["Running", "Completed"]
    running = [b["job"]["process"] for b in bodies if b["job"]["status"] == "Running"]
    assert any(re.fullmatch(r"[1-9]\d?%", text) for text in running)
    last = bodies[-1]["job"]
    assert last["name"] == "ResizeMysqlVolume" and last["process"] == ""
    assert OFFSET.fullmatch(last["created"]) and OFFSET.fullmatch(last["ended"])
    assert last["instance"]["name"] == "orders-db" and last["instance"]["id"].endswith("in01")
    assert "volume" in last["entities"]
    answer = get(http, simulator, "/v3/{p}/jobs", id=dds).json()["job"]
    assert answer["status"] == "Failed" and answer["fail_reason"] and "entities" not in answer
    assert answer["progress"] == ""
    missing = get(http, simulator, "/v3/{p}/jobs", id="0" * 36)
    assert missing.status_code == 400
    assert missing.json() == {"error_code": "DBS.200543", "error_msg": "The job does not exist."}


def test_rds_tasklist_window(simulator: Simulator, http: httpx.Client) -> None:
    first = simulator.create_service_job("rds", fail_count=0)
    start_ms = int(simulator.now().timestamp() * 1000) + 50_000
    simulator.advance(100)
    second = simulator.create_service_job("rds", kind="restart", fail_count=0)
    everything = get(http, simulator, "/v3/{p}/tasklist").json()
    assert everything["total_count"] == 2
    assert [task["id"] for task in everything["tasks"]] == [second, first]
    assert set(everything["actions"]) == {"CreateMysqlSingleHAInstance", "RestartMysqlInstance"}
    window = get(http, simulator, "/v3/{p}/tasklist", start_time=start_ms).json()
    assert [task["id"] for task in window["tasks"]] == [second]
    page = get(http, simulator, "/v3/{p}/tasklist", offset=1, limit=1).json()
    assert [task["id"] for task in page["tasks"]] == [first]
    assert get(http, simulator, "/v3/{p}/tasklist", limit=51).status_code == 400


def test_dcs_epoch_times(simulator: Simulator, http: httpx.Client) -> None:
    job_id = simulator.create_service_job("dcs", fail_count=1)
    bodies = poll(http, simulator, "/v2/{p}/jobs/" + job_id, lambda b: b["status"])
    assert states(bodies, lambda b: b["status"]) == ["INIT", "RUNNING", "FAIL"]
    last = bodies[-1]
    assert last["job_type"] == "masterStandbySwapJob" and last["fail_reason"]
    assert last["begin_time"].isdigit() and int(last["end_time"]) > int(last["begin_time"])
    missing = get(http, simulator, "/v2/{p}/jobs/" + "0" * 32)
    assert missing.status_code == 400 and "error_ext_msg" in missing.json()


def test_cbr_operation_logs(simulator: Simulator, http: httpx.Client) -> None:
    job_id = simulator.create_service_job("cbr", name="web-01", fail_count=0)
    path = "/v3/{p}/operation-logs/" + job_id
    bodies = poll(http, simulator, path, lambda b: b["operation_log"]["status"])
    assert states(bodies, lambda b: b["operation_log"]["status"]) == [
        "waiting",
        "running",
        "success",
    ]
    progress = [b["operation_log"]["extra_info"]["common"]["progress"] for b in bodies]
    assert progress == sorted(progress) and progress[-1] == 100 and 0 < progress[2] < 100
    log = bodies[-1]["operation_log"]
    assert CBR_TIME.fullmatch(log["created_at"]) and CBR_TIME.fullmatch(log["ended_at"])
    assert log["extra_info"]["resource"]["name"] == "web-01"
    assert log["error_info"] == {"code": "", "message": ""}
    assert log["extra_info"]["backup"]["backup_id"]
    listed = get(http, simulator, "/v3/{p}/operation-logs", start_time="2000-01-01T00:00:00Z")
    assert [item["id"] for item in listed.json()["operation_logs"]] == [job_id]
    later = get(http, simulator, "/v3/{p}/operation-logs", start_time="2999-01-01T00:00:00Z")
    assert later.json()["operation_logs"] == [] and later.json()["count"] == 0
    missing = get(http, simulator, "/v3/{p}/operation-logs/" + "0" * 36)
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "BackupService.6500"


def test_sfs_turbo_job(simulator: Simulator, http: httpx.Client) -> None:
    job_id = simulator.create_service_job("sfs_turbo", kind="extend_share", fail_count=1)
    bodies = poll(http, simulator, "/v1/{p}/sfs-turbo/jobs/" + job_id, lambda b: b["status"])
    assert states(bodies, lambda b: b["status"]) == ["waiting", "running", "failed"]
    last = bodies[-1]
    assert PLAIN.fullmatch(last["begin_time"]) and PLAIN.fullmatch(last["end_time"])
    assert last["error_code"].startswith("SFS.TURBO.") and last["sub_jobs"] == []
    missing = get(http, simulator, "/v1/{p}/sfs-turbo/jobs/" + "0" * 36)
    assert missing.status_code == 404
    assert missing.json() == {"errCode": "SFS.TURBO.0019", "errMsg": "Invalid Job Id"}


def test_elb_jobs_complete_or_roll_back(simulator: Simulator, http: httpx.Client) -> None:
    good = simulator.create_service_job("elb", 2, kind="batch_create", fail_count=0)
    bodies = poll(http, simulator, "/v3/{p}/elb/jobs/" + good, lambda b: b["job"]["status"])
    assert states(bodies, lambda b: b["job"]["status"]) == ["INIT", "RUNNING", "COMPLETE"]
    job = bodies[-1]["job"]
    assert ZULU.fullmatch(job["begin_time"]) and ZULU.fullmatch(job["end_time"])
    assert bodies[-1]["request_id"]
    assert all(sub["entities"][0]["resource_type"] == "loadbalancer" for sub in job["sub_jobs"])
    bad = simulator.create_service_job("elb", 3, kind="batch_delete", fail_count=1)
    failing = poll(http, simulator, "/v3/{p}/elb/jobs/" + bad, lambda b: b["job"]["status"])
    seen = states(failing, lambda b: b["job"]["status"])
    # After its first failed step the job rolls back, then fails.
    assert seen == ["INIT", "RUNNING", "ROLLBACKING", "FAIL"]
    assert failing[-1]["job"]["error_code"].startswith("ELB.")
    listed = get(http, simulator, "/v3/{p}/elb/jobs").json()
    assert [item["job_id"] for item in listed["jobs"]] == [good, bad]
    page = get(http, simulator, "/v3/{p}/elb/jobs", limit=1).json()
    assert [item["job_id"] for item in page["jobs"]] == [good]
    rest = get(http, simulator, "/v3/{p}/elb/jobs", marker=page["page_info"]["next_marker"])
    assert [item["job_id"] for item in rest.json()["jobs"]] == [bad]
    later = get(http, simulator, "/v3/{p}/elb/jobs", begin_time="2999-01-01T00:00:00")
    assert later.json()["jobs"] == []
    assert get(http, simulator, "/v3/{p}/elb/jobs/" + "0" * 36).status_code == 404


def test_auth_faults_and_rate_limit_cover_every_service(
    simulator_factory: Factory, http: httpx.Client
) -> None:
    sim = simulator_factory(rate_limit=1000)
    job_id = sim.create_service_job("cbr")
    url = sim.url + f"/v3/{sim.project_id}/operation-logs/{job_id}"
    assert http.get(url).status_code == 401
    wrong = http.get(
        sim.url + f"/v3/{'0' * 32}/operation-logs/{job_id}",
        headers={"X-Auth-Token": sim.credentials.token},
    )
    assert wrong.status_code == 403
    sim.inject("throttle", job_id=job_id, retry_after=3)
    throttled = http.get(url, headers={"X-Auth-Token": sim.credentials.token})
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "3"
    sim.inject("malformed", job_id=job_id)
    broken = http.get(url, headers={"X-Auth-Token": sim.credentials.token})
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        broken.json()
    assert http.get(url, headers={"X-Auth-Token": sim.credentials.token}).status_code == 200
    assert sim.request_count(job_id) == 5
    assert sim.stats()["rate_limit"]["served"] == 5


def test_rate_limit_answers_service_paths(simulator_factory: Factory, http: httpx.Client) -> None:
    sim = simulator_factory(rate_limit=1)
    job_id = sim.create_service_job("sfs_turbo")
    url = sim.url + f"/v1/{sim.project_id}/sfs-turbo/jobs/{job_id}"
    headers = {"X-Auth-Token": sim.credentials.token}
    answers = [http.get(url, headers=headers).status_code for _ in range(5)]
    assert answers[0] == 200 and 429 in answers


def test_control_endpoint_creates_jobs_of_each_service(
    simulator: Simulator, http: httpx.Client
) -> None:
    made = http.post(
        simulator.url + "/_sim/jobs/dcs", json={"kind": "modify_ip", "_sim": {"fail_count": 0}}
    )
    assert made.status_code == 201
    body = get(http, simulator, "/v2/{p}/jobs/" + made.json()["job_id"]).json()
    assert body["job_type"] == "modifyClientIpTransJob"
    unknown = http.post(simulator.url + "/_sim/jobs/nosuch", json={})
    assert unknown.status_code == 400
    too_many = http.post(simulator.url + "/_sim/jobs/rds", json={"count": 2})
    assert too_many.status_code == 400


def test_ids_are_unique_across_shared_paths_and_ecs_unchanged(
    simulator_factory: Factory, http: httpx.Client
) -> None:
    plain = simulator_factory()
    mixed = simulator_factory()
    for service in ("evs", "bms", "ims", "vbs"):
        mixed.create_service_job(service, 2)
    assert mixed.create_servers(3) == plain.create_servers(3)
    ids = {mixed.create_service_job(s) for s in ("evs", "bms", "ims", "vbs") for _ in range(5)}
    assert len(ids) == 20
    for job_id in ids:
        assert get(http, mixed, "/v1/{p}/jobs/" + job_id).status_code == 200
    assert get(http, mixed, "/v1/{p}/jobs/" + "0" * 32).json()["error"]["code"] == "Common.0011"
