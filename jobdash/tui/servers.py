"""The dashboard's server lookups: which servers to fetch (those behind new failures, or
the one the user asks for with `s`; other services' resources the same way), fetching
them through the poller (same caps and rate as job fetches) into the watchlist, which
stores them on its own thread, and which rows then show something new. Plain functions of the watchlist and the poller: the app runs
them for failures, the dashboard screen for `s`; neither is imported here."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from jobdash.api.model import SubJob
from jobdash.api.server import ServerInfo
from jobdash.services.registry import DEFAULT_SERVICE
from jobdash.text.safe import one_line
from jobdash.tui.view import JobChanges, JobRow, Row
from jobdash.watch.servers import (
    ServerFetcher,
    ServerRequest,
    fetch_all,
    job_resource_id,
    joined_id,
)
from jobdash.watch.values import WatchKey
from jobdash.watch.watchlist import Watchlist


def failure_requests(watchlist: Watchlist, keys: Iterable[WatchKey]) -> list[ServerRequest]:
    """The servers of new failures among `keys`' sub-jobs (each asked once per failure)."""
    join = watchlist.servers
    return [request for key in keys for request in join.wanted(key, watchlist.job(key))]


def selected_server_id(watchlist: Watchlist, row: Row, sub: SubJob | None) -> str | None:
    """The server a row names: its sub-job's, or a job's without sub-jobs (for another
    service, the resource it names)."""
    if isinstance(row, JobRow):
        job = watchlist.job(row.key)
        if row.key.service != DEFAULT_SERVICE:
            return job_resource_id(row.key, job)
        return job.server_id if job is not None and not job.sub_job_count else None
    return joined_id(row.key, sub)


def selected_parent(watchlist: Watchlist, row: Row, sub: SubJob | None) -> str | None:
    """The owner the selected resource's path needs (a CCE node's cluster), or None."""
    owner = sub if not isinstance(row, JobRow) else watchlist.job(row.key)
    cluster = owner.entities.get("cluster_id") if owner is not None else None
    return cluster if isinstance(cluster, str) and cluster else None


async def fetch_servers(
    fetcher: ServerFetcher,
    watchlist: Watchlist,
    requests: list[ServerRequest],
    now: Callable[[], datetime],
) -> tuple[list[ServerInfo], dict[WatchKey, JobChanges]]:
    """Fetch `requests` into the watchlist; returns what was found and the sub-job rows
    that show those servers (a failed fetch shows in the details of its sub-job too)."""
    found = await fetch_all(fetcher, watchlist.servers, requests, now=now)
    for info in found:
        watchlist.put_server(info)
    return found, rows_showing(watchlist, requests)


def rows_showing(
    watchlist: Watchlist, requests: Iterable[ServerRequest]
) -> dict[WatchKey, JobChanges]:
    """For each job of `requests`, its sub-job rows that name one of their servers."""
    servers: dict[WatchKey, set[str]] = {}
    for request in requests:
        servers.setdefault(request.key, set()).add(request.server_id)
    return {key: _rows_with(watchlist, key, ids) for key, ids in servers.items()}


def _rows_with(watchlist: Watchlist, key: WatchKey, server_ids: set[str]) -> JobChanges:
    """The rows of the job `key` that show any of `server_ids`."""
    if key.service != DEFAULT_SERVICE:
        # Another service's resource shows on the job's row or any of its sub-jobs'.
        return JobChanges(job=True, all_subs=True)
    job = watchlist.job(key)
    rows = job.sub_job_keys_with("server_id", server_ids) if job is not None else set()
    return JobChanges(sub_keys=rows)


def outcome(
    watchlist: Watchlist, request: ServerRequest, found: list[ServerInfo]
) -> tuple[str, bool] | None:
    """What to tell the user who asked for `request`: the message, and whether it is an
    error; None when there is nothing to say."""
    reason = watchlist.servers.errors.get(request.server_key)
    if reason:
        return one_line(reason, 200), True
    if not found:
        return None
    info = found[0]
    what = "is gone (rolled back or deleted)" if info.gone else f"is {info.status}"
    if info.kind != "server":
        what = f"({info.kind}) {what}"
    return f"{one_line(info.name or info.server_id, 40)} {what}.", False


def rows_naming(watchlist: Watchlist, infos: Iterable[ServerInfo]) -> dict[WatchKey, JobChanges]:
    """The rows that show any of `infos` (servers another process fetched): each watched
    job of the same endpoint and project that names one of them."""
    wanted: dict[tuple[str, str], set[str]] = {}
    for info in infos:
        wanted.setdefault((info.endpoint.rstrip("/"), info.project_id), set()).add(info.server_id)
    changes = {}
    for key in watchlist.entries:
        ids = wanted.get((key.endpoint.rstrip("/"), key.project_id))
        if ids and (rows := _rows_with(watchlist, key, ids)).any:
            changes[key] = rows
    return changes
