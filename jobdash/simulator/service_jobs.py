"""Jobs of the services other than ECS: what each can plan, how it fails, and the book of them.

Every service plans its jobs with the ECS machinery (`JobBook`: sub-jobs with start and end
times, seeded failures), each from random streams of its own, so ECS jobs stay the same for a
seed. How a plan looks on the wire is `jobdash.simulator.service_bodies`'.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jobdash.simulator.config import FIRST_REGION
from jobdash.simulator.failures import Failure
from jobdash.simulator.jobs import DEFAULT_DURATION, JobBook, JobPlan, SubJobPlan

#: Kind of job -> (type of a one-resource job, type of a batch job, type of its sub-jobs).
JobTypes = dict[str, tuple[str, str, str]]


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    kinds: JobTypes  # the first is the default
    #: (error code, failure text) pairs a failed job of this service reports.
    failures: tuple[tuple[str, str], ...]
    batch: bool = True  # False: a job acts on exactly one resource
    #: Whether a sub-job's id answers on the job API by itself (as ECS sub-jobs do).
    sub_jobs_queryable: bool = True
    uuid_ids: bool = False  # job ids as UUIDs rather than 32 hex characters
    #: How a resource id is written, from a UUID.
    resource_id: Callable[[str], str] = field(default=lambda value: value)


def _instance_id(suffix: str) -> Callable[[str], str]:
    # RDS and DDS instance ids: 32 hex characters and a type suffix.
    return lambda value: value.replace("-", "") + suffix


SPECS: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec(
            "evs",
            {
                "create": ("createVolume", "batchCreateVolume", "createVolume"),
                "delete": ("deleteVolume", "bulkDeleteVolume", "deleteSingleVolume"),
                "extend": ("extendVolume", "extendVolume", "extendVolume"),
            },
            (
                ("EVS.2024", "volume is error!"),
                ("EVS.2026", "Expand disk failed, the disk is in error_extending state."),
                ("EVS.2072", "The disk type is sold out in this availability zone."),
            ),
        ),
        ServiceSpec(
            "deh",
            {"create": ("createDedicatedHost", "createDedicatedHost", "createDedicatedHost")},
            (("DEH.1001", "insufficient dedicated host capacity in the availability zone"),),
            batch=False,
            sub_jobs_queryable=False,
        ),
        ServiceSpec(
            "bms",
            {
                "create": ("baremetalBatchCreate", "baremetalBatchCreate", "baremetalSingleCreate"),
                "operate": (
                    "baremetalBatchOperate",
                    "baremetalBatchOperate",
                    "baremetalSingleOperate",
                ),
            },
            (("BMS.0006", "Fail to operate baremetal server."),),
        ),
        ServiceSpec(
            "ims",
            {
                "create": (
                    "imsCreateImageByInstance",
                    "imsVolumesToSysDataImagesJob",
                    "imsVolumeCreateImageJob",
                ),
                "import_ova": ("imsImportOvaImageJob", "imsImportOvaImageJob", "imsImportImageJob"),
            },
            (
                ("IMG.0057", "image file not found or unreadable in bucket"),
                ("IMG.0014", "IaaS OpenStack task exception."),
                ("IMG.0015", "The number of private images exceeds the quota."),
            ),
        ),
        ServiceSpec(
            "vbs",
            {"backup": ("bksCreateBackup", "bksCreateBackup", "bksCreateBackup")},
            (("VBS.1103", "create snapshot failed."), ("VBS.1106", "backup volume failed.")),
        ),
        ServiceSpec(
            "cce",
            {
                "create_node": ("CreateNode", "CreateNode", "CreateNodeVM"),
                "delete_node": ("DeleteNode", "DeleteNode", "DeleteNodeVM"),
            },
            (
                ("CCE.01400004", "insufficient ECS quota"),
                ("CCE.01400001", "subnet has no free IP addresses"),
            ),
            uuid_ids=True,
        ),
        ServiceSpec(
            "rds",
            {
                "create": ("CreateMysqlSingleHAInstance",) * 3,
                "resize": ("ResizeMysqlVolume",) * 3,
                "restart": ("RestartMysqlInstance",) * 3,
            },
            (
                ("DBS.212009", "resize volume failed."),
                ("DBS.212009", "create instance failed."),
            ),
            batch=False,
            sub_jobs_queryable=False,
            uuid_ids=True,
            resource_id=_instance_id("in01"),
        ),
        ServiceSpec(
            "dds",
            {
                "create": ("CreateMongoDB",) * 3,
                "resize": ("Resize_MongoDB_Volume",) * 3,
                "restart": ("RestartInstance",) * 3,
            },
            (
                ("DBS.212009", "Failed to extend the disk."),
                ("DBS.212009", "Failed to create the instance."),
            ),
            batch=False,
            sub_jobs_queryable=False,
            uuid_ids=True,
            resource_id=_instance_id("in02"),
        ),
        ServiceSpec(
            "dcs",
            {
                "swap": ("masterStandbySwapJob",) * 3,
                "modify_ip": ("modifyClientIpTransJob",) * 3,
            },
            (("DCS.4842", "standby node unreachable"), ("DCS.4842", "job execution failed")),
            batch=False,
            sub_jobs_queryable=False,
        ),
        ServiceSpec(
            "cbr",
            {"backup": ("backup",) * 3, "restore": ("restore",) * 3, "delete": ("delete",) * 3},
            (
                ("BackupService.6125", "A backup task is in progress."),
                ("BackupService.2002", "The resource is being backed up."),
                # Ends as `timeout` rather than `failed` (service_bodies).
                ("BackupService.6113", "The task timed out."),
            ),
            batch=False,
            sub_jobs_queryable=False,
            uuid_ids=True,
        ),
        ServiceSpec(
            "sfs_turbo",
            {
                "create_share": ("create_share",) * 3,
                "extend_share": ("extend_share",) * 3,
                "delete_share": ("delete_share",) * 3,
                "change_security_group": ("change_security_group",) * 3,
            },
            (
                ("SFS.TURBO.0032", "EVS Resource Not Enough"),
                ("SFS.TURBO.0030", "ECS Resource Not Enough"),
                ("SFS.TURBO.0029", "The subnet has not enough IP addresses"),
            ),
            batch=False,
            sub_jobs_queryable=False,
            uuid_ids=True,
        ),
        ServiceSpec(
            "elb",
            {
                "clone_loadbalancer": ("cloneLoadbalancer",) * 3,
                "clone_listener": ("cloneListener",) * 3,
                "batch_create": ("batchCreateV3Loadbalancer",) * 3,
                "batch_delete": ("batchDeleteLoadbalancer",) * 3,
            },
            (
                ("ELB.8902", "listener port already in use"),
                ("ELB.8906", "insufficient load balancer quota"),
            ),
            uuid_ids=True,
            sub_jobs_queryable=False,
        ),
    )
}
SERVICES = tuple(SPECS)
#: Operation text handed to the failure drawer; the services' failures do not use it.
_OPERATION = "operate"


@dataclass(frozen=True, slots=True)
class ServiceJob:
    """A planned job of one service: its plan plus what the body names besides the plan."""

    service: str
    kind: str
    project_id: str
    name: str
    plan: JobPlan
    created_by: str = "python"  # "python", "http" or "control": only for diagnostics

    @property
    def resource_ids(self) -> list[str]:
        return [sub.server_id for sub in self.plan.sub_jobs]

    @property
    def batch(self) -> bool:
        return SPECS[self.service].batch and len(self.plan.sub_jobs) > 1


def _drawer(spec: ServiceSpec) -> Callable[[random.Random, str, str, str], Failure]:
    def draw(rng: random.Random, _operation: str, _resource: str, _sub: str) -> Failure:
        code, reason = rng.choice(spec.failures)
        return Failure(error_code=code, fail_reason=reason, errorcode_message=reason)

    return draw


class ServiceJobBook:
    """The jobs of every service but ECS. Not thread-safe: the caller holds a lock."""

    def __init__(
        self, *, seed: int, fail_rate: float, purge_after: float, region: str = FIRST_REGION
    ) -> None:
        self._books = {
            name: JobBook(
                seed=seed,
                fail_rate=fail_rate,
                purge_after=purge_after,
                stream=name,
                uuid_ids=spec.uuid_ids,
                draw=_drawer(spec),
                region=region,
            )
            for name, spec in SPECS.items()
        }
        self._jobs: dict[str, ServiceJob] = {}
        #: (service, resource id) -> the sub-jobs that act on it, in the order planned.
        self._by_resource: dict[tuple[str, str], list[tuple[ServiceJob, SubJobPlan]]] = {}

    def create(
        self,
        service: str,
        count: int,
        now_ms: int,
        *,
        project_id: str,
        kind: str | None = None,
        name: str | None = None,
        fail_count: int | None = None,
        duration: tuple[float, float] = DEFAULT_DURATION,
        resource_ids: list[str] | None = None,
        created_by: str = "python",
    ) -> ServiceJob:
        spec = SPECS.get(service)
        if spec is None:
            raise ValueError(f"unknown service {service!r}; expected one of {list(SERVICES)}")
        kind = kind or next(iter(spec.kinds))
        if kind not in spec.kinds:
            raise ValueError(
                f"{service} has no job kind {kind!r}; expected one of {list(spec.kinds)}"
            )
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError("count must be a positive integer")
        if count > 1 and not spec.batch:
            raise ValueError(f"a {service} job acts on one resource, not {count}")
        book = self._books[service]
        ids = list(resource_ids or [])
        if ids and len(ids) != count:
            raise ValueError("resource_ids must name one id per resource")
        ids = ids or [spec.resource_id(book.new_server_id()) for _ in range(count)]
        single, batch, sub = spec.kinds[kind]
        plan = book.create(
            (batch if count > 1 else single, sub, _OPERATION),
            ids,
            now_ms,
            fail_count=fail_count,
            duration=duration,
        )
        job = ServiceJob(service, kind, project_id, name or f"{service}-{kind}", plan, created_by)
        self._jobs[plan.job_id] = job
        for sub in plan.sub_jobs:
            self._by_resource.setdefault((service, sub.server_id), []).append((job, sub))
        return job

    def acting_on(self, service: str, resource_id: str) -> list[tuple[ServiceJob, SubJobPlan]]:
        """The sub-jobs (with their jobs) that act on one resource, in the order planned."""
        return list(self._by_resource.get((service, resource_id), ()))

    def find(
        self, services: tuple[str, ...], job_id: str, now_ms: int
    ) -> tuple[ServiceJob, int | None] | None:
        """The job (and sub-job index) behind `job_id` among `services`; None if unknown."""
        for service in services:
            found = self._books[service].plan(job_id, now_ms)
            if found is not None and (found[1] is None or SPECS[service].sub_jobs_queryable):
                return self._jobs[found[0].job_id], found[1]
        return None

    def jobs(self, service: str, project_id: str, now_ms: int) -> list[ServiceJob]:
        """The service's jobs in a project, not purged yet, oldest first."""
        listed = (self._jobs[plan.job_id] for plan in self._books[service].plans(now_ms))
        return [job for job in listed if job.project_id == project_id]

    def __len__(self) -> int:
        return sum(len(book) for book in self._books.values())

    def describe(self, job: ServiceJob) -> dict[str, Any]:
        """What a create call answers with besides the job id (for tests and tooling)."""
        return {"service": job.service, "kind": job.kind, "resource_ids": job.resource_ids}
