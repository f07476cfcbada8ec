"""The right-hand panel: every field of the selected job or sub-job, or its raw JSON."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from jobdash.api.model import SubJob
from jobdash.text.statuses import Palette
from jobdash.tui.render_details import Lookup, job_details, raw_json, sub_job_details
from jobdash.tui.render_extra import estimate_line, server_section
from jobdash.tui.view import Row, SubJobRow
from jobdash.tui.widgets.themed import STATUS_COMPONENTS, theme_palette
from jobdash.watch.servers import server_key
from jobdash.watch.watchlist import Watchlist

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
    """Shows the row it is given, read from the watchlist; it never fetches anything."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set(STATUS_COMPONENTS)

    def __init__(
        self, watchlist: Watchlist, *, lookup: Lookup | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.watchlist = watchlist
        self.lookup = lookup
        self.raw = False
        self._shown: Row | None = None
        self._sub: SubJob | None = None
        #: Why nothing is selected, when nothing is.
        self._empty_hint = EMPTY_HINT
        self._now: datetime | None = None
        self._cloud_now: datetime | None = None
        self._width: int | None = None
        self.body = Static(Text(EMPTY_HINT), id="details-body")

    def compose(self) -> ComposeResult:
        yield self.body

    @property
    def shown(self) -> Row | None:
        return self._shown

    def show(
        self,
        row: Row | None,
        now: datetime,
        *,
        sub: SubJob | None = None,
        filtered_out: bool = False,
        cloud_now: datetime | None = None,
    ) -> None:
        """Render `row` (`sub` is the sub-job of a sub-job row); None shows a hint.
        `cloud_now` is the time at the row's endpoint, for the job's own times."""
        self._shown = row
        self._sub = sub
        self._now = now
        self._cloud_now = cloud_now
        if row is None:
            if not self.watchlist.entries:
                self._empty_hint = NO_JOBS_HINT
            else:
                self._empty_hint = FILTERED_OUT_HINT if filtered_out else EMPTY_HINT
        # Raw JSON stays on for every selection until j again: the title says so.
        self.border_title = RAW_TITLE if self.raw else TITLE
        self._width = self._text_width()
        self.body.update(self._content())

    def _text_width(self) -> int | None:
        """Columns the content may use; None before the first layout."""
        width = self.size.width - SCROLLBAR_WIDTH
        return width if width > 0 else None

    def on_resize(self) -> None:
        if self._now is not None and self._text_width() != self._width:
            self._width = self._text_width()
            self.body.update(self._content())

    def _content(self) -> RenderableType:
        palette = theme_palette(self)
        row, now = self._shown, self._now
        if row is None or now is None:
            return Text(self._empty_hint, style=palette.muted)
        entry = self.watchlist.entries.get(row.key)
        if entry is None:
            return Text(EMPTY_HINT, style=palette.muted)
        if isinstance(row, SubJobRow):
            if self._sub is None:
                return Text(EMPTY_HINT, style=palette.muted)
            if self.raw:
                return raw_json(self._sub.raw)
            return sub_job_details(
                entry,
                self._sub,
                now,
                lookup=self.lookup,
                palette=palette,
                width=self._width,
                cloud_now=self._cloud_now,
                extra=self._server_section(row, self._sub, now, palette),
            )
        snapshot = self.watchlist.snapshots.get(row.key)
        if self.raw:
            return raw_json(snapshot.job.raw if snapshot and snapshot.job else None)
        job = snapshot.job if snapshot else None
        estimate = self.watchlist.estimate(row.key, self._cloud_now or now)
        return job_details(
            entry,
            snapshot,
            now,
            lookup=self.lookup,
            palette=palette,
            width=self._width,
            cloud_now=self._cloud_now,
            extra=estimate_line(estimate, job.job_type if job else None, palette),
        )

    def _server_section(
        self, row: SubJobRow, sub: SubJob, now: datetime, palette: Palette
    ) -> list[RenderableType]:
        server_id = sub.server_id
        if not server_id:
            return []
        servers = self.watchlist.servers
        return server_section(
            servers.get(row.key, server_id),
            now,
            palette,
            width=self._width,
            pending=servers.pending(row.key, server_id),
            error=servers.errors.get(server_key(row.key, server_id)),
        )
