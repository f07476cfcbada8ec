"""The dashboard's server flows: fetching the servers behind failed sub-jobs as failures
arrive, and the one the user asks for (`s`). Fetches run as workers through the poller
(same caps and rate as job fetches); results go into the watchlist, which stores them on
its own thread, and only the job they belong to is redrawn."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from jobdash.text.safe import one_line
from jobdash.tui.view import JobRow
from jobdash.watch.servers import ServerRequest, fetch_all
from jobdash.watch.values import WatchKey

if TYPE_CHECKING:
    from jobdash.tui.app import JobDashApp
    from jobdash.tui.screens.dashboard import DashboardScreen


def fetch_failed_servers(app: JobDashApp, keys: Iterable[WatchKey]) -> None:
    """Fetch the servers of new failures among `keys`' sub-jobs (each once per failure)."""
    if app.poller is None:
        return
    join = app.watchlist.servers
    requests = [request for key in keys for request in join.wanted(key, app.watchlist.job(key))]
    if requests:
        app.run_worker(_fetch(app, requests, asked=False), name="Server details", group="servers")


def fetch_selected_server(screen: DashboardScreen) -> None:
    """`s`: fetch (again) the server of the selected sub-job, or of a job without sub-jobs."""
    app: JobDashApp = screen.app  # type: ignore[assignment]
    selected = screen.job_tree.selected
    if selected is None:
        screen.nothing_selected()
        return
    if app.poller is None:
        screen.notify("Not connected: servers cannot be fetched.", severity="warning")
        return
    sub = screen.job_tree.sub_job(selected)
    if isinstance(selected, JobRow):
        job = app.watchlist.job(selected.key)
        server_id = job.server_id if job is not None and not job.sub_job_count else None
    else:
        server_id = sub.server_id if sub is not None else None
    if not server_id:
        screen.notify(
            "Select a sub-job that names a server (enter opens a job).", severity="warning"
        )
        return
    request = app.watchlist.servers.ask(selected.key, server_id)
    if request is None:
        screen.notify("Already fetching that server…", timeout=2)
        return
    screen.refresh_details()
    app.run_worker(_fetch(app, [request], asked=True), name="Server details", group="servers")


async def _fetch(app: JobDashApp, requests: list[ServerRequest], *, asked: bool) -> None:
    assert app.poller is not None
    join = app.watchlist.servers
    found = await fetch_all(app.poller, join, requests, now=app.clock)
    for info in found:
        app.watchlist.put_server(info)
    for key in dict.fromkeys(request.key for request in requests):
        app.dashboard.job_changed(key)
    if asked:
        request = requests[0]
        reason = join.errors.get(request.server_key)
        if reason:
            app.notify(
                one_line(reason, 200), title="Server details", severity="error", markup=False
            )
        elif found:
            info = found[0]
            what = "is gone (rolled back or deleted)" if info.gone else f"is {info.status}"
            name = one_line(info.name or info.server_id, 40)
            app.notify(f"{name} {what}.", title="Server details", timeout=4, markup=False)
