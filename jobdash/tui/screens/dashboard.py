"""The main screen: header, filter, job tree and details, and the keys that act on them.

It draws from the watchlist and changes it only through the watchlist's methods (run as
workers, so the store's thread is awaited, never the loop). Updates are coalesced per
job: however many arrive before the screen draws, each job is redrawn once, and only the
rows its updates name. Its actions (adding, removing, labelling, copying, exporting,
fetching a server) are its own methods; the modules they use know nothing of the screen.
"""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Tree

from jobdash.connections.groups import add_target, connection_label
from jobdash.poll.sharing import SharedPoller
from jobdash.services.recognise import service_endpoint
from jobdash.services.registry import DEFAULT_SERVICE
from jobdash.text.safe import one_line, without_controls
from jobdash.tui import view
from jobdash.tui.context import DashboardContext
from jobdash.tui.keys import bindings
from jobdash.tui.output import failed_server_list, row_id
from jobdash.tui.screens.add import AddJobsScreen, AddRequest
from jobdash.tui.screens.confirm import ConfirmScreen
from jobdash.tui.screens.export import ExportScreen
from jobdash.tui.screens.help import HelpScreen
from jobdash.tui.screens.label import LabelScreen
from jobdash.tui.screens.timeline import TimelineScreen
from jobdash.tui.servers import fetch_servers, outcome, selected_parent, selected_server_id
from jobdash.tui.view import (
    Filter,
    JobChanges,
    JobRow,
    SubJobRow,
    visible_jobs,
    visible_sub_jobs,
)
from jobdash.tui.widgets.alert_banner import AlertBanner, split_alert
from jobdash.tui.widgets.details import DetailsPanel
from jobdash.tui.widgets.filter_bar import FilterBar
from jobdash.tui.widgets.header import DashHeader
from jobdash.tui.widgets.job_tree import JobTree
from jobdash.tui.widgets.split import SplitView
from jobdash.watch.export import FORMATS, default_path, failed_items, write_export
from jobdash.watch.servers import ServerRequest
from jobdash.watch.values import CloudClocks, WatchEntry, WatchKey
from jobdash.watch.watchlist import Watchlist

#: The watchlist preference that remembers the service the add dialog last added jobs of.
ADD_SERVICE_PREFERENCE = "add_service"


class DashboardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings()
    #: The tree has the keys from the first frame: the footer is drawn for what has focus.
    AUTO_FOCUS = "#jobs"
    #: Narrower than this the footer drops the spaces around its keys to show more of them,
    COMPACT_FOOTER_WIDTH = 110
    #: and narrower than this it leaves out the palette hint (help lists ctrl+p) to fit them all.
    PALETTE_HINT_WIDTH = 100
    #: Updates of the selected job redraw its details at most this often,
    DETAILS_PER_SECOND = 4
    #: and never in the same step as the tree: at least this many seconds later.
    DETAILS_DELAY = 1 / 30

    def __init__(
        self,
        watchlist: Watchlist,
        context: DashboardContext,
        cloud_clocks: CloudClocks | None = None,
    ) -> None:
        super().__init__()
        self.watchlist = watchlist
        self.context = context
        self.clock = context.clock
        self.poller: SharedPoller | None = None
        self.filter = Filter()
        self.sort = view.SortOrder.parse(watchlist.preferences.get("sort"))
        #: Jobs updated since the screen last drew them, and what their updates changed.
        self._dirty: dict[WatchKey, JobChanges] = {}
        self._details_drawn_at = 0.0
        self._details_timer: Timer | None = None
        #: Where the last export was written (shown in a toast; kept for tests).
        self.last_export: Path | None = None
        self.header = DashHeader(context.connection_description, id="header")
        self.alert_banner = AlertBanner(id="alert-banner")
        self.filter_input = FilterBar(id="filter")
        #: Each endpoint's clock (the app's): job times are shown against the cloud's time.
        self.cloud_clocks = cloud_clocks if cloud_clocks is not None else CloudClocks()
        self.job_tree = JobTree(
            watchlist, lambda: self.filter, self.clock, cloud_now=self.cloud_clocks.now, id="jobs"
        )
        self.details = DetailsPanel(watchlist, lookup=context.lookup, id="details")
        self.footer = Footer(compact=True)

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Laid out for the terminal's width from the start: switching the footer's style
        # on the first resize would restyle every key once more before the first frame.
        width = self.app.size.width
        self.footer = Footer(
            compact=width < self.COMPACT_FOOTER_WIDTH,
            show_command_palette=width >= self.PALETTE_HINT_WIDTH,
        )
        yield self.header
        yield self.alert_banner
        left = Vertical(self.filter_input, self.job_tree, id="left")
        self.split = SplitView(left, self.details, self.job_tree, id="main")
        yield self.split
        yield self.footer

    def on_mount(self) -> None:
        # The header has one line for it; a longer message (the ways to give credentials)
        # goes on, as its own lines, in the banner under it.
        self.header.alert, rest = split_alert(self.context.alert)
        self.alert_banner.show_lines(rest)
        self.entries_changed()
        self.job_tree.focus()
        # The stylesheet has reached the widgets by now, so the labels above are already
        # in the theme's colours; the header lays its counts out for its width, which the
        # first layout gives it. Everything is drawn again whenever the theme changes.
        self.call_after_refresh(self.refresh_header)
        self.app.theme_changed_signal.subscribe(
            self, lambda _theme: self.call_after_refresh(self.restyle)
        )

    def on_resize(self, event: events.Resize) -> None:
        compact = event.size.width < self.COMPACT_FOOTER_WIDTH
        if compact != self.footer.compact:
            self.footer.compact = compact
        palette_hint = event.size.width >= self.PALETTE_HINT_WIDTH
        if palette_hint != self.footer.show_command_palette:
            self.footer.show_command_palette = palette_hint
            self.footer.refresh(recompose=True)  # the footer does not redraw for this by itself

    # -- drawing -------------------------------------------------------------------------

    def entries_changed(self) -> None:
        """The filter or the set of entries changed: reconcile every job row."""
        self.job_tree.show_jobs(self._ordered_jobs())
        # Text, not markup: the title quotes the filter, which may hold `[red]` or `[/`.
        self.job_tree.border_title = Text(self._tree_title())
        self.refresh_details()
        self.refresh_header()

    def restyle(self) -> None:
        self.alert_banner.restyle()
        self.job_tree.relabel_all()
        self.refresh_details()
        self.refresh_header()

    def job_changed(self, key: WatchKey, changes: JobChanges) -> None:
        """One job has a new snapshot (or server): redraw the rows `changes` names with the
        next batch of updates. An answer that changed nothing shown draws nothing: the
        once-a-second tick moves its age in the header."""
        if not changes.any:
            return
        if not self._dirty:
            self.call_later(self._draw_changes)
        pending = self._dirty.get(key)
        if pending is None:
            self._dirty[key] = changes
        else:
            pending.merge(changes)

    def _draw_changes(self) -> None:
        dirty, self._dirty = self._dirty, {}
        if not dirty:
            return
        try:
            self._draw_jobs(dirty)
        except Exception as exc:  # one odd job must not take the dashboard down
            self.report("Could not show an update", exc)

    def _ordered_jobs(self) -> list[WatchKey]:
        return view.sort_jobs(
            visible_jobs(self.filter, self.watchlist), self.watchlist, self.sort, self.clock()
        )

    def _draw_jobs(self, dirty: dict[WatchKey, JobChanges]) -> None:
        if self.filter.active and any(
            (self.job_tree.job_node(key) is not None) != self._passes(key) for key in dirty
        ):
            self.entries_changed()  # a job came into the filter's result or left it
        elif (
            self.sort is not view.SortOrder.WATCHLIST
            and self._ordered_jobs() != self.job_tree.requested
        ):
            self.entries_changed()  # an update moved a job in the chosen order
        for key, changes in dirty.items():
            self.job_tree.update_job(key, changes)
        self.refresh_header()
        selected = self.job_tree.selected
        changes = dirty.get(selected.key) if selected is not None else None
        if selected is not None and changes is not None and self._details_follow(selected, changes):
            self._refresh_details_soon()

    def _details_follow(self, selected: view.Row, changes: JobChanges) -> bool:
        """Whether the details must be drawn again for `changes` of the selected job: they
        show another row than the one selected, or what they show changed. (A fetch that
        changed nothing only moves the snapshot's age, which the tick redraws anyway.)"""
        return self.details.shown != selected or self.details.shows(selected.key, changes)

    def _refresh_details_soon(self) -> None:
        """Redraw the details for an update of the selected job in a later frame than the
        tree's, at most `DETAILS_PER_SECOND` times a second: a 500-sub-job batch polled fast
        would otherwise spend most of its time re-laying out text nobody can read that fast,
        and the rows the update names would wait for it."""
        if self._details_timer is not None:
            return  # one is due already and will show the latest state
        wait = self._details_drawn_at + 1 / self.DETAILS_PER_SECOND - time.monotonic()
        self._details_timer = self.set_timer(max(wait, self.DETAILS_DELAY), self._details_due)

    def _details_due(self) -> None:
        self._details_timer = None
        self.refresh_details()

    def _passes(self, key: WatchKey) -> bool:
        entry = self.watchlist.entries.get(key)
        snapshot = self.watchlist.snapshots.get(key)
        return entry is not None and visible_sub_jobs(self.filter, entry, snapshot) is not None

    def _tree_title(self) -> str:
        shown = len(self.job_tree.shown_jobs)
        return view.tree_title(self.filter, self.sort, shown, len(self.watchlist.entries))

    def refresh_header(self) -> None:
        poller = self.poller
        self.header.show(
            self.watchlist,
            polling=poller is not None,
            paused=poller.paused if poller is not None else False,
            endpoints=poller.endpoint_states() if poller is not None else [],
            store_problem=self.watchlist.store_problem,
            now=self.clock(),
        )

    def refresh_details(self) -> None:
        self._details_drawn_at = time.monotonic()
        row = self.job_tree.selected
        now = self.clock()
        self.details.show(
            row,
            now,
            sub=self.job_tree.sub_job(row),
            filtered_out=self.filter.active and not self.job_tree.shown_jobs,
            cloud_now=self.cloud_clocks.now(row.key.endpoint, now) if row is not None else None,
        )

    def tick(self) -> None:
        """Once a second: running times and refresh ages move without any fetch."""
        try:
            self.job_tree.tick()
            self.refresh_header()
            row = self.details.shown
            if isinstance(row, SubJobRow):
                sub = self.job_tree.sub_job(row)
                moving = sub is not None and sub.end_time is None
            else:
                # A job's details also say how long ago it was fetched: that moves too.
                moving = row is not None and row.key in self.watchlist.snapshots
            if moving:
                now = self.clock()
                cloud_now = self.cloud_clocks.now(row.key.endpoint, now) if row else None
                self.details.show_times(now, sub=self.job_tree.sub_job(row), cloud_now=cloud_now)
        except Exception as exc:  # a drawing bug must not take the dashboard down
            self.app.report_error("Could not redraw", exc)  # type: ignore[attr-defined]

    # -- tree and filter events ----------------------------------------------------------

    @on(Tree.NodeHighlighted)
    def _highlighted(self) -> None:
        self.refresh_details()

    @on(Tree.NodeExpanded)
    def _expanded(self, event: Tree.NodeExpanded) -> None:
        self.job_tree.expanded(event.node)  # type: ignore[arg-type]

    @on(Tree.NodeCollapsed)
    def _collapsed(self, event: Tree.NodeCollapsed) -> None:
        self.job_tree.collapsed(event.node)  # type: ignore[arg-type]

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter = replace(self.filter, text=event.value)
        self.entries_changed()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.filter_input.remove_class("-visible")
        self.job_tree.focus()

    @on(FilterBar.Cleared)
    def _filter_cleared(self) -> None:
        self.filter = replace(self.filter, text="")
        self.entries_changed()
        self.job_tree.focus()

    # -- selection helpers ---------------------------------------------------------------

    def _selected_key(self) -> WatchKey | None:
        selected = self.job_tree.selected
        if selected is None:
            self.nothing_selected()
            return None
        return selected.key

    def nothing_selected(self) -> None:
        if not self.watchlist.entries:
            self.notify("No jobs watched yet: press a to add job ids.", severity="warning")
        elif self.filter.active:
            self.notify("No job matches the filter: f or / changes it.", severity="warning")
        else:
            self.notify("Select a job first.", severity="warning")

    def report(self, what: str, exc: BaseException) -> None:
        self.app.report_error(what, exc)  # type: ignore[attr-defined]

    # -- watchlist -----------------------------------------------------------------------

    # Each asks with a dialog, then changes the watchlist in a worker: the store is written
    # on its own thread and awaited, never on the event loop.

    def action_add_jobs(self) -> None:
        """`a`: the add dialog, for the connection new ids go to."""
        target = self._add_target()
        if target is None:
            return
        watched = frozenset(key.job_id for key in self.watchlist.entries)
        # Which connection is worth saying only when there are several.
        several = len(self.watchlist.tally.group_labels) > 1
        dialog = AddJobsScreen(
            watched,
            connection_label(target) if several else "",
            self.watchlist.preferences.get(ADD_SERVICE_PREFERENCE) or DEFAULT_SERVICE,
        )
        self.app.push_screen(dialog, partial(self._add_requested, target))

    def _add_target(self) -> WatchEntry | None:
        """The connection new ids go to; None (after saying why) when that is ambiguous."""
        context = self.context
        own = context.connection
        if own is None and context.endpoint and context.project_id:
            key = WatchKey(context.endpoint, context.project_id, "")
            own = WatchEntry(key, profile=context.profile)
        selected = self.job_tree.selected
        target, problem = add_target(
            self.watchlist.entries.get(selected.key) if selected is not None else None,
            own,
            self.watchlist.entries.values(),
            group=self.job_tree.selected_group,
        )
        if problem:
            self.notify(problem, severity="error")
        return target

    def _add_requested(self, target: WatchEntry, request: AddRequest | None) -> None:
        if request is None or not request.ids:
            return
        # The next dialog starts with the service used this time.
        self.watchlist.set_preference(ADD_SERVICE_PREFERENCE, request.service)
        # The target may be a job of another service: its endpoint is moved to the chosen one's.
        endpoint = service_endpoint(target.key.endpoint, target.key.service, request.service)
        entries = [
            replace(
                target,
                key=replace(target.key, endpoint=endpoint, job_id=job_id, service=request.service),
                label=request.label,
                added_at=None,
            )
            for job_id in request.ids
        ]
        self.run_worker(self._add(entries, request), name="Adding to the watchlist")

    async def _add(self, entries: list[WatchEntry], request: AddRequest) -> None:
        added = await self.watchlist.add(entries)
        self.entries_changed()
        count = len(added.entries)
        message = f"Added {count} job{'s' if count != 1 else ''}."
        if added.duplicates:
            message += f" {len(added.duplicates)} already watched."
        if request.skipped:
            message += f" Skipped {len(request.skipped)} invalid: " + "; ".join(
                one_line(value, 24) for value, _reason in request.skipped[:3]
            )
        self.notify(message, title="Watchlist", markup=False)
        if added.entries:
            self.job_tree.go_to(JobRow(added.entries[0].key))

    def action_remove_job(self) -> None:
        """`d`: ask, then stop watching the job."""
        key = self._selected_key()
        if key is None:
            return
        entry = self.watchlist.entries.get(key)
        question = Text("Stop watching job ")
        question.append(key.job_id, style="bold")
        if entry is not None and entry.label:
            question.append(f" «{one_line(entry.label, 40)}»")
        question.append("?\nIts last snapshot is removed from the watchlist too.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._remove(key), name="Removing from the watchlist")

        self.app.push_screen(ConfirmScreen(question, yes="Remove"), answered)

    async def _remove(self, key: WatchKey) -> None:
        short = self.watchlist.short_id(key)
        await self.watchlist.remove([key])
        self.entries_changed()
        self.notify(f"Removed {short} from the watchlist.", markup=False)

    def action_set_label(self) -> None:
        """`l`: set or clear the job's label."""
        key = self._selected_key()
        if key is None:
            return
        entry = self.watchlist.entries.get(key)

        def chosen(label: str | None) -> None:
            if label is not None:
                self.run_worker(self._set_label(key, label), name="Saving the label")

        self.app.push_screen(LabelScreen(key.job_id, entry.label if entry else None), chosen)

    async def _set_label(self, key: WatchKey, label: str) -> None:
        await self.watchlist.set_label(key, label or None)
        self.job_tree.update_job(key, JobChanges(job=True))
        self.refresh_details()

    # -- polling -------------------------------------------------------------------------

    def action_refresh_selected(self) -> None:
        key = self._selected_key()
        if key is None or self.poller is None:
            return
        self.poller.refresh(key)
        self.notify(f"Refreshing {self.watchlist.short_id(key)}…", timeout=2, markup=False)

    def action_refresh_all(self) -> None:
        if self.poller is None:
            return
        self.poller.refresh(None)
        count = len(self.watchlist.entries)
        self.notify(f"Refreshing all {count} jobs…", timeout=2, markup=False)

    def action_toggle_pause(self) -> None:
        if self.poller is None:
            return
        if self.poller.paused:
            self.poller.resume()
            self.notify("Polling resumed.", timeout=2)
        else:
            self.poller.pause()
            self.notify("Polling paused; r still refreshes.", timeout=3)
        self.refresh_header()

    # -- view ----------------------------------------------------------------------------

    def action_cycle_sort(self) -> None:
        self.sort = self.sort.next()
        self.watchlist.set_preference("sort", self.sort.value)
        self.entries_changed()
        self.notify(f"Sorted: {self.sort.title}.", timeout=2)

    def action_toggle_failed_only(self) -> None:
        self.filter = replace(self.filter, failed_only=not self.filter.failed_only)
        self.entries_changed()

    def action_clear_filter(self) -> None:
        """Escape in the tree: show every job again (the text filter and failed-only)."""
        if not self.filter.active and not self.filter_input.has_class("-visible"):
            return
        self.filter = Filter()
        self.filter_input.value = ""
        self.filter_input.remove_class("-visible")
        self.entries_changed()
        self.notify("Filter cleared: every job is shown.", timeout=2)

    def action_filter(self) -> None:
        self.filter_input.add_class("-visible")
        self.filter_input.focus()

    def action_toggle_raw(self) -> None:
        self.details.raw = not self.details.raw
        self.refresh_details()

    def action_cycle_split(self) -> None:
        """`w`: the tree as wide as its jobs need, the tree alone, or wide details."""
        mode = self.split.cycle()
        self.notify(f"Split: {mode.title}.", timeout=2)

    def action_toggle_collapse_done(self) -> None:
        collapse = not self.job_tree.collapse_done
        self.job_tree.set_collapse_done(collapse)
        self.notify(
            "Finished jobs collapsed." if collapse else "Finished jobs expanded.", timeout=2
        )

    def action_next_failed(self) -> None:
        self._go_failed(forward=True)

    def action_previous_failed(self) -> None:
        self._go_failed(forward=False)

    def _go_failed(self, *, forward: bool) -> None:
        row = self.job_tree.next_failed(forward=forward)
        if row is None:
            self.notify("No failed sub-jobs.", timeout=2)
            return
        self.job_tree.go_to(row)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    # -- output --------------------------------------------------------------------------

    def action_copy_id(self) -> None:
        """`c`: the id of what the selected row shows, to the clipboard (OSC 52), and in a
        toast that says what it was: the job's; on a sub-job's row the server (or volume,
        nic, ...) it names, else the sub-job's own id."""
        selected = self.job_tree.selected
        if selected is None:
            self.nothing_selected()
            return
        copied = self._row_copy(selected)
        if copied is None:
            self.notify("This sub-job has no id.", severity="warning")
            return
        what, value = copied
        self.app.copy_to_clipboard(value)
        # The copy travels as an OSC 52 sequence; whether it lands depends on the terminal,
        # so the toast also shows the value to select by hand.
        self.notify(
            f"Sent the {what} to the clipboard: {one_line(value, 70)}\n"
            "(terminals without OSC 52 support ignore this)",
            title="Copy",
            timeout=5,
            markup=False,
        )

    def _row_copy(self, row: view.Row) -> tuple[str, str] | None:
        """(what, value) `c` copies from `row`: the id the row stands for, controls removed."""
        if not isinstance(row, SubJobRow):
            return "job id", without_controls(row.key.job_id)
        sub = self.job_tree.sub_job(row)
        if sub is None:
            return None
        resource = sub.resource_id
        if resource:
            what = f"{one_line(sub.resource_kind, 16)} id"
            server = self.watchlist.servers.for_sub(row.key, sub)
            if server is not None and server.name:
                what += f" of {one_line(server.name, 32)}"
            return what, without_controls(resource)
        value = row_id(row, sub)
        return ("sub-job id", value) if value else None

    def action_copy_failed_servers(self, names: bool = False) -> None:
        """`C` / `Y`: every failed server of the selected job, one a line, ready for a script."""
        key = self._selected_key()
        if key is None:
            return
        values, unnamed = failed_server_list(self.watchlist, key, names=names)
        if not values:
            self.notify("The selected job has no failed servers.", severity="warning")
            return
        self.app.copy_to_clipboard("\n".join(values) + "\n")
        what = "names" if names else "ids"
        note = f" ({unnamed} names not known yet: their ids instead)" if unnamed else ""
        preview = ", ".join(one_line(value, 40) for value in values[:3])
        more = f", … ({len(values)} in all)" if len(values) > 3 else ""
        self.notify(
            f"Sent {len(values)} failed server {what} to the clipboard{note}: {preview}{more}",
            title="Copy",
            timeout=6,
            markup=False,
        )

    def action_export_failed(self) -> None:
        """`x`: the failed sub-jobs of the selected job to a CSV, JSON or Markdown file."""
        key = self._selected_key()
        if key is None:
            return
        job = self.watchlist.job(key)
        if job is None or not failed_items(job):
            self.notify("The selected job has no failed sub-jobs to export.", severity="warning")
            return
        now = self.clock()
        paths = {fmt: default_path(job, fmt, now, self.context.export_dir) for fmt in FORMATS}
        summary = Text(f"{len(failed_items(job))} failed sub-jobs of job ")
        summary.append(key.job_id, style="bold")

        def chosen(choice: tuple[str, Path] | None) -> None:
            if choice is None:
                return
            fmt, path = choice
            servers = self.watchlist.servers
            try:
                written = write_export(
                    job, fmt, path, lambda server_id: servers.get(key, server_id)
                )
            except FileExistsError:
                self.notify(
                    f"{path} exists already; choose another name.", severity="error", markup=False
                )
                return
            except (OSError, ValueError) as exc:
                self.report("Could not write the export", exc)
                return
            self.last_export = written
            self.notify(f"Wrote {written}", title="Exported", timeout=10, markup=False)

        self.app.push_screen(ExportScreen(summary, paths), chosen)

    def action_server_details(self) -> None:
        """`s`: fetch (again) the server of the selected sub-job, or of a job without
        sub-jobs; through the poller, like the servers of new failures."""
        selected = self.job_tree.selected
        if selected is None:
            self.nothing_selected()
            return
        if self.poller is None:
            self.notify("Not connected: servers cannot be fetched.", severity="warning")
            return
        sub = self.job_tree.sub_job(selected)
        server_id = selected_server_id(self.watchlist, selected, sub)
        if not server_id:
            self.notify(
                "Select a sub-job that names a server (enter opens a job).", severity="warning"
            )
            return
        parent = selected_parent(self.watchlist, selected, sub)
        request = self.watchlist.servers.ask(selected.key, server_id, parent)
        if request is None:
            self.notify("Already fetching that server…", timeout=2)
            return
        self.refresh_details()
        self.run_worker(self._fetch_server(request), name="Server details", group="servers")

    async def _fetch_server(self, request: ServerRequest) -> None:
        assert self.poller is not None
        found, rows = await fetch_servers(self.poller, self.watchlist, [request], self.clock)
        for key, changes in rows.items():
            self.job_changed(key, changes)
        said = outcome(self.watchlist, request, found)
        if said is not None:
            message, error = said
            if error:
                self.notify(message, title="Server details", severity="error", markup=False)
            else:
                self.notify(message, title="Server details", timeout=4, markup=False)

    def action_timeline(self) -> None:
        if (key := self._selected_key()) is not None:
            clock = lambda: self.cloud_clocks.now(key.endpoint, self.clock())  # noqa: E731
            self.app.push_screen(TimelineScreen(self.watchlist, key, clock, self.context))
