"""The demo's jobs: created over HTTP against the in-process simulator, the way a user's
scripts would create them (no UI here). Used by `jobdash demo`, `jobdash serve --demo` and
the screenshot script."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from jobdash.api.model import Job, parse_job, parse_time
from jobdash.simulator import Simulator, SimulatorConfig
from jobdash.store.core import Store
from jobdash.watch.values import WatchEntry, WatchKey

#: Simulated seconds each kind of sub-job runs: (shortest, longest).
QUICK = (20.0, 75.0)
LONG = (4 * 3600.0, 4 * 3600.0)
#: The demo's second project lives in this region, at its own simulator.
SECOND_REGION = "eu-nl"


@dataclass(frozen=True, slots=True)
class DemoJob:
    job_id: str
    label: str
    #: Whose job API it belongs to (`jobdash.services`).
    service: str = "ecs"


class DemoScenario:
    """Posts the demo's requests to a simulator: `base_url` is both ECS and job endpoint."""

    def __init__(self, base_url: str, project_id: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.project_id = project_id
        self._client = httpx.Client(
            base_url=f"{self.base_url}/v1/{project_id}",
            headers={"X-Auth-Token": token, "Content-Type": "application/json"},
            timeout=10.0,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> DemoScenario:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _post(self, path: str, body: dict[str, object]) -> dict[str, object]:
        response = self._client.post(path, json=body)
        response.raise_for_status()
        data = response.json()
        if not isinstance(data, dict) or not isinstance(data.get("job_id"), str):
            raise ValueError(f"the simulator answered {path} without a job_id")
        return data

    def create_servers(
        self, name: str, count: int, *, fail_count: int, duration: tuple[float, float] = QUICK
    ) -> tuple[str, list[str]]:
        body = {
            "server": {"name": name, "count": count, "flavorRef": "s3.medium.2"},
            "_sim": {"fail_count": fail_count, "duration": list(duration)},
        }
        data = self._post("/cloudservers", body)
        server_ids = data.get("serverIds")
        ids = [s for s in server_ids if isinstance(s, str)] if isinstance(server_ids, list) else []
        return str(data["job_id"]), ids

    def batch(self, action: str, server_ids: list[str], *, fail_count: int = 0) -> str:
        body = {
            action: {"servers": [{"id": s} for s in server_ids]},
            "_sim": {"fail_count": fail_count, "duration": list(QUICK)},
        }
        return str(self._post("/cloudservers/action", body)["job_id"])

    def delete(self, server_ids: list[str], *, fail_count: int = 0) -> str:
        body = {
            "servers": [{"id": s} for s in server_ids],
            "delete_publicip": True,
            "_sim": {"fail_count": fail_count, "duration": list(QUICK)},
        }
        return str(self._post("/cloudservers/delete", body)["job_id"])

    def service_job(
        self,
        service: str,
        name: str,
        count: int = 1,
        *,
        fail_count: int = 0,
        kind: str | None = None,
        duration: tuple[float, float] = QUICK,
    ) -> str:
        """A job of another service (EVS, IMS, CCE, RDS, ...), through the simulator's
        control API: not every service's real create call answers with a job id."""
        body: dict[str, object] = {
            "count": count,
            "name": name,
            "project_id": self.project_id,
            "_sim": {"fail_count": fail_count, "duration": list(duration)},
        }
        if kind is not None:
            body["kind"] = kind
        response = self._client.post(f"{self.base_url}/_sim/jobs/{service}", json=body)
        response.raise_for_status()
        data = response.json()
        if not isinstance(data, dict) or not isinstance(data.get("job_id"), str):
            raise ValueError(f"the simulator made no {service} job")
        return data["job_id"]

    def run(self) -> list[DemoJob]:
        """A realistic mix: a 20-server batch with failures, a batch stop, a delete,
        a single server, one that keeps running for hours, and the jobs of other services
        that the batch needs."""
        batch_id, web = self.create_servers("web", 20, fail_count=3)
        _, workers = self.create_servers("worker", 6, fail_count=0, duration=(5.0, 15.0))
        stop_id = self.batch("os-stop", workers[:4], fail_count=1)
        delete_id = self.delete(workers[4:], fail_count=0)
        single_id, _ = self.create_servers("bastion", 1, fail_count=0)
        long_id, _ = self.create_servers("db-restore", 1, fail_count=0, duration=LONG)
        del web  # the batch's own servers stay; they are what the operator is waiting for
        # The rest of the fleet's batch, from the other services: its data volumes, the
        # image it boots from, the cluster node pool it joins, its database.
        volumes_id = self.service_job("evs", "web-data", 20, fail_count=2)
        image_id = self.service_job("ims", "web-base-image")
        nodes_id = self.service_job("cce", "web-pool", 3, fail_count=1)
        database_id = self.service_job("rds", "orders-db", duration=(60.0, 150.0))
        return [
            DemoJob(batch_id, "web tier x20"),
            DemoJob(stop_id, "stop workers"),
            DemoJob(delete_id, "delete old workers"),
            DemoJob(single_id, "bastion"),
            DemoJob(long_id, "db restore"),
            DemoJob(volumes_id, "web data volumes x20", "evs"),
            DemoJob(image_id, "web base image", "ims"),
            DemoJob(nodes_id, "web node pool x3", "cce"),
            DemoJob(database_id, "orders database", "rds"),
        ]

    def run_second_region(self) -> list[DemoJob]:
        """A smaller mix for the second region's project."""
        batch_id, app_servers = self.create_servers("app", 4, fail_count=1)
        start_id = self.batch("os-start", app_servers[:2])
        return [DemoJob(batch_id, "app tier x4"), DemoJob(start_id, "start app")]


#: The demo's history: (job type, sub-job type, servers, how many such jobs ended before).
PAST_JOBS = (
    ("createServer", "createSingleServer", 20, 6),
    ("createServer", "createSingleServer", 6, 4),
    ("createServer", "createSingleServer", 1, 5),
    ("batchStopServer", "stopServer", 4, 4),
    ("deleteServer", "deleteSingleServer", 2, 4),
)


def past_jobs(now: datetime, seed: int) -> list[Job]:
    """Finished jobs like the demo's, from the days before `now`, so estimates, stall marks
    and `jobdash history` have something to learn from on the first launch."""
    rng = random.Random(seed)
    jobs = []
    for job_type, sub_type, servers, count in PAST_JOBS:
        for n in range(count):
            begin = now - timedelta(days=1 + n, minutes=rng.uniform(0, 600))
            subs = []
            for _ in range(servers):
                start = begin + timedelta(seconds=rng.uniform(1.5, 9.0))
                end = start + timedelta(seconds=rng.uniform(*QUICK))
                failed = rng.random() < 0.08
                subs.append(
                    {
                        "job_id": f"{rng.getrandbits(128):032x}",
                        "job_type": sub_type,
                        "status": "FAIL" if failed else "SUCCESS",
                        "begin_time": _api_time(start),
                        "end_time": _api_time(end),
                        "error_code": "Ecs.0319" if failed else None,
                        "entities": {},
                    }
                )
            end = max(parse_time(s["end_time"]) for s in subs) + timedelta(seconds=1)  # type: ignore[type-var]
            body = {
                "job_id": f"{rng.getrandbits(128):032x}",
                "job_type": job_type,
                "status": "FAIL" if any(s["status"] == "FAIL" for s in subs) else "SUCCESS",
                "begin_time": _api_time(begin),
                "end_time": _api_time(end),
                "entities": {"sub_jobs_total": servers, "sub_jobs": subs},
            }
            jobs.append(parse_job(body))
    return jobs


def _api_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def seed_history(store: Store, now: datetime, seed: int) -> None:
    for job in past_jobs(now, seed):
        store.record_finished(job)


def demo_entries(
    endpoint: str, project_id: str, jobs: list[DemoJob], sim: Simulator | None = None
) -> list[WatchEntry]:
    """Entries for `jobs`; with `sim`, they record its region and project (cloud "demo")."""
    if sim is None:
        return [
            WatchEntry(WatchKey(endpoint, project_id, job.job_id, job.service), job.label)
            for job in jobs
        ]
    return [
        WatchEntry(
            WatchKey(endpoint, project_id, job.job_id, job.service),
            job.label,
            profile="demo",
            auth_method="token",
            region=sim.region,
            project_name=sim.project_name,
        )
        for job in jobs
    ]


@contextmanager
def demo_world(
    *, speed: float, seed: int, open_store: Callable[[Path], Store] = Store
) -> Iterator[tuple[Simulator, Store]]:
    """Two regions' simulators on free loopback ports (eu-de, the one yielded, and eu-nl:
    a project in each, one account, so the demo's token opens both), the demo's jobs on
    them, and a throwaway watchlist holding them (opened with `open_store`); all of it
    is gone when the block ends."""
    config = SimulatorConfig(host="127.0.0.1", port=0, speed=speed, seed=seed)
    second = replace(config, region=SECOND_REGION)
    with (
        tempfile.TemporaryDirectory(prefix="jobdash-demo-") as workdir,
        Simulator(config) as sim,
        Simulator(second) as sim_nl,
    ):
        with DemoScenario(sim.url, sim.project_id, sim.credentials.token) as scenario:
            jobs = scenario.run()
        with DemoScenario(sim_nl.url, sim_nl.project_id, sim.credentials.token) as scenario:
            jobs_nl = scenario.run_second_region()
        store = open_store(Path(workdir) / "demo-watchlist.sqlite3")
        try:
            seed_history(store, sim.now(), seed)
            store.add(demo_entries(sim.url, sim.project_id, jobs, sim))
            store.add(demo_entries(sim_nl.url, sim_nl.project_id, jobs_nl, sim_nl))
            yield sim, store
        finally:
            store.close()
