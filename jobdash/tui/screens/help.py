"""`?`: every key binding with what it does, generated from `jobdash.tui.keys`."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from jobdash.tui.keys import COMMANDS, NAVIGATION


def help_table() -> Group:
    """The commands (key, name, what it does), then the tree's own navigation keys."""
    commands = Table(box=None, header_style="bold", expand=True, padding=(0, 1))
    commands.add_column("Key", no_wrap=True, style="bold")
    commands.add_column("Command", no_wrap=True)
    commands.add_column("What it does", ratio=1)
    for command in COMMANDS:
        commands.add_row(Text(command.shown_key), Text(command.title), Text(command.help))
    navigation = Table(box=None, header_style="bold", expand=True, padding=(0, 1))
    navigation.add_column("Moving around", no_wrap=True, style="bold")
    navigation.add_column("", ratio=1)
    for keys, what in NAVIGATION:
        navigation.add_row(Text(keys), Text(what))
    return Group(commands, Text(), navigation)


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
