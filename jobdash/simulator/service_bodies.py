"""What each service's job API answers for a planned job, in that service's own shape.

A body is a pure function of the plan and the simulated time, as ECS bodies are
(`jobdash.simulator.jobs`): the same plan at the same moment renders the same bytes.
"""

from __future__ import annotations

import hashlib
from typing import Any

from jobdash.simulator.clock import from_ms
from jobdash.simulator.jobs import JobPlan, SubJobPlan, job_body
from jobdash.simulator.service_jobs import ServiceJob

#: ECS-style status (`phase`) -> each service's word for it.
_CCE = {"INIT": "Initializing", "RUNNING": "Running", "SUCCESS": "Success", "FAIL": "Failed"}
_RDS = {"INIT": "Running", "RUNNING": "Running", "SUCCESS": "Completed", "FAIL": "Failed"}
_LOWER = {"INIT": "waiting", "RUNNING": "running", "SUCCESS": "success", "FAIL": "failed"}
#: A CBR failure with this code ends as `timeout`, not `failed`.
CBR_TIMEOUT_CODE = "BackupService.6113"
CBR_PROVIDER = "0daac4c5-6707-4851-97ba-169e36266b66"


def derived_id(value: str, purpose: str) -> str:
    """A stable UUID-shaped id for something a job names besides its own resources."""
    digest = hashlib.sha256(f"{purpose}:{value}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


# -- time formats ---------------------------------------------------------------------


def go_time(ms: int, salt: str) -> str:
    """`2025-04-14 08:02:11.405127 +0000 UTC`, Go's `time.String()`; the microseconds
    below the millisecond come from `salt` so they look like a real clock's."""
    micros = (ms % 1000) * 1000 + int(hashlib.sha256(salt.encode()).hexdigest()[:4], 16) % 1000
    fraction = f"{micros:06d}".rstrip("0")
    head = from_ms(ms).strftime("%Y-%m-%d %H:%M:%S")
    return f"{head}.{fraction} +0000 UTC" if fraction else f"{head} +0000 UTC"


def offset_time(ms: int) -> str:
    """`2025-05-20T07:15:02+0000`, as RDS and DDS write times."""
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%S+0000")


def cbr_time(ms: int) -> str:
    """`2019-05-23T14:35:23.584+00:00`, as CBR writes times."""
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+00:00"


def plain_time(ms: int) -> str:
    """`2016-01-02 15:04:05` (UTC), as SFS Turbo writes times."""
    return from_ms(ms).strftime("%Y-%m-%d %H:%M:%S")


def zulu_time(ms: int) -> str:
    """`2024-03-23T08:20:42Z`, as ELB v3 writes times."""
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


def progress(plan: JobPlan, now_ms: int) -> int:
    """Percent done by time, 0 before it runs; a job stays below 100 until it succeeds."""
    if now_ms < plan.running_ms:
        return 0
    if now_ms >= plan.end_ms:
        return 100 if plan.failure is None else _stuck_at(plan)
    return min(99, (now_ms - plan.running_ms) * 100 // max(1, plan.end_ms - plan.running_ms))


def _stuck_at(plan: JobPlan) -> int:
    # Where a failed job's progress stopped: fixed per job.
    return 10 + int(plan.job_id.replace("-", "")[:4], 16) % 80


def _updated_ms(plan: JobPlan | SubJobPlan, now_ms: int) -> int:
    start = plan.running_ms if isinstance(plan, JobPlan) else plan.start_ms
    marks = [plan.begin_ms, start, plan.end_ms]
    return max(mark for mark in marks if mark <= now_ms)


# -- the services ---------------------------------------------------------------------


def render(job: ServiceJob, index: int | None, now_ms: int, request_id: str = "") -> Any:
    """The body of the job (or of its sub-job `index`) at `now_ms`."""
    return _RENDER[job.service](job, index, now_ms, request_id)


def _evs(job: ServiceJob, index: int | None, now_ms: int, _rid: str) -> dict[str, Any]:
    plan = job.plan

    def volume(sub_index: int) -> dict[str, Any]:
        sub = plan.sub_jobs[sub_index]
        return {
            "volume_id": sub.server_id,
            "name": f"{job.name}-{sub_index + 1:02d}" if job.batch else job.name,
            "size": (40, 100, 200)[sub_index % 3],
            "volume_type": ("SSD", "SAS", "GPSSD")[sub_index % 3],
        }

    if index is not None:
        sub = plan.sub_jobs[index]
        return job_body(sub, sub.status(now_ms), volume(index), now_ms)
    status = plan.status(now_ms)
    if not job.batch:
        return job_body(plan, status, volume(0), now_ms)
    entities: dict[str, Any] = {}
    if status != "INIT":
        entities["sub_jobs"] = [_evs(job, i, now_ms, "") for i in range(len(plan.sub_jobs))]
    return job_body(plan, status, entities, now_ms)


def _bms(job: ServiceJob, index: int | None, now_ms: int, _rid: str) -> dict[str, Any]:
    # BMS answers exactly as ECS does.
    if index is not None:
        return job.plan.sub_jobs[index].render(now_ms)
    return job.plan.render(now_ms)


def _deh(job: ServiceJob, index: int | None, now_ms: int, _rid: str) -> dict[str, Any]:
    # Huawei Cloud's dedicated hosts: an ECS-shaped job, polled at the ECS endpoint, that
    # names its host three `entities` deep.
    plan = job.plan
    host = plan.sub_jobs[0]
    status = plan.status(now_ms)
    entities: dict[str, Any] = {}
    if status == "SUCCESS":
        entities = {
            "entities": {"entities": [{"resourceId": host.server_id, "resourceType": "host"}]}
        }
    return job_body(plan, status, entities, now_ms)


def _ims(job: ServiceJob, index: int | None, now_ms: int, _rid: str) -> dict[str, Any]:
    plan = job.plan

    def image(sub_index: int) -> dict[str, Any]:
        sub = plan.sub_jobs[sub_index]
        name = f"{job.name}-{sub_index + 1}" if len(plan.sub_jobs) > 1 else job.name
        entities: dict[str, Any] = {"image_name": name}
        if sub.status(now_ms) == "SUCCESS":
            entities["image_id"] = sub.server_id
        return entities

    if index is not None:
        sub = plan.sub_jobs[index]
        return job_body(sub, sub.status(now_ms), image(index), now_ms)
    status = plan.status(now_ms)
    if len(plan.sub_jobs) == 1 and job.kind != "import_ova":
        return job_body(plan, status, image(0), now_ms)
    # Multi-image jobs name their images in sub-job results, not at the top.
    entities = {"sub_jobs_list": [sub.job_id for sub in plan.sub_jobs]}
    if status != "INIT":
        entities["sub_jobs_result"] = [_ims(job, i, now_ms, "") for i in range(len(plan.sub_jobs))]
    return job_body(plan, status, entities, now_ms)


def _vbs(job: ServiceJob, index: int | None, now_ms: int, _rid: str) -> dict[str, Any]:
    plan = job.plan

    def backup(sub: SubJobPlan) -> dict[str, str]:
        return {
            "backup_id": sub.server_id,
            "volume_id": derived_id(sub.server_id, "vbs-volume"),
            "snapshot_id": derived_id(sub.server_id, "vbs-snapshot"),
            "bks_create_volume_name": job.name,
        }

    if index is not None:
        sub = plan.sub_jobs[index]
        body = job_body(sub, sub.status(now_ms), backup(sub), now_ms)
        body["sub_jobs"] = []
        return body
    status = plan.status(now_ms)
    body = job_body(plan, status, backup(plan.sub_jobs[0]) if not job.batch else {}, now_ms)
    # VBS lists sub-jobs at the top level, not inside `entities`.
    body["sub_jobs"] = (
        [_vbs(job, i, now_ms, "") for i in range(len(plan.sub_jobs))]
        if job.batch and status != "INIT"
        else []
    )
    return body


def _cce_job(
    uid: str,
    job_type: str,
    plan: JobPlan | SubJobPlan,
    status: str,
    resource_id: str,
    resource_name: str,
    cluster: str,
    sub_jobs: list[dict[str, Any]],
    now_ms: int,
    v2: bool,
) -> dict[str, Any]:
    reason = plan.failure.fail_reason if status == "FAIL" and plan.failure else ""
    metadata = {
        "uid": uid,
        "creationTimestamp": go_time(plan.begin_ms, uid + "c"),
        "updateTimestamp": go_time(_updated_ms(plan, now_ms), uid + "u"),
    }
    if v2:
        # v2 spells its spec keys in lower case and keeps the state in `status.status`.
        finished = status in ("SUCCESS", "FAIL")
        return {
            "kind": "Job",
            "apiVersion": "v2",
            "metadata": metadata,
            "spec": {
                "type": job_type,
                "clusteruid": cluster,
                "resourceid": resource_id,
                "resourcename": resource_name,
                "extendparam": {},
                "subjobs": sub_jobs,
            },
            "status": {
                "status": _CCE[status],
                "reason": reason,
                "completionTime": go_time(plan.end_ms, uid + "e") if finished else "",
            },
        }
    return {
        "kind": "Job",
        "apiVersion": "v3",
        "metadata": metadata,
        "spec": {
            "type": job_type,
            "clusterUID": cluster,
            "resourceID": resource_id,
            "resourceName": resource_name,
            "extendParam": {},
            "subJobs": sub_jobs,
        },
        "status": {"phase": _CCE[status], "reason": reason},
    }


def render_cce(job: ServiceJob, index: int | None, now_ms: int, *, v2: bool) -> dict[str, Any]:
    plan = job.plan
    cluster = derived_id(plan.job_id, "cce-cluster")

    def node(sub_index: int) -> dict[str, Any]:
        # A node's job nests the job of its VM, which names the node as its resource.
        sub = plan.sub_jobs[sub_index]
        status = sub.status(now_ms)
        name = f"{job.name}-{sub_index + 1:02d}"
        vm_uid = derived_id(sub.job_id, "cce-vm-job")
        vm = _cce_job(
            vm_uid, sub.job_type, sub, status, sub.server_id, name, cluster, [], now_ms, v2
        )
        return _cce_job(
            sub.job_id, plan.job_type, sub, status, sub.server_id, name, cluster, [vm], now_ms, v2
        )

    if index is not None:
        return node(index)
    status = plan.status(now_ms)
    subs = [node(i) for i in range(len(plan.sub_jobs))] if status != "INIT" else []
    return _cce_job(plan.job_id, plan.job_type, plan, status, "", "", cluster, subs, now_ms, v2)


def _cce(job: ServiceJob, index: int | None, now_ms: int, _rid: str) -> dict[str, Any]:
    return render_cce(job, index, now_ms, v2=False)


def _db_job(job: ServiceJob, now_ms: int, *, dds: bool) -> dict[str, Any]:
    plan = job.plan
    status = plan.status(now_ms)
    instance_id = plan.sub_jobs[0].server_id
    body: dict[str, Any] = {
        "id": plan.job_id,
        "name": plan.job_type,
        "status": _RDS[status],
        "created": offset_time(plan.begin_ms),
    }
    if now_ms >= plan.end_ms:
        body["ended"] = offset_time(plan.end_ms)
    done = f"{progress(plan, now_ms)}%" if status == "RUNNING" else ""
    body["progress" if dds else "process"] = done
    body["instance"] = {"id": instance_id, "name": job.name}
    if not dds:
        body["entities"] = _rds_entities(job.kind, instance_id)
    if status == "FAIL" and plan.failure is not None:
        body["fail_reason"] = plan.failure.fail_reason
    return body


def _rds_entities(kind: str, instance_id: str) -> dict[str, Any]:
    if kind == "create":
        return {
            "instance": {
                "endpoint": "192.168.0.42:3306",
                "type": "Ha",
                "datastore": {"type": "MySQL", "version": "8.0"},
            },
            "resource_ids": [f"{instance_id}.vm", f"{instance_id}.volume"],
        }
    if kind == "resize":
        return {"volume": {"type": "ULTRAHIGH", "original_size": "100", "target_size": "200"}}
    return {}


def _rds(job: ServiceJob, _index: int | None, now_ms: int, _rid: str) -> dict[str, Any]:
    return {"job": _db_job(job, now_ms, dds=False)}


def _dds(job: ServiceJob, _index: int | None, now_ms: int, _rid: str) -> dict[str, Any]:
    return {"job": _db_job(job, now_ms, dds=True)}


def rds_task(job: ServiceJob, now_ms: int) -> dict[str, Any]:
    """One entry of the RDS task list: other names than the job API's (`create_time`)."""
    plan = job.plan
    status = plan.status(now_ms)
    return {
        "id": plan.job_id,
        "name": plan.job_type,
        "instance_id": plan.sub_jobs[0].server_id,
        "instance_name": job.name,
        "instance_status": "BUILD" if status in ("INIT", "RUNNING") else "ACTIVE",
        "order_id": "",
        "process": f"{progress(plan, now_ms)}%" if status == "RUNNING" else "",
        "fail_reason": plan.failure.fail_reason if status == "FAIL" and plan.failure else "",
        "create_time": plan.begin_ms,
        "end_time": plan.end_ms if now_ms >= plan.end_ms else None,
        "status": _RDS[status],
    }


def _dcs(job: ServiceJob, _index: int | None, now_ms: int, _rid: str) -> dict[str, Any]:
    plan = job.plan
    status = plan.status(now_ms)
    return {
        "job_id": plan.job_id,
        "job_type": plan.job_type,
        "status": status,
        # DCS writes its times as epoch milliseconds, in strings.
        "begin_time": str(plan.begin_ms),
        "end_time": str(plan.end_ms) if now_ms >= plan.end_ms else "",
        "fail_reason": plan.failure.fail_reason if status == "FAIL" and plan.failure else None,
    }


def cbr_status(job: ServiceJob, now_ms: int) -> str:
    plan = job.plan
    status = plan.status(now_ms)
    if status == "FAIL" and plan.failure and plan.failure.error_code == CBR_TIMEOUT_CODE:
        return "timeout"
    return _LOWER[status]


def _cbr(job: ServiceJob, _index: int | None, now_ms: int, _rid: str) -> dict[str, Any]:
    plan = job.plan
    status = plan.status(now_ms)
    resource_id = plan.sub_jobs[0].server_id
    backup_id = derived_id(plan.job_id, "cbr-backup")
    failure = plan.failure if status == "FAIL" else None
    extra: dict[str, Any] = {
        "resource": {"id": resource_id, "name": job.name, "type": "OS::Nova::Server"},
        "common": {
            "progress": progress(plan, now_ms),
            "request_id": "req-" + derived_id(plan.job_id, "cbr-request"),
            "task_id": derived_id(plan.job_id, "cbr-task"),
        },
    }
    backup_name = f"manual_{from_ms(plan.begin_ms):%Y%m%d%H%M}"
    if job.kind == "backup":
        extra["backup"] = {
            "backup_id": backup_id if status == "SUCCESS" else "",
            "backup_name": backup_name,
            "incremental": "false",
        }
    elif job.kind == "restore":
        extra["restore"] = {
            "backup_id": backup_id,
            "backup_name": backup_name,
            "target_resource_id": resource_id,
            "target_resource_name": job.name,
        }
    else:
        extra["delete"] = {"backup_id": backup_id, "backup_name": backup_name}
    return {
        "operation_log": {
            "id": plan.job_id,
            "status": cbr_status(job, now_ms),
            "operation_type": job.kind,
            "checkpoint_id": derived_id(plan.job_id, "cbr-checkpoint"),
            "policy_id": "",
            "project_id": job.project_id,
            "provider_id": CBR_PROVIDER,
            "vault_id": derived_id(job.project_id, "cbr-vault"),
            "vault_name": "vault-demo",
            "created_at": cbr_time(plan.begin_ms),
            "started_at": cbr_time(plan.running_ms) if now_ms >= plan.running_ms else "",
            "updated_at": cbr_time(_updated_ms(plan, now_ms)),
            "ended_at": cbr_time(plan.end_ms) if now_ms >= plan.end_ms else "",
            "error_info": {
                "code": failure.error_code if failure else "",
                "message": failure.fail_reason if failure else "",
            },
            "extra_info": extra,
        }
    }


def _sfs_turbo(job: ServiceJob, _index: int | None, now_ms: int, _rid: str) -> dict[str, Any]:
    plan = job.plan
    status = plan.status(now_ms)
    failure = plan.failure if status == "FAIL" else None
    return {
        "status": _LOWER[status],
        "job_id": plan.job_id,
        "job_type": plan.job_type,
        "begin_time": plain_time(plan.begin_ms),
        "end_time": plain_time(plan.end_ms) if now_ms >= plan.end_ms else "",
        "error_code": failure.error_code if failure else "",
        "fail_reason": failure.fail_reason if failure else "",
        "sub_jobs": [],
    }


def elb_status(plan: JobPlan, now_ms: int) -> str:
    """ELB finishes as COMPLETE; a failing job rolls back after its first failed step."""
    status = plan.status(now_ms)
    if status == "SUCCESS":
        return "COMPLETE"
    if status == "RUNNING" and plan.failure is not None:
        first_failed = min(sub.end_ms for sub in plan.sub_jobs if sub.failure is not None)
        return "ROLLBACKING" if now_ms >= first_failed else "RUNNING"
    return status


def _elb_fields(
    item: JobPlan | SubJobPlan, status: str, project_id: str, now_ms: int
) -> dict[str, Any]:
    """The fields an ELB job and each of its sub-jobs have alike, in ELB's order."""
    failure = item.failure if status == "FAIL" else None
    return {
        "job_id": item.job_id,
        "job_type": item.job_type,
        "status": status,
        "begin_time": zulu_time(item.begin_ms),
        "end_time": zulu_time(item.end_ms) if now_ms >= item.end_ms else "",
        "error_code": failure.error_code if failure else None,
        "error_msg": failure.fail_reason if failure else None,
        "project_id": project_id,
    }


def elb_job(job: ServiceJob, now_ms: int) -> dict[str, Any]:
    plan = job.plan
    status = elb_status(plan, now_ms)
    resource_type = "listener" if "istener" in plan.job_type else "loadbalancer"

    def step(sub: SubJobPlan) -> dict[str, Any]:
        body = _elb_fields(sub, sub.status(now_ms), job.project_id, now_ms)
        body["resource_id"] = ""
        body["entities"] = [{"resource_id": sub.server_id, "resource_type": resource_type}]
        return body

    body = _elb_fields(plan, status, job.project_id, now_ms)
    body["resource_id"] = plan.sub_jobs[0].server_id if not job.batch else ""
    body["sub_jobs"] = [step(sub) for sub in plan.sub_jobs] if status != "INIT" else []
    return body


def _elb(job: ServiceJob, _index: int | None, now_ms: int, request_id: str) -> dict[str, Any]:
    return {"job": elb_job(job, now_ms), "request_id": request_id}


_RENDER = {
    "evs": _evs,
    "bms": _bms,
    "deh": _deh,
    "ims": _ims,
    "vbs": _vbs,
    "cce": _cce,
    "rds": _rds,
    "dds": _dds,
    "dcs": _dcs,
    "cbr": _cbr,
    "sfs_turbo": _sfs_turbo,
    "elb": _elb,
}
