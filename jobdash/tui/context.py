"""Everything the dashboard is started with, in one value built from the connection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from jobdash.api.catalog import lookup as catalog_lookup
from jobdash.tui.deps import PollerFactory, StoreLike
from jobdash.tui.render_details import Lookup
from jobdash.watch.values import WatchEntry, WatchKey

if TYPE_CHECKING:
    from jobdash.api.client import JobsClient


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DashboardContext:
    """What `JobDashApp` needs: the store, how to make a poller, and how to present itself.

    `endpoint`, `project_id` and `profile` are the connection new ids are added with.
    """

    store: StoreLike
    poller_factory: PollerFactory | None = None
    connection_description: str = ""
    endpoint: str | None = None
    project_id: str | None = None
    #: The clouds.yaml cloud the connection came from; recorded with entries added here.
    profile: str | None = None
    #: The whole connection new ids are added with, as an entry (job id empty); `a` uses
    #: the selected job's connection first.
    connection: WatchEntry | None = None
    #: A client for a key, sending with its connection's credentials (discovery's lists).
    client_for: Callable[[WatchKey], JobsClient] | None = None
    clock: Callable[[], datetime] = utc_now
    lookup: Lookup = catalog_lookup
    notify_finished: bool = True
    bell_on_fail: bool = True
    export_dir: Path | None = None
    #: A problem to show in the header from the start (no connection, say).
    alert: str | None = None
    notices: list[str] = field(default_factory=list)
    tick_interval: float = 1.0
    store_check_interval: float = 2.0
