"""Each service's job, fetched over real loopback from the simulator at the adapter's own
path and read through the adapter and the model, from its first answer to its end; and
each list the adapters know finds the jobs the simulator started."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from jobdash.api.model import decode_body, parse_job
from jobdash.services.base import JOBDASH_STATUSES
from jobdash.services.registry import service
from jobdash.simulator import Simulator

SERVICES = ("evs", "bms", "ims", "vbs", "cce", "rds", "dds", "dcs", "cbr", "sfs_turbo", "elb")
#: Services whose simulated jobs act on several resources at once.
BATCHES = frozenset({"evs", "bms", "ims", "cce", "elb"})


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


def _get(http: httpx.Client, sim: Simulator, path: str) -> httpx.Response:
    return http.get(sim.url + path, headers={"X-Auth-Token": sim.credentials.token})


@pytest.mark.parametrize("name", SERVICES)
@pytest.mark.parametrize("fails", [False, True])
def test_a_simulated_job_reads_from_start_to_end(
    simulator: Simulator, http: httpx.Client, name: str, fails: bool
) -> None:
    adapter = service(name)
    count = 2 if name in BATCHES else 1
    job_id = simulator.create_service_job(name, count, fail_count=count if fails else 0)
    path = adapter.job_path(simulator.project_id, job_id)
    seen: list[str] = []
    for _ in range(200):
        answer = _get(http, simulator, path)
        assert answer.status_code == 200, answer.text
        job = parse_job(adapter.read(decode_body(answer.content)), answer.content)
        assert job.status in JOBDASH_STATUSES, (job.status, job.service_status)
        assert job.service_status or adapter.adapt is None
        assert job.job_id == job_id
        assert job.begin_time is not None or job.status == "INIT"
        for sub in job.sub_jobs:
            assert sub.status in JOBDASH_STATUSES
        if not seen or seen[-1] != job.status:
            seen.append(job.status)
        if job.is_terminal:
            break
        simulator.advance(2.0)
    assert seen[-1] == ("FAIL" if fails else "SUCCESS"), seen
    assert job.end_time is not None and job.end_time >= (job.begin_time or job.end_time)
    if fails:
        assert job.failure_summary()
        assert all(reason for _code, _count, reason in job.failure_summary())
    if name in ("rds", "dds", "cbr"):
        assert job.resource_id


@pytest.mark.parametrize("name", ["cce", "rds", "cbr", "elb"])
def test_lists_find_the_jobs_started(simulator: Simulator, http: httpx.Client, name: str) -> None:
    adapter = service(name)
    assert adapter.listing is not None
    since = datetime.now(UTC) - timedelta(hours=1)
    started = {simulator.create_service_job(name, fail_count=0) for _ in range(3)}
    answer = _get(http, simulator, adapter.listing.path(simulator.project_id, since))
    assert answer.status_code == 200, answer.text
    listed = adapter.listing.read(answer.json())
    assert started <= {job_id for job_id, _began in listed}
    assert all(began is not None for job_id, began in listed if job_id in started)
