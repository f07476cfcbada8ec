"""`l`: set or clear the label of a watched job."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

MAX_LABEL = 80


class LabelScreen(ModalScreen[str | None]):
    """Dismisses with the new label ("" clears it), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, job_id: str, current: str | None) -> None:
        super().__init__()
        self.job_id = job_id
        self.current = current or ""

    def compose(self) -> ComposeResult:
        with Vertical(id="label-dialog", classes="dialog") as dialog:
            dialog.border_title = "Label"
            dialog.border_subtitle = "enter to save · escape to cancel"
            yield Static(Text(f"Label for job {self.job_id} (empty to clear):"))
            yield Input(self.current, max_length=MAX_LABEL, id="label-input")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
