"""The right-hand panel: every field of the selected job or sub-job, or its raw JSON.

A job's panel is drawn in two parts: the head (title, problems, fields), which moves with
the clock and each fetch, and the summary (its error code's meaning, sub-job counts and
failures by error code), which only a change of the job moves. The clock and a fetch that
changed nothing redraw the head alone; a 500-sub-job job's summary is not laid out again.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from jobdash.api.model import Job, SubJob, as_sent
from jobdash.services.resources import resource_api
from jobdash.text.statuses import Palette
from jobdash.tui.render_details import Lookup, job_head, job_summary, raw_json, sub_job_details
from jobdash.tui.render_extra import estimate_line, server_section
from jobdash.tui.view import JobChanges, Row, SubJobRow
from jobdash.tui.widgets.themed import STATUS_COMPONENTS, theme_palette
from jobdash.watch.servers import job_resource_id, joined_id, server_key
from jobdash.watch.values import WatchKey
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
        self.summary = Static(id="details-summary")
        self.summary.display = False
        #: Times each part was drawn: what selections, updates and the clock cost.
        self.body_draws = 0
        self.summary_draws = 0

    def compose(self) -> ComposeResult:
        yield self.body
        yield self.summary

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
        self._draw_body()
        self._draw_summary()

    def show_times(
        self, now: datetime, *, sub: SubJob | None = None, cloud_now: datetime | None = None
    ) -> None:
        """The clock moved: redraw the row shown, except a job's summary, which the clock
        does not change. `sub` and `cloud_now` as for `show`."""
        if self._shown is None:
            return
        self._sub = sub if isinstance(self._shown, SubJobRow) else None
        self._now = now
        self._cloud_now = cloud_now
        self._draw_body()

    def shows(self, key: WatchKey, changes: JobChanges) -> bool:
        """Whether `changes` (of the job `key`) change what the panel shows, apart from the
        times the clock moves: the job's row, or the sub-job shown."""
        row = self._shown
        if row is None or row.key != key:
            return False
        if isinstance(row, SubJobRow):
            return changes.names_sub(row.sub_key)
        return changes.job

    def _draw_body(self) -> None:
        self.body_draws += 1
        self.body.update(self._content())

    def _draw_summary(self) -> None:
        content = self._summary_content()
        if content is None:
            if self.summary.display:
                self.summary.display = False
                self.summary.update("")
            return
        self.summary_draws += 1
        self.summary.update(content)
        self.summary.display = True

    def _text_width(self) -> int | None:
        """Columns the content may use; None before the first layout."""
        width = self.size.width - SCROLLBAR_WIDTH
        return width if width > 0 else None

    def on_resize(self) -> None:
        if self._now is not None and self._text_width() != self._width:
            self._width = self._text_width()
            self._draw_body()  # the summary is laid out by Rich at any width as it is

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
            return raw_json(as_sent(snapshot.job) if snapshot and snapshot.job else None)
        job = snapshot.job if snapshot else None
        estimate = self.watchlist.estimate(row.key, self._cloud_now or now)
        return job_head(
            entry,
            snapshot,
            now,
            palette=palette,
            width=self._width,
            cloud_now=self._cloud_now,
            extra=[
                *estimate_line(estimate, job.job_type if job else None, palette),
                *self._resource_section(row.key, job, now, palette),
            ],
        )

    def _summary_content(self) -> RenderableType | None:
        """A job's summary; None when the panel shows anything else (or raw JSON)."""
        row = self._shown
        if row is None or isinstance(row, SubJobRow) or self.raw or self._now is None:
            return None
        if row.key not in self.watchlist.entries:
            return None
        job = self.watchlist.job(row.key)
        if job is None:
            return None
        return job_summary(job, lookup=self.lookup, palette=theme_palette(self))

    def _server_section(
        self, row: SubJobRow, sub: SubJob, now: datetime, palette: Palette
    ) -> list[RenderableType]:
        return self._joined_section(row.key, joined_id(row.key, sub), now, palette)

    def _resource_section(
        self, key: WatchKey, job: Job | None, now: datetime, palette: Palette
    ) -> list[RenderableType]:
        """Another service's job without sub-jobs: the resource its failure left."""
        if job is None or not job.failed:
            return []
        return self._joined_section(key, job_resource_id(key, job), now, palette)

    def _joined_section(
        self, key: WatchKey, server_id: str | None, now: datetime, palette: Palette
    ) -> list[RenderableType]:
        if not server_id:
            return []
        servers = self.watchlist.servers
        service = resource_api(key.service)
        return server_section(
            servers.get(key, server_id),
            now,
            palette,
            width=self._width,
            pending=servers.pending(key, server_id),
            error=servers.errors.get(server_key(key, server_id)),
            kind=service.kind if service is not None else "server",
        )
