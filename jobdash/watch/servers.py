"""Servers joined to sub-jobs: which to fetch, and what was found.

A failed sub-job's server is fetched once for that failure (a later failure of another
sub-job on the same server fetches it again); any other server only when the user asks.
What was found is kept by (endpoint, project, server id), in memory and in the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from jobdash.api.errors import ApiError
from jobdash.api.model import Job, SubJob
from jobdash.api.server import Server, ServerInfo
from jobdash.watch.values import WatchKey

ServerKey = tuple[str, str, str]


class ServerFetcher(Protocol):
    """What fetches a server: `jobdash.poll.poller.Poller.fetch_server`."""

    async def fetch_server(self, key: WatchKey, server_id: str) -> Server | None: ...


@dataclass(frozen=True, slots=True)
class ServerRequest:
    """One server to fetch for one watched job (and the failed sub-job that asks, if any)."""

    key: WatchKey
    server_id: str
    for_sub_job: str | None = None

    @property
    def server_key(self) -> ServerKey:
        return (self.key.endpoint, self.key.project_id, self.server_id)


def server_key(key: WatchKey, server_id: str) -> ServerKey:
    return (key.endpoint, key.project_id, server_id)


def failed_servers(job: Job | None) -> list[SubJob]:
    """The failed sub-jobs that name a server, in API order."""
    if job is None:
        return []
    return [sub for sub in job.failed_sub_jobs if sub.server_id]


class ServerJoin:
    """What is known about the servers behind watched sub-jobs; see the module doc."""

    def __init__(self, infos: Iterable[ServerInfo] = ()) -> None:
        self._known: dict[ServerKey, ServerInfo] = {}
        #: Fetches under way, so an update arriving meanwhile does not ask twice.
        self._pending: set[ServerKey] = set()
        #: Why the last fetch of a server failed (shown in the details), until one works.
        self.errors: dict[ServerKey, str] = {}
        for info in infos:
            self.put(info)

    def __len__(self) -> int:
        """How many servers are known."""
        return len(self._known)

    def get(self, key: WatchKey, server_id: str | None) -> ServerInfo | None:
        if not server_id:
            return None
        return self._known.get(server_key(key, server_id))

    def for_sub(self, key: WatchKey, sub: SubJob | None) -> ServerInfo | None:
        return self.get(key, sub.server_id) if sub is not None else None

    def pending(self, key: WatchKey, server_id: str) -> bool:
        return server_key(key, server_id) in self._pending

    def put(self, info: ServerInfo) -> None:
        skey = (info.endpoint, info.project_id, info.server_id)
        self._known[skey] = info
        self._pending.discard(skey)
        self.errors.pop(skey, None)

    def failed(self, request: ServerRequest, reason: str) -> None:
        self._pending.discard(request.server_key)
        self.errors[request.server_key] = reason

    def wanted(self, key: WatchKey, job: Job | None) -> list[ServerRequest]:
        """The failed sub-jobs of `job` whose server was not fetched for that failure yet;
        each is marked under way (call `put` or `failed` with the result)."""
        requests = []
        for sub in failed_servers(job):
            assert sub.server_id is not None
            skey = server_key(key, sub.server_id)
            known = self._known.get(skey)
            if skey in self._pending or skey in self.errors:
                continue
            if known is not None and (known.for_sub_job == sub.job_id or known.gone):
                continue
            self._pending.add(skey)
            requests.append(ServerRequest(key, sub.server_id, sub.job_id))
        return requests

    def ask(self, key: WatchKey, server_id: str) -> ServerRequest | None:
        """The user asked for this server: fetch it (again), unless a fetch is under way."""
        skey = server_key(key, server_id)
        if skey in self._pending:
            return None
        self._pending.add(skey)
        self.errors.pop(skey, None)
        return ServerRequest(key, server_id)


async def fetch(
    fetcher: ServerFetcher,
    request: ServerRequest,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ServerInfo:
    """Fetch one server; `ApiError` when the fetch fails (a gone server is not a failure)."""
    server = await fetcher.fetch_server(request.key, request.server_id)
    return ServerInfo(
        endpoint=request.key.endpoint,
        project_id=request.key.project_id,
        server_id=request.server_id,
        fetched_at=now(),
        server=server,
        gone=server is None,
        for_sub_job=request.for_sub_job,
    )


async def fetch_all(
    fetcher: ServerFetcher,
    join: ServerJoin,
    requests: Iterable[ServerRequest],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[ServerInfo]:
    """Fetch `requests` concurrently (the fetcher keeps to its caps) into `join`; returns
    what was found. A failed fetch is noted in `join.errors`, never raised."""

    async def one(request: ServerRequest) -> ServerInfo | None:
        try:
            info = await fetch(fetcher, request, now)
        except ApiError as exc:
            join.failed(request, exc.message)
            return None
        join.put(info)
        return info

    found = await asyncio.gather(*(one(request) for request in requests))
    return [info for info in found if info is not None]
