"""The top bar: connection, counts per status, the poller's state and the refresh age."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from jobdash.connections.groups import ConnectionState
from jobdash.text.safe import one_line
from jobdash.text.statuses import Palette, Role
from jobdash.tui.render import connection_text, counts_text, poller_text
from jobdash.tui.widgets.themed import STATUS_COMPONENTS, theme_palette
from jobdash.watch.values import EndpointState
from jobdash.watch.watchlist import Watchlist


class DashHeader(Static):
    COMPONENT_CLASSES: ClassVar[set[str]] = set(STATUS_COMPONENTS)

    def __init__(self, description: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.description = description
        #: A problem the user must fix (credentials, settings), shown until it goes away.
        self.alert: str | None = None
        #: Set while discovery is on (`D`): what it does, shown beside the poller's state.
        self.discovery: str | None = None
        #: How this dashboard gets its updates when that is worth saying (it follows another
        #: process's poller, say), shown beside the poller's state like `discovery`.
        self.polling_note: str | None = None
        self._shape: tuple[int, ...] | None = None

    def show(
        self,
        watchlist: Watchlist,
        *,
        polling: bool = True,
        paused: bool,
        endpoints: list[EndpointState],
        now: datetime,
        store_problem: str | None = None,
    ) -> None:
        palette = theme_palette(self)
        top = Table.grid(expand=True, padding=(0, 1))
        top.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        top.add_column(justify="right", no_wrap=True)
        state = poller_text(
            polling=polling,
            paused=paused,
            endpoints=endpoints,
            last_refresh=watchlist.last_refresh,
            now=now,
            palette=palette,
            unauthorized=watchlist.config_problem_count(),
            watched=len(watchlist.entries),
        )
        if self.polling_note:
            state = Text.assemble((one_line(self.polling_note, 60), palette.accent), "  ", state)
        if self.discovery:
            state = Text.assemble((f"⌕ {self.discovery}", palette.accent), "  ", state)
        top.add_row(connection_text(self.description, palette), state)
        counts = counts_text(watchlist.tally.counts, palette, width=self.size.width or None)
        lines: list[Table | Text] = [top, counts]
        if len(watchlist.tally.group_labels) > 1:
            lines.append(connections_text(watchlist.connection_states(endpoints), palette))
        # A watched job's credentials first: it says why jobs are not being fetched.
        problem = watchlist.config_problem() or self.alert
        if not problem and store_problem:
            problem = f"updates kept in memory, the store will be retried: {store_problem}"
        if problem:
            alert = Text("⚠ ", style=palette.error)
            alert.append(one_line(problem, 300), style=palette.error)
            lines.append(alert)
        # Its height changes only with the alert line, the width, or counts too wide for a
        # line: otherwise no layout pass, which would redraw the whole screen every update.
        width = max(self.size.width, 1)
        shape = (width, *(line.cell_len // width for line in lines if isinstance(line, Text)))
        layout = shape != self._shape
        self._shape = shape
        self.set_class(bool(problem), "-alert")
        self.update(Group(*lines), layout=layout)


_STATE_ROLES = {
    "ok": Role.SUCCESS,
    "waiting": Role.MUTED,
    "throttled": Role.WARNING,
    "slow": Role.WARNING,
    "offline": Role.WARNING,
}


def connections_text(states: list[ConnectionState], palette: Palette) -> Text:
    """One line: each connection and its state; an auth failure never reads as ok."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for index, state in enumerate(states):
        if index:
            text.append("  │  ", style=palette.muted)
        text.append(one_line(state.label, 80))
        text.append(" ● ", style=palette.style(_STATE_ROLES.get(state.state, Role.ERROR)))
        text.append(state.state, style=palette.style(_STATE_ROLES.get(state.state, Role.ERROR)))
    return text
