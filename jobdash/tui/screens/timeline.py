"""`t`: the selected job's sub-jobs on one time axis, redrawn every tick so running bars
grow. Reads the watchlist (the app keeps applying updates underneath); fetches nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from jobdash.text.safe import one_line
from jobdash.tui.context import DashboardContext
from jobdash.tui.render_timeline import legend, timeline
from jobdash.tui.widgets.themed import STATUS_COMPONENTS, theme_palette
from jobdash.watch.values import WatchKey
from jobdash.watch.watchlist import Watchlist


class TimelineChart(Static):
    """The chart of one job; `redraw` renders it again from the watchlist."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set(STATUS_COMPONENTS)

    def __init__(
        self, watchlist: Watchlist, key: WatchKey, clock: Callable[[], datetime], **kw: str
    ) -> None:
        super().__init__(**kw)
        self.watchlist = watchlist
        self.key = key
        self.clock = clock

    def on_mount(self) -> None:
        self.call_after_refresh(self.redraw)

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        self.update(self._chart())

    def _chart(self) -> RenderableType:
        palette = theme_palette(self)
        job = self.watchlist.job(self.key)
        if job is None:
            return Text("No snapshot of this job yet.", style=palette.muted)
        width = self.size.width or 80
        servers = self.watchlist.servers
        chart = timeline(
            job,
            self.clock(),
            width,
            palette,
            server_for=lambda sub: servers.for_sub(self.key, sub),
        )
        return Group(legend(job, palette), Text(), chart)


class TimelineScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("t", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(
        self,
        watchlist: Watchlist,
        key: WatchKey,
        clock: Callable[[], datetime],
        context: DashboardContext | None = None,
    ) -> None:
        super().__init__()
        self.watchlist = watchlist
        self.key = key
        self.chart = TimelineChart(watchlist, key, clock, id="timeline-chart")
        self._tick_interval = context.tick_interval if context is not None else 1.0

    def compose(self) -> ComposeResult:
        job = self.watchlist.job(self.key)
        entry = self.watchlist.entries.get(self.key)
        title = one_line(job.job_type if job and job.job_type else "job", 40)
        title += f" {self.watchlist.short_id(self.key)}"
        if entry is not None and entry.label:
            title += f" «{one_line(entry.label, 40)}»"
        with VerticalScroll(id="timeline-dialog", classes="dialog") as scroll:
            scroll.border_title = f"Timeline · {title}"
            scroll.border_subtitle = "escape to close"
            yield self.chart

    def on_mount(self) -> None:
        self.set_interval(self._tick_interval, self.chart.redraw)

    def action_close(self) -> None:
        self.dismiss(None)
