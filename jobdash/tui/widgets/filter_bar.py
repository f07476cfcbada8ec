"""The `/` filter line above the tree: typing filters live, enter keeps it, escape clears it."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class FilterBar(Input):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear_filter", "Clear filter"),
    ]

    class Cleared(Message):
        """Escape: the filter was emptied and the bar hidden."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="filter: id, type, label, server id, error code", id=id)

    @property
    def focusable(self) -> bool:
        """Only while shown: hidden, it must not take the screen's first focus, which made
        the footer show the filter's keys instead of the dashboard's."""
        return self.has_class("-visible") and super().focusable

    def action_clear_filter(self) -> None:
        self.value = ""
        self.remove_class("-visible")
        self.post_message(self.Cleared())
