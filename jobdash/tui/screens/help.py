"""`?`: every key binding with what it does, generated from `jobdash.tui.keys`."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from jobdash.tui.keys import COMMANDS, NAVIGATION


def help_table() -> Table:
    table = Table(box=None, show_header=True, header_style="bold", expand=True, padding=(0, 2))
    table.add_column("Key", no_wrap=True, style="bold")
    table.add_column("Command", no_wrap=True)
    table.add_column("What it does", ratio=1)
    for command in COMMANDS:
        table.add_row(Text(command.shown_key), Text(command.title), Text(command.help))
    table.add_section()
    for keys, what in NAVIGATION:
        table.add_row(Text(keys), Text(""), Text(what))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", key_display="?"),
        Binding("q", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog") as scroll:
            scroll.border_title = "Keys"
            scroll.border_subtitle = "escape to close"
            yield Static(help_table(), id="help-table")

    def action_close(self) -> None:
        self.dismiss(None)
