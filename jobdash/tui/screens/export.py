"""`x`: choose a format and a file for the failed sub-jobs of the selected job."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from jobdash.text.safe import one_line, printable
from jobdash.watch.export import FORMATS

LABELS = {"csv": "CSV", "json": "JSON", "markdown": "Markdown"}


class UnusablePath(ValueError):
    """What was typed cannot name a file; the message says why, for the dialog."""


def export_target(value: str) -> Path:
    """Where `value` would be written: `~` and `~user` expanded, relative names in the
    current directory. Raises `UnusablePath` for what no file can be named, as typed: the
    dialog asks this on every keystroke, and a half-typed `~name` must not end the app."""
    value = value.strip()
    if not value:
        raise UnusablePath("Give a file name.")
    if "\x00" in value:
        raise UnusablePath("A file name cannot contain a NUL character.")
    try:
        path = Path(value).expanduser()
    except RuntimeError:
        # `~name` for a user this machine does not know (Python says only "home directory").
        user = one_line(value[1:].split("/", 1)[0], 40)
        raise UnusablePath(f"~{user} is no folder: this machine has no user {user!r}.") from None
    try:
        return path.absolute()
    except OSError as exc:  # the current folder was removed under us
        raise UnusablePath(
            f"Cannot tell where {one_line(value, 40)!r} is: {exc.strerror}."
        ) from None


class ExportScreen(ModalScreen[tuple[str, Path] | None]):
    """Dismisses with (format, path) or None. `paths` maps each format to its default file."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, summary: Text, paths: dict[str, Path]) -> None:
        super().__init__()
        self.summary = summary
        self.paths = paths
        self.fmt = "csv"

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog", classes="dialog") as dialog:
            dialog.border_title = "Export failed sub-jobs"
            dialog.border_subtitle = "enter to write · escape to cancel"
            yield Static(self.summary)
            with RadioSet(id="export-format"):
                for fmt in FORMATS:
                    yield RadioButton(LABELS[fmt], value=fmt == self.fmt, id=f"fmt-{fmt}")
            yield Static(Text("File (edit to write elsewhere):"), classes="prompt")
            yield Input(str(self.paths[self.fmt]), id="export-path")
            yield Static(self._target_text(str(self.paths[self.fmt])), id="export-target")
            with Horizontal(classes="buttons"):
                yield Button("Write", variant="primary", id="write")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @staticmethod
    def target(value: str) -> Path:
        """Where `value` would be written (see `export_target`)."""
        return export_target(value)

    def _target_text(self, value: str) -> Text:
        try:
            path = export_target(value)
        except UnusablePath as exc:
            return Text(str(exc), style="bold")
        text = Text("Writes ")
        # Shown, not interpreted: a name may hold control characters or `[red]`.
        text.append(printable(str(path)), style="bold")
        return text

    @on(Input.Changed, "#export-path")
    def _path_changed(self, event: Input.Changed) -> None:
        self.query_one("#export-target", Static).update(self._target_text(event.value))

    @on(RadioSet.Changed)
    def _format_changed(self, event: RadioSet.Changed) -> None:
        fmt = (event.pressed.id or "fmt-csv").removeprefix("fmt-")
        path_input = self.query_one("#export-path", Input)
        # Follow the format with the default name unless the user typed their own.
        if path_input.value == str(self.paths[self.fmt]):
            path_input.value = str(self.paths[fmt])
        self.fmt = fmt

    @on(Input.Submitted)
    @on(Button.Pressed, "#write")
    def _write_chosen(self) -> None:
        try:
            path = export_target(self.query_one("#export-path", Input).value)
        except UnusablePath as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        self.dismiss((self.fmt, path))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
