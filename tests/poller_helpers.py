"""Test doubles for the poller: a scripted jobs API behind httpx.MockTransport, a fake clock."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import httpx

from jobdash.api.client import JobsClient
from jobdash.poll.poller import Poller
from jobdash.watch.values import PollUpdate, Snapshot, WatchEntry, WatchKey

ENDPOINT = "https://ecs.example.test"
OTHER_ENDPOINT = "https://evs.example.test"
PROJECT = "0123456789abcdef0123456789abcdef"
#: Server time used by tests: jobs "began" relative to this.
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def job_body(
    job_id: str,
    status: str = "RUNNING",
    sub_statuses: tuple[str, ...] = (),
    begin: str = "2024-05-01T11:59:50.000Z",
) -> dict[str, Any]:
    subs = [
        {
            "job_id": f"{job_id}-sub{i}",
            "job_type": "createSingleServer",
            "status": sub_status,
            "begin_time": begin,
            "end_time": "",
            "entities": {"server_id": f"server-{i}"},
        }
        for i, sub_status in enumerate(sub_statuses)
    ]
    return {
        "job_id": job_id,
        "job_type": "createServer",
        "status": status,
        "begin_time": begin,
        "end_time": "",
        "entities": {"sub_jobs_total": len(subs), "sub_jobs": subs},
    }


Script = Callable[[httpx.Request], httpx.Response | Exception | None]


class FakeApi:
    """Serves job bodies by id; per-job scripted answers or exceptions take precedence.

    Counts requests per job and the largest number handled at once. `hold` keeps
    every request waiting until it is set, so tests can see concurrency build up.
    """

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.scripted: dict[str, list[httpx.Response | Exception]] = {}
        self.counts: Counter[str] = Counter()
        self.order: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.hold: asyncio.Event | None = None
        self.transport = httpx.MockTransport(self.handle)
        self.http = httpx.AsyncClient(transport=self.transport)
        self.clients: dict[str, JobsClient] = {}

    def client_for(self, key: WatchKey) -> JobsClient:
        client = self.clients.get(key.endpoint)
        if client is None:
            client = self.clients[key.endpoint] = JobsClient(self.http, key.endpoint, PROJECT)
        return client

    def then(self, job_id: str, *answers: httpx.Response | Exception) -> None:
        self.scripted.setdefault(job_id, []).extend(answers)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        job_id = request.url.path.rsplit("/", 1)[-1]
        self.counts[job_id] += 1
        self.order.append(job_id)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.hold is not None:
                await self.hold.wait()
            for _ in range(3):
                await asyncio.sleep(0)
            queued = self.scripted.get(job_id)
            if queued:
                answer = queued.pop(0)
                if isinstance(answer, Exception):
                    raise answer
                return answer
            body = self.jobs.get(job_id)
            if body is None:
                return httpx.Response(
                    404, json={"error": {"code": "Common.0011", "message": "job not found"}}
                )
            return httpx.Response(200, json=body)
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        await self.http.aclose()


def throttled(retry_after: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(
        429, json={"error": {"code": "Common.1503", "message": "flow limited"}}, headers=headers
    )


class MemoryStore:
    """Stands in for jobdash.store.Store: keeps what it is given, can be told to fail."""

    def __init__(self, snapshots: dict[WatchKey, Snapshot] | None = None) -> None:
        self.recorded: list[PollUpdate] = []
        self.saved = dict(snapshots or {})
        self.fail = False

    def record_many(self, updates: Iterable[PollUpdate]) -> None:
        if self.fail:
            raise OSError("disk full")
        self.recorded.extend(updates)

    def snapshots(self) -> dict[WatchKey, Snapshot]:
        return dict(self.saved)

    def entries(self) -> list[WatchEntry]:
        return [WatchEntry(key) for key in self.saved]


def key(job_id: str, endpoint: str = ENDPOINT) -> WatchKey:
    return WatchKey(endpoint, PROJECT, job_id)


async def run_until_done(poller: Poller, timeout: float) -> bool:
    """Run `poller` until every watched job has ended (True) or `timeout` passes (False)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    runner = asyncio.create_task(poller.run())
    await asyncio.sleep(0)  # `run` loads the store's watchlist first
    try:
        while not poller.all_terminal():
            if runner.done() or loop.time() >= deadline:
                return poller.all_terminal()
            await asyncio.sleep(0.01)
        return True
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
