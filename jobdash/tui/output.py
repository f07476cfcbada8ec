"""What the dashboard's output actions copy: a row's id, a job's failed servers, as plain
text ready for a script (control characters removed)."""

from __future__ import annotations

from jobdash.api.model import SubJob
from jobdash.text.safe import without_controls
from jobdash.tui.view import Row, SubJobRow
from jobdash.watch.servers import failed_servers
from jobdash.watch.values import WatchKey
from jobdash.watch.watchlist import Watchlist


def row_id(row: Row, sub: SubJob | None) -> str | None:
    """The id `c` copies: the sub-job's (or its resource's, without one), or the job's."""
    if isinstance(row, SubJobRow):
        value = (sub.job_id or sub.resource_id) if sub is not None else None
    else:
        value = row.key.job_id
    return without_controls(value) if value else None


def failed_server_list(
    watchlist: Watchlist, key: WatchKey, *, names: bool
) -> tuple[list[str], int]:
    """The job's failed servers, one a line: ids, or names where known (else the id); with
    how many names were not known."""
    servers = watchlist.servers
    values: list[str] = []
    unnamed = 0
    for sub in failed_servers(watchlist.job(key)):
        assert sub.server_id is not None
        info = servers.get(key, sub.server_id)
        name = info.name if names and info is not None else None
        if names and not name:
            unnamed += 1
        values.append(without_controls(name or sub.server_id))
    return list(dict.fromkeys(values)), unnamed
