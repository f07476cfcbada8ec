"""Servers joined to sub-jobs: which to fetch, and what was found.

The same join holds the resources of other services' failed jobs (EVS volumes, IMS images,
CCE nodes, RDS instances: `jobdash.services.resources`): for those, the id joined is the
sub-job's `resource_id`, or the job's own when it has no sub-jobs.

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
from jobdash.services.resources import resource_api, resource_kind
from jobdash.watch.values import WatchKey

ServerKey = tuple[str, str, str]


class ServerFetcher(Protocol):
    """What fetches a server: `jobdash.poll.poller.Poller.fetch_server`."""

    async def fetch_server(
        self, key: WatchKey, server_id: str, parent: str | None = None
    ) -> Server | None: ...


@dataclass(frozen=True, slots=True)
class ServerRequest:
    """One server to fetch for one watched job (and the failed sub-job that asks, if any)."""

    key: WatchKey
    server_id: str
    for_sub_job: str | None = None
    #: The resource's owner when its path needs one (a CCE node's cluster).
    parent: str | None = None

    @property
    def kind(self) -> str:
        return resource_kind(self.key.service, self.server_id, self.parent)

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


def joined_id(key: WatchKey, sub: SubJob | None) -> str | None:
    """The id a sub-job is joined by: its server (ECS), or its resource where the service's
    resources are looked up; None otherwise."""
    if sub is None:
        return None
    if key.service == "ecs":
        return sub.server_id
    return sub.resource_id if resource_api(key.service) is not None else None


def job_resource_id(key: WatchKey, job: Job | None) -> str | None:
    """The resource a job without sub-jobs acts on (an RDS instance), where it is looked up."""
    if job is None or job.sub_job_count or key.service == "ecs":
        return None
    return job.resource_id if resource_api(key.service) is not None else None


def _parent(sub_or_job: SubJob | Job) -> str | None:
    cluster = sub_or_job.entities.get("cluster_id")
    return cluster if isinstance(cluster, str) and cluster else None


def _failures(key: WatchKey, job: Job | None) -> list[tuple[str, str | None, str | None]]:
    """(resource id, parent, failed job or sub-job id) of each failure that names one."""
    if job is None:
        return []
    if key.service == "ecs":
        return [(sub.server_id, None, sub.job_id) for sub in failed_servers(job) if sub.server_id]
    if resource_api(key.service) is None:
        return []
    own = job_resource_id(key, job)
    if own is not None:
        return [(own, _parent(job), job.job_id)] if job.failed else []
    # One failure per resource: CCE's node job and the VM job under it fail together.
    found: dict[str, tuple[str, str | None, str | None]] = {}
    for sub in job.failed_sub_jobs:
        if sub.resource_id and sub.resource_id not in found:
            found[sub.resource_id] = (sub.resource_id, _parent(sub), sub.job_id)
    return list(found.values())


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
        return self.get(key, joined_id(key, sub))

    def for_job(self, key: WatchKey, job: Job | None) -> ServerInfo | None:
        """The resource of a job without sub-jobs (another service's), when known."""
        return self.get(key, job_resource_id(key, job))

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
        for resource_id, parent, failed_id in _failures(key, job):
            skey = server_key(key, resource_id)
            known = self._known.get(skey)
            if skey in self._pending or skey in self.errors:
                continue
            if known is not None and (known.for_sub_job == failed_id or known.gone):
                continue
            self._pending.add(skey)
            requests.append(ServerRequest(key, resource_id, failed_id, parent))
        return requests

    def ask(self, key: WatchKey, server_id: str, parent: str | None = None) -> ServerRequest | None:
        """The user asked for this server: fetch it (again), unless a fetch is under way."""
        skey = server_key(key, server_id)
        if skey in self._pending:
            return None
        self._pending.add(skey)
        self.errors.pop(skey, None)
        return ServerRequest(key, server_id, parent=parent)


async def fetch(
    fetcher: ServerFetcher,
    request: ServerRequest,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ServerInfo:
    """Fetch one server; `ApiError` when the fetch fails (a gone server is not a failure)."""
    server = await fetcher.fetch_server(request.key, request.server_id, request.parent)
    return ServerInfo(
        endpoint=request.key.endpoint,
        project_id=request.key.project_id,
        server_id=request.server_id,
        fetched_at=now(),
        server=server,
        gone=server is None,
        for_sub_job=request.for_sub_job,
        kind=request.kind,
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
