"""The dashboard app: wires the store and the poller to the widgets. Everything it needs is
injected, so tests run it on a fixed store, a frozen clock and a simulator."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Tree
from textual.worker import Worker, WorkerState

from jobdash.api.model import JobStatus
from jobdash.catalog import lookup as catalog_lookup
from jobdash.textsafe import one_line
from jobdash.tui.actions import DashboardActions
from jobdash.tui.commands import DashboardCommands
from jobdash.tui.deps import PollerFactory, PollerLike, StoreLike
from jobdash.tui.keys import bindings
from jobdash.tui.messages import JobUpdated
from jobdash.tui.render_details import Lookup
from jobdash.tui.state import DashboardState, JobNodeData, SubJobNodeData
from jobdash.tui.widgets.details import DetailsPanel
from jobdash.tui.widgets.filter_bar import FilterBar
from jobdash.tui.widgets.header import DashHeader
from jobdash.tui.widgets.job_tree import JobTree
from jobdash.watch import PollUpdate, Snapshot

log = logging.getLogger(__name__)

#: Seconds before a crashed poller is started again.
POLLER_RESTART_DELAY = 5.0


def utc_now() -> datetime:
    return datetime.now(UTC)


class JobDashApp(DashboardActions):
    CSS_PATH = "dashboard.tcss"
    TITLE = "jobdash"
    BINDINGS: ClassVar[list[BindingType]] = bindings()
    COMMANDS = App.COMMANDS | {DashboardCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    #: Narrower than this the footer drops the spaces around its keys to show more of them,
    COMPACT_FOOTER_WIDTH = 110
    #: and narrower than this it leaves out the palette hint (help lists ctrl+p) to fit them all.
    PALETTE_HINT_WIDTH = 100

    def __init__(
        self,
        store: StoreLike,
        *,
        poller_factory: PollerFactory | None = None,
        connection_description: str = "",
        clock: Callable[[], datetime] = utc_now,
        endpoint: str | None = None,
        project_id: str | None = None,
        profile: str | None = None,
        lookup: Lookup | None = None,
        notify_finished: bool = True,
        bell_on_fail: bool = True,
        export_dir: Path | None = None,
        alert: str | None = None,
        notices: list[str] | None = None,
        tick_interval: float = 1.0,
        store_check_interval: float = 2.0,
    ) -> None:
        super().__init__()
        self.store = store
        self.poller: PollerLike | None = None
        self._poller_factory = poller_factory
        self.connection_description = connection_description
        self.clock = clock
        self.endpoint = endpoint
        self.project_id = project_id
        self.profile = profile
        self.lookup: Lookup = lookup or catalog_lookup
        self.notify_finished = notify_finished
        self.bell_on_fail = bell_on_fail
        self.export_dir = export_dir
        self._initial_alert = alert
        self._notices = list(notices or [])
        self._tick_interval = tick_interval
        self._store_check_interval = store_check_interval
        self._config_problem_shown: str | None = None
        self._shutting_down = False
        self._first_frame_done = False
        self._errors_reported: set[str] = set()
        # Shown at once, before the first fetch returns.
        self.state = DashboardState(store.entries(), store.snapshots())

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.header = DashHeader(self.connection_description, id="header")
        self.filter_input = FilterBar(id="filter")
        self.job_tree = JobTree(id="jobs")
        self.details = DetailsPanel(lookup=self.lookup, id="details")
        yield self.header
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield self.filter_input
                yield self.job_tree
            yield self.details
        self.footer = Footer(compact=True)
        yield self.footer

    def on_mount(self) -> None:
        self.header.alert = self._initial_alert
        if self._poller_factory is not None:
            self.poller = self._poller_factory(self._on_poll_update)
            self.poller.set_watchlist(list(self.state.entries), dict(self.state.snapshots))
            self._start_poller()
        self.redraw()
        # Styles reach the widgets with the first frame: draw again with the theme's colours.
        self.call_after_refresh(self._first_frame)
        self.job_tree.focus()
        for notice in self._notices:
            self.notify(notice, timeout=8, markup=False)
        self.theme_changed_signal.subscribe(
            self, lambda _theme: self.call_after_refresh(self.redraw)
        )
        self.set_interval(self._tick_interval, self.tick)
        self.set_interval(self._store_check_interval, self.check_store)

    def on_resize(self, event: events.Resize) -> None:
        self.footer.compact = event.size.width < self.COMPACT_FOOTER_WIDTH
        palette_hint = event.size.width >= self.PALETTE_HINT_WIDTH
        if palette_hint != self.footer.show_command_palette:
            self.footer.show_command_palette = palette_hint
            self.footer.refresh(recompose=True)  # the footer does not redraw for this by itself

    def _first_frame(self) -> None:
        self._first_frame_done = True
        self.redraw()

    def _start_poller(self) -> None:
        if self.poller is not None and not self._shutting_down:
            self.run_worker(self.poller.run(), name="poller", group="poller", exit_on_error=False)

    def _on_poll_update(self, update: PollUpdate) -> None:
        # Called by the poller on this app's event loop: hand over as a message.
        self.post_message(JobUpdated(update))

    # -- drawing -------------------------------------------------------------------------

    def redraw(self) -> None:
        now = self.clock()
        self.job_tree.sync(self.state, now)
        self.job_tree.relabel(self.state, now)
        self.job_tree.border_title = self._tree_title()
        self.refresh_details()
        self.refresh_header()

    def _tree_title(self) -> str:
        parts = []
        if self.state.filter.failed_only:
            parts.append("failed only")
        if self.state.filter.text.strip():
            parts.append(f"matching {one_line(self.state.filter.text.strip(), 30)!r}")
        count = len(self.state.entries)
        if self.state.filter.active:
            # How much the filter hides, so an empty tree is not mistaken for an empty list.
            title = f"Jobs ({len(self.job_tree.root.children)} of {count})"
        else:
            title = f"Jobs ({count})"
        return f"{title} · {' · '.join(parts)}" if parts else title

    def refresh_header(self) -> None:
        self.header.show(
            self.state,
            polling=self.poller is not None,
            paused=self.poller.paused if self.poller is not None else False,
            endpoints=self.poller.endpoint_states() if self.poller is not None else [],
            store_problem=self.poller.store_error if self.poller is not None else None,
            now=self.clock(),
        )

    def refresh_details(self) -> None:
        selected = self.job_tree.selected
        # Show the freshest data for the selection, not the node's copy from the last sync.
        if selected is not None:
            node = self.job_tree.cursor_node
            selected = node.data if node is not None else selected
        self.details.show(selected, self.state, self.clock())

    def tick(self) -> None:
        """Once a second: running times and refresh ages move without any fetch."""
        try:
            self._tick()
        except Exception as exc:  # a drawing bug must not take the dashboard down
            self.report_error("Could not redraw", exc)

    def _tick(self) -> None:
        now = self.clock()
        self.job_tree.relabel(self.state, now, running_only=True)
        self.refresh_header()
        shown = self.details.shown
        running = (
            isinstance(shown, JobNodeData) and shown.job is not None and shown.job.end_time is None
        ) or (isinstance(shown, SubJobNodeData) and shown.sub.end_time is None)
        if running:
            self.refresh_details()

    # -- filter ------------------------------------------------------------------------

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.state.filter = replace(self.state.filter, text=event.value)
        self.redraw()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.filter_input.remove_class("-visible")
        self.job_tree.focus()

    @on(FilterBar.Cleared)
    def _filter_cleared(self) -> None:
        self.state.filter = replace(self.state.filter, text="")
        self.redraw()
        # Styles reach the widgets with the first frame: draw again with the theme's colours.
        self.call_after_refresh(self._first_frame)
        self.job_tree.focus()

    @on(Tree.NodeHighlighted)
    def _highlighted(self) -> None:
        self.refresh_details()

    # -- updates -------------------------------------------------------------------------

    @on(JobUpdated)
    def _job_updated(self, message: JobUpdated) -> None:
        try:
            self._apply_update(message.update)
        except Exception as exc:  # one odd job must not take the dashboard down
            self.report_error(f"Could not show the update of job {message.update.key.job_id}", exc)

    def _apply_update(self, update: PollUpdate) -> None:
        previous = self.state.snapshots.get(update.key)
        snapshot = self.state.apply(update)
        if snapshot is None or not self._first_frame_done:
            return  # before the first frame the state is enough: it is drawn in full then
        now = self.clock()
        self.job_tree.sync(self.state, now)
        self.job_tree.border_title = self._tree_title()
        self.refresh_header()
        selected = self.job_tree.selected
        if selected is not None and selected.key == update.key:
            self.refresh_details()
        self._announce(previous, snapshot)
        self._report_config_problem()

    def _announce(self, previous: Snapshot | None, snapshot: Snapshot) -> None:
        """Toast (and bell on failure) when a job this dashboard saw running has ended."""
        before = previous.job if previous else None
        job = snapshot.job
        if before is None or job is None or before.is_terminal or not job.is_terminal:
            return
        entry = self.state.entries[snapshot.key]
        name = one_line(entry.label or job.job_type or "job", 40)
        ident = snapshot.key.short_id
        failed = job.status == JobStatus.FAIL
        if self.notify_finished:
            if failed:
                counts = job.status_counts()
                detail = (
                    f" ({counts.get(JobStatus.FAIL, 0)} sub-jobs failed)" if job.sub_jobs else ""
                )
                self.notify(
                    f"{name} {ident} failed{detail}",
                    title="Job failed",
                    severity="error",
                    markup=False,
                )
            else:
                self.notify(f"{name} {ident} finished", title="Job succeeded", markup=False)
        if failed and self.bell_on_fail:
            self.bell()

    def _report_config_problem(self) -> None:
        problem = self.state.config_problem()
        if problem and problem != self._config_problem_shown:
            self._config_problem_shown = problem
            self.notify(
                problem, title="Check the credentials", severity="error", timeout=15, markup=False
            )

    def check_store(self) -> None:
        """Pick up entries another process added or removed (`jobdash add` in another pane)."""
        try:
            if not self.store.has_changed():
                return
            entries = self.store.entries()
            added_keys = {e.key for e in entries} - set(self.state.entries)
            snapshots = self.store.snapshots() if added_keys else {}
        except Exception as exc:  # a locked or broken database must not stop the dashboard
            self.report_error("Could not read the watchlist", exc)
            return
        added, removed = self.state.set_entries(entries, snapshots)
        if self.poller is not None:
            if removed:
                self.poller.remove(removed)
            if added:
                self.poller.add(added, {k: snapshots[k] for k in added if k in snapshots})
        self.redraw()
        if added or removed:
            changes = [f"{len(added)} added"] if added else []
            changes += [f"{len(removed)} removed"] if removed else []
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
        self.report_error(f"Background task {worker.name or 'worker'} failed", worker.error)
        if worker.name == "poller" and not self._shutting_down:
            self.set_timer(POLLER_RESTART_DELAY, self._start_poller)

    async def action_quit(self) -> None:
        self._shutting_down = True
        if self.poller is not None:
            await self.poller.aclose()
        self.exit(0)
