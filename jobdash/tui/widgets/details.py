"""The right-hand panel: every field of the selected job or sub-job, or its raw JSON."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from jobdash.tui.render_details import Lookup, job_details, raw_json, sub_job_details
from jobdash.tui.state import DashboardState, JobNodeData, NodeData, SubJobNodeData
from jobdash.tui.widgets.themed import STATUS_COMPONENTS, theme_palette

EMPTY_HINT = "Select a job on the left.\n\nPress a to add job ids, ? for help."
NO_JOBS_HINT = (
    "No jobs watched yet.\n\n"
    "Press a and paste job ids: a list, a JSON response or any text containing them. "
    "Ids added with `jobdash add` in another shell show up here within seconds.\n\n"
    "? lists every key."
)
FILTERED_OUT_HINT = (
    "No job matches the filter.\n\nf shows all jobs again; / then escape clears the filter text."
)
TITLE = "Details"
RAW_TITLE = "Raw JSON · j for fields"
#: A column kept free for the vertical scrollbar, so long content does not re-wrap.
SCROLLBAR_WIDTH = 1


class DetailsPanel(VerticalScroll):
    """Shows what `show` is given; it never fetches anything."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set(STATUS_COMPONENTS)

    def __init__(self, *, lookup: Lookup | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lookup = lookup
        self.raw = False
        self._shown: NodeData | None = None
        self._last: tuple[DashboardState, datetime] | None = None
        self._width: int | None = None
        self.body = Static(Text(EMPTY_HINT), id="details-body")

    def compose(self) -> ComposeResult:
        yield self.body

    @property
    def shown(self) -> NodeData | None:
        return self._shown

    def show(self, data: NodeData | None, state: DashboardState, now: datetime) -> None:
        """Render `data` (a job or sub-job node's data); None shows a hint."""
        self._shown = data
        self._last = (state, now)
        # Raw JSON stays on for every selection until j again: the title says so.
        self.border_title = RAW_TITLE if self.raw else TITLE
        self._width = self._text_width()
        self.body.update(self._content_for(data, state, now))

    def _text_width(self) -> int | None:
        """Columns the content may use; None before the first layout."""
        width = self.size.width - SCROLLBAR_WIDTH
        return width if width > 0 else None

    def on_resize(self) -> None:
        if self._last is not None and self._text_width() != self._width:
            self.show(self._shown, *self._last)

    def _content_for(
        self, data: NodeData | None, state: DashboardState, now: datetime
    ) -> RenderableType:
        palette = theme_palette(self)
        if data is None:
            if not state.entries:
                hint = NO_JOBS_HINT
            elif state.filter.active and not state.visible():
                hint = FILTERED_OUT_HINT
            else:
                hint = EMPTY_HINT
            return Text(hint, style=palette.muted)
        # The entry may have been relabelled since the node was drawn: use the current one.
        entry = state.entries.get(data.key, data.entry)
        if isinstance(data, SubJobNodeData):
            if self.raw:
                return raw_json(data.sub.raw)
            return sub_job_details(
                entry, data.sub, now, lookup=self.lookup, palette=palette, width=self._width
            )
        assert isinstance(data, JobNodeData)
        snapshot = state.snapshots.get(data.key, data.snapshot)
        if self.raw:
            return raw_json(snapshot.job.raw if snapshot and snapshot.job else None)
        return job_details(
            entry, snapshot, now, lookup=self.lookup, palette=palette, width=self._width
        )
