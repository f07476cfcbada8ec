"""`a`: add job ids. Accepts pasted lists, free text with ids, or JSON (a create-servers
response, `{"job_ids": [...]}`), and says what it will skip before anything is added."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static, TextArea

from jobdash.api.errors import InvalidIdError
from jobdash.api.ids import extract_job_ids, validate_job_id
from jobdash.text.safe import one_line

SKIPPED_SHOWN = 5


@dataclass(frozen=True, slots=True)
class AddRequest:
    """What the dialog hands back: valid ids (unique, in order) and what was skipped."""

    ids: list[str]
    label: str | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)
    repeated: int = 0
    #: Valid ids that are watched already (adding them again changes nothing).
    known: int = 0


def parse_pasted(
    text: str, label: str | None = None, watched: frozenset[str] = frozenset()
) -> AddRequest:
    ids: list[str] = []
    skipped: list[tuple[str, str]] = []
    repeated = 0
    for candidate in extract_job_ids(text):
        try:
            job_id = validate_job_id(candidate)
        except InvalidIdError as exc:
            skipped.append((one_line(candidate, 40), exc.message))
            continue
        if job_id in ids:
            repeated += 1
        else:
            ids.append(job_id)
    known = sum(1 for job_id in ids if job_id in watched)
    return AddRequest(ids, (label or "").strip() or None, skipped, repeated, known)


def describe(request: AddRequest) -> Text:
    """`3 job ids to add. Skipped 1: 'hello' ...`: feedback under the text area."""
    text = Text()
    count = len(request.ids)
    text.append(f"{count} job id{'s' if count != 1 else ''} to add.", style="bold")
    if request.known:
        text.append(f" {request.known} already watched.")
    if request.repeated:
        text.append(
            f" {request.repeated} repeated id{'s' if request.repeated != 1 else ''} ignored."
        )
    if request.skipped:
        text.append(f"\nSkipped {len(request.skipped)}:")
        for _value, reason in request.skipped[:SKIPPED_SHOWN]:
            text.append(f"\n  {one_line(reason, 120)}")
        if len(request.skipped) > SKIPPED_SHOWN:
            text.append(f"\n  ... and {len(request.skipped) - SKIPPED_SHOWN} more")
    return text


class AddJobsScreen(ModalScreen[AddRequest | None]):
    """`watched`: job ids on the watchlist, so the dialog can say which are known."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Add"),
    ]

    def __init__(self, watched: frozenset[str] = frozenset(), destination: str = "") -> None:
        super().__init__()
        self.watched = watched
        #: The connection the ids are added to (`cloud · region · project`).
        self.destination = destination

    def compose(self) -> ComposeResult:
        with Vertical(id="add-dialog", classes="dialog") as dialog:
            # Text, not markup: a cloud may be named "[prod]".
            dialog.border_title = Text(
                f"Add jobs to {self.destination}" if self.destination else "Add jobs"
            )
            dialog.border_subtitle = "ctrl+s to add · escape to cancel"
            yield Static(
                Text("Paste job ids (one per line, any text containing them, or JSON):"),
                classes="prompt",
            )
            yield TextArea(id="add-text", soft_wrap=True, show_line_numbers=False)
            # Right under the text, where toasts (bottom right) never cover it.
            yield Static(describe(parse_pasted("")), id="add-feedback")
            yield Input(placeholder="label (optional)", max_length=80, id="add-label")
            with Horizontal(classes="buttons"):
                yield Button("Add (ctrl+s)", variant="primary", id="add")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#add-text", TextArea).focus()

    def _request(self) -> AddRequest:
        text = self.query_one("#add-text", TextArea).text
        label = self.query_one("#add-label", Input).value.strip()
        return parse_pasted(text, label, self.watched)

    @on(TextArea.Changed)
    def _changed(self) -> None:
        feedback = self.query_one("#add-feedback", Static)
        feedback.update(describe(self._request()))
        feedback.remove_class("-problem")

    @on(Input.Submitted)
    def _label_submitted(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#add")
    def _add_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_submit(self) -> None:
        request = self._request()
        if not request.ids:
            # Said where the reasons are listed, not in a toast that would cover the dialog.
            feedback = describe(request)
            feedback.append("\nNothing added: no valid job id.", style="bold")
            self.query_one("#add-feedback", Static).update(feedback)
            self.query_one("#add-feedback", Static).add_class("-problem")
            self.app.bell()
            return
        self.dismiss(request)

    def action_cancel(self) -> None:
        self.dismiss(None)
