"""The dashboard's key actions, kept apart from the wiring in app.py.

Each action reads the selection from the tree, asks a dialog when needed, calls the core
(store, poller, export) and redraws. None of them does network I/O itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import App
from textual.widgets import Input

from jobdash.export import FORMATS, default_path, failed_items, write_export
from jobdash.textsafe import one_line, without_controls
from jobdash.tui.screens.add import AddJobsScreen, AddRequest
from jobdash.tui.screens.confirm import ConfirmScreen
from jobdash.tui.screens.export import ExportScreen
from jobdash.tui.screens.help import HelpScreen
from jobdash.tui.screens.label import LabelScreen
from jobdash.tui.state import DashboardState, SubJobNodeData
from jobdash.tui.widgets.details import DetailsPanel
from jobdash.tui.widgets.job_tree import JobTree
from jobdash.watch import WatchEntry, WatchKey

if TYPE_CHECKING:
    from jobdash.tui.deps import PollerLike, StoreLike


class DashboardActions(App[int]):
    """The base of `JobDashApp`: its actions. The wiring (and these attributes) live there."""

    state: DashboardState
    store: StoreLike
    poller: PollerLike | None
    clock: Callable[[], datetime]
    endpoint: str | None
    project_id: str | None
    profile: str | None
    export_dir: Path | None
    #: Where the last export was written (shown in a toast; kept for tests).
    last_export: Path | None = None

    # The main screen's widgets, kept from compose: a dialog may be the active screen
    # when a timer or an update arrives, so they are not looked up with query_one.
    job_tree: JobTree
    details: DetailsPanel
    filter_input: Input

    def redraw(self) -> None:
        raise NotImplementedError

    def refresh_header(self) -> None:
        raise NotImplementedError

    def refresh_details(self) -> None:
        raise NotImplementedError

    def report_error(self, what: str, exc: BaseException) -> None:
        raise NotImplementedError

    # -- selection helpers ---------------------------------------------------------------

    def _selected_key(self) -> WatchKey | None:
        selected = self.job_tree.selected
        if selected is None:
            self._nothing_selected()
            return None
        return selected.key

    def _nothing_selected(self) -> None:
        if not self.state.entries:
            self.notify("No jobs watched yet: press a to add job ids.", severity="warning")
        elif self.state.filter.active:
            self.notify("No job matches the filter: f or / changes it.", severity="warning")
        else:
            self.notify("Select a job first.", severity="warning")

    # -- watchlist -----------------------------------------------------------------------

    def action_add_jobs(self) -> None:
        if not self.endpoint or not self.project_id:
            self.notify(
                "No endpoint and project are configured, so new ids cannot be resolved.",
                severity="error",
            )
            return
        watched = frozenset(key.job_id for key in self.state.entries)
        self.push_screen(AddJobsScreen(watched), self._add_requested)

    def _add_requested(self, request: AddRequest | None) -> None:
        if request is None or not request.ids:
            return
        assert self.endpoint and self.project_id
        entries = [
            WatchEntry(
                WatchKey(self.endpoint, self.project_id, job_id), request.label, self.profile
            )
            for job_id in request.ids
        ]
        try:
            result = self.store.add(entries)
        except Exception as exc:
            self.report_error("Could not add to the watchlist", exc)
            return
        added = set(result.added)
        new_entries = [entry for entry in entries if entry.key in added]
        self.state.add_entries(new_entries)
        if self.poller is not None and new_entries:
            self.poller.add([entry.key for entry in new_entries], {})
        self.redraw()
        message = f"Added {len(new_entries)} job{'s' if len(new_entries) != 1 else ''}."
        if result.duplicates:
            message += f" {len(result.duplicates)} already watched."
        if request.skipped:
            message += f" Skipped {len(request.skipped)} invalid: " + "; ".join(
                one_line(value, 24) for value, _reason in request.skipped[:3]
            )
        self.notify(message, title="Watchlist", markup=False)
        if new_entries:
            node = self.job_tree.job_node(new_entries[0].key)
            if node is not None:
                self.job_tree.go_to(node)

    def action_remove_job(self) -> None:
        key = self._selected_key()
        if key is None:
            return
        entry = self.state.entries.get(key)
        question = Text("Stop watching job ")
        question.append(key.job_id, style="bold")
        if entry is not None and entry.label:
            question.append(f" «{one_line(entry.label, 40)}»")
        question.append("?\nIts last snapshot is removed from the watchlist too.")

        def answered(yes: bool | None) -> None:
            if yes:
                self._remove_watched(key)

        self.push_screen(ConfirmScreen(question, yes="Remove"), answered)

    def _remove_watched(self, key: WatchKey) -> None:
        try:
            self.store.remove([key])
        except Exception as exc:
            self.report_error("Could not remove from the watchlist", exc)
            return
        self.state.remove([key])
        if self.poller is not None:
            self.poller.remove([key])
        self.redraw()
        self.notify(f"Removed {key.short_id} from the watchlist.", markup=False)

    def action_set_label(self) -> None:
        key = self._selected_key()
        if key is None:
            return
        entry = self.state.entries.get(key)

        def chosen(label: str | None) -> None:
            if label is None:
                return
            try:
                self.store.set_label(key, label or None)
            except Exception as exc:
                self.report_error("Could not save the label", exc)
                return
            self.state.set_label(key, label or None)
            self.redraw()

        self.push_screen(LabelScreen(key.job_id, entry.label if entry else None), chosen)

    # -- polling -------------------------------------------------------------------------

    def action_refresh_selected(self) -> None:
        key = self._selected_key()
        if key is None or self.poller is None:
            return
        self.poller.refresh(key)
        self.notify(f"Refreshing {key.short_id}…", timeout=2, markup=False)

    def action_refresh_all(self) -> None:
        if self.poller is None:
            return
        self.poller.refresh(None)
        self.notify(f"Refreshing all {len(self.state.entries)} jobs…", timeout=2, markup=False)

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

    def action_toggle_failed_only(self) -> None:
        failed_only = not self.state.filter.failed_only
        self.state.filter = replace(self.state.filter, failed_only=failed_only)
        self.redraw()

    def action_filter(self) -> None:
        self.filter_input.add_class("-visible")
        self.filter_input.focus()

    def action_toggle_raw(self) -> None:
        self.details.raw = not self.details.raw
        self.refresh_details()

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
        node = self.job_tree.next_failed(forward=forward)
        if node is None:
            self.notify("No failed sub-jobs.", timeout=2)
            return
        self.job_tree.go_to(node)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    # -- output --------------------------------------------------------------------------

    def action_copy_id(self) -> None:
        selected = self.job_tree.selected
        if selected is None:
            self._nothing_selected()
            return
        if isinstance(selected, SubJobNodeData):
            value = selected.sub.job_id or selected.sub.resource_id
        else:
            value = selected.key.job_id
        if not value:
            self.notify("This sub-job has no id.", severity="warning")
            return
        self.copy_to_clipboard(without_controls(value))
        # The copy travels as an OSC 52 sequence; whether it lands depends on the terminal,
        # so the toast also shows the value to select by hand.
        self.notify(
            f"Sent to the clipboard: {one_line(value, 70)}\n"
            "(terminals without OSC 52 support ignore this)",
            title="Copy",
            timeout=5,
            markup=False,
        )

    def action_export_failed(self) -> None:
        selected = self.job_tree.selected
        if selected is None:
            self._nothing_selected()
            return
        job = self.state.job(selected.key)
        if job is None or not failed_items(job):
            self.notify("The selected job has no failed sub-jobs to export.", severity="warning")
            return
        now = self.clock()
        paths = {fmt: default_path(job, fmt, now, self.export_dir) for fmt in FORMATS}
        summary = Text(f"{len(failed_items(job))} failed sub-jobs of job ")
        summary.append(selected.key.job_id, style="bold")

        def chosen(choice: tuple[str, Path] | None) -> None:
            if choice is None:
                return
            fmt, path = choice
            try:
                written = write_export(job, fmt, path)
            except FileExistsError:
                self.notify(
                    f"{path} exists already; choose another name.", severity="error", markup=False
                )
                return
            except OSError as exc:
                self.report_error("Could not write the export", exc)
                return
            self.last_export = written
            self.notify(f"Wrote {written}", title="Exported", timeout=10, markup=False)

        self.push_screen(ExportScreen(summary, paths), chosen)
