"""The dashboard app: holds the services (watchlist, poller, timers, notifications) and
shows one `DashboardScreen`. Everything comes in through a `DashboardContext`, so tests
run it on a fixed store, a frozen clock and a simulator."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable
from typing import ClassVar

from textual import on
from textual.app import App
from textual.binding import BindingType
from textual.message import Message
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from jobdash.api.model import JobStatus
from jobdash.api.server import ServerInfo
from jobdash.poll.sharing import CHECK_EVERY, Role, SharedPoller
from jobdash.text.safe import one_line
from jobdash.tui.alarms import CHECK_INTERVAL as STALL_CHECK_INTERVAL
from jobdash.tui.alarms import StallAlarm
from jobdash.tui.commands import DashboardCommands
from jobdash.tui.context import DashboardContext, utc_now
from jobdash.tui.messages import JobUpdated
from jobdash.tui.screens.dashboard import DashboardScreen
from jobdash.tui.servers import failure_requests, fetch_servers, rows_naming
from jobdash.tui.view import update_changes
from jobdash.watch.discovery import DEFAULT_INTERVAL, DEFAULT_SINCE, Discovery, discover
from jobdash.watch.discovery import parse_window as discovery_window
from jobdash.watch.servers import ServerRequest
from jobdash.watch.values import CloudClocks, PollUpdate, Snapshot, WatchEntry, WatchKey
from jobdash.watch.watchlist import Watchlist

__all__ = ["JobDashApp", "utc_now"]

log = logging.getLogger(__name__)

#: Seconds before a crashed poller is started again.
POLLER_RESTART_DELAY = 5.0


class JobDashApp(App[int]):
    CSS_PATH = "dashboard.tcss"
    TITLE = "jobdash"
    BINDINGS: ClassVar[list[BindingType]] = []
    COMMANDS = App.COMMANDS | {DashboardCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    #: Dialogs pack tighter on short terminals (24 lines) so nothing needs scrolling.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    #: Seconds between discoveries while `D` has them on.
    discovery_interval: float = DEFAULT_INTERVAL.total_seconds()

    class DiscoveryFound(Message):
        """A discovery's result, from its worker."""

        def __init__(self, found: Discovery) -> None:
            super().__init__()
            self.found = found

    def __init__(self, context: DashboardContext) -> None:
        super().__init__()
        self.context = context
        self.clock = context.clock
        # Read once, before the loop runs; from here on the store is used on its own thread.
        self.watchlist = Watchlist.load(context.store)
        self.poller: SharedPoller | None = None
        #: Each endpoint's clock: job times are shown against the cloud's time, not ours.
        self.cloud_clocks = CloudClocks()
        self.dashboard = DashboardScreen(self.watchlist, context, self.cloud_clocks)
        self._shutting_down = False
        self._errors_reported: set[str] = set()
        self._config_problem_shown: str | None = None
        self.stall_alarm = StallAlarm()
        self._discovery_timer: Timer | None = None
        #: Jobs discovery has offered before: one the user removed is not added again.
        self._discovered: set[WatchKey] = set()
        #: The first result after `D` is always told; later ones only when they add or fail.
        self._discovery_told = False

    def on_mount(self) -> None:
        if self.context.poller_factory is not None:
            # One process polls for every jobdash on this watchlist; the others follow it.
            self.poller = SharedPoller(
                self.context.poller_factory,
                self.context.store,
                self.poll_update_sink,
                since=self.watchlist.loaded_seq,
                on_servers=self._servers_followed,
                on_role=self._role_changed,
                now=self.clock,
                check_every=min(CHECK_EVERY, self.context.store_check_interval),
            )
            self.poller.set_watchlist(list(self.watchlist.entries), dict(self.watchlist.snapshots))
            self.watchlist.attach(self.poller)
            self._start_poller()
        self.dashboard.poller = self.poller
        self.push_screen(self.dashboard)
        self.fetch_failed_servers(self.watchlist.entries)
        for notice in self.context.notices:
            self.notify(notice, timeout=8, markup=False)
        self.set_interval(self.context.tick_interval, self.dashboard.tick)
        self.set_interval(self.context.store_check_interval, self.check_store)
        self.set_interval(STALL_CHECK_INTERVAL, self.check_stalls)
        self.call_after_refresh(self._settle_heap)

    def _settle_heap(self) -> None:
        """Once the first frame is up: what is alive now (Textual, the widgets, the stored
        snapshots) lives as long as the app, so the cycle collector stops walking it. Each
        decoded answer allocates thousands of containers, and every collection they set off
        would otherwise scan that whole heap again (a third of an update's CPU time)."""
        gc.collect()
        gc.freeze()

    def _start_poller(self) -> None:
        if self.poller is not None and not self._shutting_down:
            self.run_worker(self.poller.run(), name="poller", group="poller", exit_on_error=False)

    def _role_changed(self, role: Role) -> None:
        """Say in the header who polls; on taking over, fetch what the other left undone."""
        note = self.poller.describe() if self.poller is not None else None
        self.dashboard.header.polling_note = note if role is Role.FOLLOWING else None
        self.dashboard.refresh_header()
        if role is not Role.FOLLOWING:
            self.fetch_failed_servers(self.watchlist.entries)

    def _servers_followed(self, infos: list[ServerInfo]) -> None:
        """Servers the polling process fetched: shown here, stored there already."""
        for info in infos:
            self.watchlist.servers.put(info)
        for key, changes in rows_naming(self.watchlist, infos).items():
            self.dashboard.job_changed(key, changes)

    def poll_update_sink(self, update: PollUpdate) -> None:
        """What the poller calls with each update, on this app's loop: hand it over as a
        message, so it is handled in turn with keys and drawing."""
        self.post_message(JobUpdated(update))

    # -- updates -------------------------------------------------------------------------

    @on(JobUpdated)
    def _job_updated(self, message: JobUpdated) -> None:
        update = message.update
        try:
            self.cloud_clocks.saw(update)
            before = self.watchlist.snapshots.get(update.key)
            snapshot = self.watchlist.apply(update)
            if snapshot is None:
                return
            self.dashboard.job_changed(update.key, update_changes(update, before, snapshot))
            if any(t.new_status == JobStatus.FAIL for t in update.transitions):
                # Only a new failure can want a server: the poller's transitions say so.
                self.fetch_failed_servers([update.key])
            self._announce(update, snapshot)
            self._report_config_problem()
        except Exception as exc:  # one odd job must not take the dashboard down
            self.report_error(f"Could not show the update of job {update.key.job_id}", exc)

    def _announce(self, update: PollUpdate, snapshot: Snapshot) -> None:
        """Toast (and bell on failure) when a job seen unfinished has ended: the poller's
        update says so (`changed`, `previous_status`), nothing here compares snapshots."""
        job = snapshot.job
        if job is None or not update.changed or not job.is_terminal:
            return
        if update.previous_status in (None, JobStatus.SUCCESS, JobStatus.FAIL):
            return
        entry = self.watchlist.entries[snapshot.key]
        name = one_line(entry.label or job.job_type or "job", 40)
        ident = self.watchlist.short_id(snapshot.key)
        failed = job.status == JobStatus.FAIL
        if self.context.notify_finished:
            if failed:
                count = job.status_counts().get(JobStatus.FAIL, 0)
                noun = "sub-job" if count == 1 else "sub-jobs"
                detail = f" ({count} {noun} failed)" if job.sub_job_count else ""
                self.notify(
                    f"{name} {ident} failed{detail}",
                    title="Job failed",
                    severity="error",
                    markup=False,
                )
            else:
                self.notify(f"{name} {ident} finished", title="Job succeeded", markup=False)
        if failed and self.context.bell_on_fail:
            self.bell()

    def _report_config_problem(self) -> None:
        problem = self.watchlist.config_problem()
        if problem and problem != self._config_problem_shown:
            self._config_problem_shown = problem
            count = self.watchlist.config_problem_count()
            if count > 1:
                problem = f"{problem} ({count} jobs)"
            self.notify(
                problem, title="Check the credentials", severity="error", timeout=15, markup=False
            )

    def check_stalls(self) -> None:
        """Warn once about each running job whose history says it looks stalled."""
        for warning in self.stall_alarm.warnings(self.watchlist, self.cloud_clocks, self.clock()):
            self.notify(warning, title="Stalled?", severity="warning", timeout=10, markup=False)

    # -- servers -------------------------------------------------------------------------

    def fetch_failed_servers(self, keys: Iterable[WatchKey]) -> None:
        """Fetch the servers of new failures among `keys`' sub-jobs (each once per failure);
        only the process that polls does, the others read them from the store."""
        if self.poller is None or not self.poller.polling:
            return
        requests = failure_requests(self.watchlist, keys)
        if requests:
            self.run_worker(self._fetch_servers(requests), name="Server details", group="servers")

    async def _fetch_servers(self, requests: list[ServerRequest]) -> None:
        assert self.poller is not None
        _found, rows = await fetch_servers(self.poller, self.watchlist, requests, self.clock)
        for key, changes in rows.items():
            self.dashboard.job_changed(key, changes)

    # -- discovery -----------------------------------------------------------------------

    def action_toggle_discovery(self) -> None:
        """`D`: look for the connection's recent jobs every few minutes, or stop."""
        header = self.dashboard.header
        if self._discovery_timer is not None:
            self._discovery_timer.stop()
            self._discovery_timer = None
            header.discovery = None
            self.dashboard.refresh_header()
            self.notify("Discovery is off.", title="Discovery", timeout=3)
            return
        target = self._discovery_target()
        if target is None:
            self.notify(
                "Discovery needs the dashboard's own connection; there is none.",
                title="Discovery",
                severity="warning",
                markup=False,
            )
            return
        self._discovery_timer = self.set_interval(
            self.discovery_interval, lambda: self._start_discovery(target)
        )
        minutes = max(1, round(self.discovery_interval / 60))
        header.discovery = f"discovering every {minutes} min"
        self._discovery_told = False
        self.dashboard.refresh_header()
        self._start_discovery(target)

    def _discovery_target(self) -> WatchEntry | None:
        context = self.context
        if context.client_for is None:
            return None
        if context.connection is not None:
            return context.connection
        if context.endpoint and context.project_id:
            return WatchEntry(WatchKey(context.endpoint, context.project_id, ""))
        return None

    def _start_discovery(self, target: WatchEntry) -> None:
        if self._shutting_down or self._discovery_timer is None:
            return
        self.run_worker(self._discover(target), name="Discovery", group="discovery", exclusive=True)

    async def _discover(self, target: WatchEntry) -> None:
        assert self.context.client_for is not None
        now = self.clock()
        since = now - discovery_window(DEFAULT_SINCE)
        found = await discover(self.context.client_for, target, since, now=now)
        self.post_message(self.DiscoveryFound(found))

    @on(DiscoveryFound)
    async def _discovery_found(self, message: DiscoveryFound) -> None:
        if self._discovery_timer is None or self._shutting_down:
            return  # turned off while it ran
        found = message.found
        fresh = [e for e in found.entries if e.key not in self._discovered]
        self._discovered.update(e.key for e in found.entries)
        added = await self.watchlist.add(fresh) if fresh else None
        count = len(added.entries) if added is not None else 0
        if count:
            self.dashboard.entries_changed()
        if self._discovery_told and not count and not found.failed:
            return
        self._discovery_told = True
        lines = [f"{count} job{'s' if count != 1 else ''} added."]
        lines += [f"{one.service.title}: {one.error}" for one in found.failed]
        self.notify(
            "\n".join(lines),
            title="Discovery",
            severity="warning" if found.failed else "information",
            timeout=6,
            markup=False,
        )

    # -- the store -----------------------------------------------------------------------

    def check_store(self) -> None:
        """Pick up entries another process added or removed; retry writes that waited."""
        if self._shutting_down:  # the store's thread is closing or closed
            return
        self.watchlist.retry_writes()
        self.run_worker(
            self._pick_up_changes(),
            name="store check",
            group="store",
            exclusive=True,
            exit_on_error=False,
        )

    async def _pick_up_changes(self) -> None:
        change = await self.watchlist.pick_up_changes()
        if change.added or change.removed:
            self.dashboard.entries_changed()
            changes = [f"{len(change.added)} added"] if change.added else []
            changes += [f"{len(change.removed)} removed"] if change.removed else []
            self.notify(
                f"Changed by another jobdash: {', '.join(changes)}.", title="Watchlist", timeout=4
            )

    # -- failures ------------------------------------------------------------------------

    def report_error(self, what: str, exc: BaseException) -> None:
        """Log the error and toast it, once per distinct message (a timer may hit it often)."""
        message = one_line(f"{what}: {type(exc).__name__}: {exc}", 300)
        log.warning("%s", message, exc_info=exc)
        if message not in self._errors_reported:
            self._errors_reported.add(message)
            self.notify(message, severity="error", markup=False, timeout=10)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures land: report them, restart the poller, never crash."""
        worker = event.worker
        if event.state != WorkerState.ERROR or worker.error is None:
            return
        if self._shutting_down:  # e.g. a store check that started as the store closed
            log.debug("%s failed while quitting", worker.name, exc_info=worker.error)
            return
        self.report_error(f"{worker.name or 'Background task'} failed", worker.error)
        if worker.name == "poller" and not self._shutting_down:
            self.set_timer(POLLER_RESTART_DELAY, self._start_poller)

    async def on_unmount(self) -> None:
        """However the app ends (`q`, a signal, a test's pilot), its poller stops and gives
        the polling lease back, so that another dashboard takes over at once."""
        if self.poller is not None:
            await self.poller.aclose()

    async def action_quit(self) -> None:
        self._shutting_down = True
        if self.poller is not None:
            await self.poller.aclose()
        try:
            await self.watchlist.aclose()
        except Exception as exc:
            log.warning("could not save the last updates: %s", exc)
        self.exit(0)
