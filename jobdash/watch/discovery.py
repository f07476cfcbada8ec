"""Discovery: the jobs a connection started recently, found through the services' lists.

Some services list a project's recent jobs (`JobService.listing`); their jobs can be
watched without anyone pasting ids. Each chosen service's list is fetched with the
connection's credentials at that service's endpoint in the connection's region; the jobs
that began since a moment (or whose start the list does not say) become watch entries of
that service. A list that cannot be read is reported for its service and never stops the
others: discovery is a convenience, a failing service must not hide the rest.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import httpx

from jobdash.api.client import JobsClient, decoded, parse_error_body
from jobdash.api.errors import ApiError, InvalidIdError
from jobdash.api.ids import validate_id
from jobdash.services.base import JobService, endpoint_for
from jobdash.services.registry import services
from jobdash.text.safe import one_line
from jobdash.watch.values import WatchEntry, WatchKey

#: How often the dashboard looks again while discovery is on.
DEFAULT_INTERVAL = timedelta(minutes=5)
#: How far back `jobdash discover` looks unless told.
DEFAULT_SINCE = "6h"
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_WINDOW = re.compile(r"(\d{1,6})\s*([mhd])")

#: (a key naming endpoint, project and service) -> a client sending with its credentials.
ClientFor = Callable[[WatchKey], JobsClient]


def parse_window(text: str) -> timedelta:
    """`30m`, `6h`, `2d` as a duration; ValueError saying what is accepted otherwise."""
    match = _WINDOW.fullmatch(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(
            f"cannot read {one_line(repr(text), 40)} as a time window: give a positive whole"
            " number of minutes, hours or days, like 30m, 6h or 2d"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def listed_services() -> list[JobService]:
    """The services with a list of recent jobs."""
    return [found for found in services().values() if found.listing is not None]


def unlisted_services() -> list[JobService]:
    """The services whose jobs can only be added by id."""
    return [found for found in services().values() if found.listing is None]


@dataclass(frozen=True, slots=True)
class ServiceFound:
    """What one service's list gave: entries for its jobs in the window, or why not."""

    service: JobService
    entries: list[WatchEntry] = field(default_factory=list)
    #: Jobs the list named that began before the window.
    older: int = 0
    #: Why the list could not be read; None when it was.
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Discovery:
    since: datetime
    found: list[ServiceFound]

    @property
    def entries(self) -> list[WatchEntry]:
        return [entry for one in self.found for entry in one.entries]

    @property
    def failed(self) -> list[ServiceFound]:
        return [one for one in self.found if one.error is not None]


async def discover(
    client_for: ClientFor,
    connection: WatchEntry,
    since: datetime,
    chosen: Iterable[JobService] | None = None,
    *,
    now: datetime | None = None,
) -> Discovery:
    """The recent jobs of each chosen service with a list (default: every one), for the
    connection `connection` names (its key: the ECS endpoint and the project; its other
    fields are copied into every entry, so they are fetched with the same credentials).
    `now` is recorded as the entries' `added_at`. Never raises for a failing list."""
    wanted: Sequence[JobService] = [
        one for one in (listed_services() if chosen is None else chosen) if one.listing
    ]
    found = await asyncio.gather(
        *(_one_service(client_for, connection, one, since, now) for one in wanted)
    )
    return Discovery(since, list(found))


async def _one_service(
    client_for: ClientFor,
    connection: WatchEntry,
    service: JobService,
    since: datetime,
    now: datetime | None,
) -> ServiceFound:
    assert service.listing is not None
    key = WatchKey(
        endpoint_for(connection.key.endpoint, service),
        connection.key.project_id,
        "",
        service.name,
    )
    try:
        client = client_for(key)
        url = client.endpoint + service.listing.path(key.project_id, since)
        listed = await _fetch_list(client, url, service)
    except ApiError as exc:
        return ServiceFound(service, error=one_line(exc.message, 300))
    entries: list[WatchEntry] = []
    older = 0
    seen: set[str] = set()
    for job_id, began in listed:
        if began is not None and began < since:
            older += 1
            continue
        try:
            job_id = validate_id(job_id, "job id")
        except InvalidIdError:
            continue  # an id that cannot be put in a URL cannot be watched
        if job_id in seen:
            continue
        seen.add(job_id)
        entry = replace(connection, key=replace(key, job_id=job_id))
        entries.append(entry if now is None else replace(entry, added_at=now))
    return ServiceFound(service, entries, older)


async def _fetch_list(
    client: JobsClient, url: str, service: JobService
) -> list[tuple[str, datetime | None]]:
    """The (job id, began) pairs of the list's first page; ApiError when it cannot be read."""
    assert service.listing is not None
    try:
        # The client's own credentials when it has them (several connections share a pool).
        auth = client.auth if client.auth is not None else httpx.USE_CLIENT_DEFAULT
        response = await client.http.get(url, auth=auth, timeout=client.timeout)
    except httpx.TimeoutException as exc:
        raise ApiError(f"timed out listing {service.title} jobs ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        raise ApiError(
            f"cannot reach {client.endpoint} to list {service.title} jobs: {type(exc).__name__}"
        ) from None
    data = decoded(response)
    if response.status_code >= 300:
        said = parse_error_body(data)
        detail = ": ".join(part for part in (said.code, said.message) if part)
        raise ApiError(
            f"{service.title} job list: HTTP {response.status_code}"
            + (f" ({one_line(detail, 200)})" if detail else ""),
            http_status=response.status_code,
            code=said.code,
        )
    if data is None:
        raise ApiError(
            f"{service.title} job list: the answer is not JSON"
            f" ({response.headers.get('Content-Type', 'no content type')})"
        )
    try:
        return service.listing.read(data)
    except Exception as exc:  # an odd page must not end discovery of the other services
        raise ApiError(
            f"{service.title} job list: unreadable page ({type(exc).__name__})"
        ) from None
