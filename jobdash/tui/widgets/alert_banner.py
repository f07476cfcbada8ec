"""What the dashboard was started with that needs fixing (no credentials found, say), under
the header: the header says the first line; this banner shows the rest as the message wrote
it, so its list of ways to fix the problem stays a list, each item wrapped to fit."""

from __future__ import annotations

import re
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from jobdash.text.safe import printable
from jobdash.text.statuses import Palette
from jobdash.tui.widgets.themed import STATUS_COMPONENTS, theme_palette

#: `  - item`, `* item`, `• item`: a line of a list.
_ITEM = re.compile(r"\s*[-*•]\s+(.*)")


def split_alert(problem: str | None) -> tuple[str | None, str]:
    """(the first line, for the header; the lines after it, for the banner)."""
    if not problem:
        return None, ""
    first, _, rest = printable(problem, keep_newlines=True).strip().partition("\n")
    return first.strip() or None, rest.strip("\n")


def alert_body(lines: str, palette: Palette) -> Group:
    """`lines` as a list where they are one: a bullet, then the item indented as a block,
    so a wrapped item lines up under its own start; other lines as they are."""
    parts: list[RenderableType] = []
    items: Table | None = None
    for line in lines.splitlines():
        match = _ITEM.fullmatch(line)
        if match is None:
            items = None
            if line.strip():
                parts.append(Text(line.strip(), style=palette.warning))
            continue
        if items is None:
            items = Table.grid(padding=(0, 1), expand=True)
            items.add_column(no_wrap=True)
            items.add_column(ratio=1)
            parts.append(items)
        items.add_row(Text(" •", style=palette.error), Text(match.group(1)))
    return Group(*parts)


class AlertBanner(Static):
    """Hidden unless the problem has more than its first line to say."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set(STATUS_COMPONENTS)
    DEFAULT_CSS = """
    AlertBanner {
        display: none;
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    AlertBanner.-shown {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines = ""

    def show_lines(self, lines: str) -> None:
        self.lines = lines
        self.set_class(bool(lines.strip()), "-shown")
        self.restyle()

    def restyle(self) -> None:
        if self.lines.strip():
            self.update(alert_body(self.lines, theme_palette(self)))
