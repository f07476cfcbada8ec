"""The benchmark's simulator in a child process, and the vendor SDK's polling loop."""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import httpx

WARM_UP = 5


@dataclass(frozen=True)
class SimSpec:
    jobs: int
    latency_ms: float
    #: Server-side limit in job GETs per second (None: none) and how it answers above it.
    rate_limit: float | None = None
    rate_limit_answer: str = "429"


@dataclass(frozen=True)
class SimInfo:
    url: str
    project_id: str
    access_key: str
    secret_key: str
    job_ids: list[str]


@dataclass(frozen=True)
class Measurement:
    name: str
    requests: int
    wall: float
    cpu: float

    @property
    def cpu_per_request(self) -> float:
        return self.cpu / self.requests


def serve_simulator(spec: SimSpec, pipe: Connection) -> None:
    """Child process: serve `spec.jobs` running jobs; answer "stats" until told "stop"."""
    from jobdash.simulator import Simulator, SimulatorConfig

    config = SimulatorConfig(
        manual_clock=True,
        seed=0,
        latency_ms=spec.latency_ms,
        fail_rate=0.0,
        rate_limit=spec.rate_limit,
        rate_limit_answer=spec.rate_limit_answer,  # type: ignore[arg-type]
    )
    with Simulator(config) as sim:
        # Long sub-jobs; a little simulated time so they are RUNNING with sub-jobs listed.
        job_ids = [
            sim.create_servers(2, name=f"bench{i}", duration=(1e6, 2e6)) for i in range(spec.jobs)
        ]
        sim.advance(30)
        creds = sim.credentials
        pipe.send(SimInfo(sim.url, sim.project_id, creds.access_key, creds.secret_key, job_ids))
        while pipe.recv() != "stop":
            pipe.send(sim.stats())
        pipe.send(sim.stats())


class SimProcess:
    """The simulator child process, as seen from the benchmark."""

    def __init__(self, pipe: Connection, info: SimInfo) -> None:
        self._pipe = pipe
        self.info = info

    def stats(self) -> dict[str, Any]:
        self._pipe.send("stats")
        return self._pipe.recv()


@contextlib.contextmanager
def simulator_process(spec: SimSpec) -> Iterator[SimProcess]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=serve_simulator, args=(spec, theirs), daemon=True)
    child.start()
    try:
        yield SimProcess(ours, ours.recv())
    finally:
        with contextlib.suppress(OSError):
            ours.send("stop")
        child.join(timeout=10)
        if child.is_alive():
            child.terminate()


def aksk_auth(info: SimInfo) -> httpx.Auth:
    from jobdash.auth.methods import AkSkAuth

    return AkSkAuth(info.access_key, info.secret_key, info.project_id)


def measure_sdk(info: SimInfo) -> Measurement:
    """A sequential loop of the SDK's `show_job` over every job (connection warmed first)."""
    try:
        from huaweicloudsdkcore.auth.credentials import BasicCredentials
        from huaweicloudsdkecs.v2 import EcsClient, ShowJobRequest
    except ImportError:
        raise SystemExit("the SDK side needs the bench extra: pip install -e '.[bench]'") from None

    # An endpoint that starts with "http" is used as given: no region lookup, no https.
    client = (
        EcsClient.new_builder()
        .with_credentials(BasicCredentials(info.access_key, info.secret_key, info.project_id))
        .with_endpoint(info.url)
        .build()
    )

    def fetch(job_id: str) -> None:
        response = client.show_job(ShowJobRequest(job_id=job_id))
        if response.status != "RUNNING":
            raise SystemExit(f"SDK: job {job_id} answered status {response.status!r}")

    for job_id in info.job_ids[:WARM_UP]:
        fetch(job_id)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for job_id in info.job_ids:
        fetch(job_id)
    wall1, cpu1 = time.perf_counter(), time.process_time()
    return Measurement("SDK (sequential show_job)", len(info.job_ids), wall1 - wall0, cpu1 - cpu0)
