"""`a`: add job ids of a chosen service. Accepts pasted lists, free text with ids, or JSON (a
create-servers response, `{"job_ids": [...]}`, a CCE node answer, ...), and says what it will
skip before anything is added. An answer whose shape names its service switches the choice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static, TextArea

from jobdash.api.errors import InvalidIdError
from jobdash.api.ids import extract_job_ids, validate_job_id
from jobdash.services.recognise import recognise_text
from jobdash.services.registry import DEFAULT_SERVICE, UnknownServiceError, service, services
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
    #: The service whose jobs these are (`jobdash.services`).
    service: str = DEFAULT_SERVICE
    #: The service the pasted text was recognised as, if its shape named one.
    recognised: str | None = None


def parse_pasted(
    text: str,
    label: str | None = None,
    watched: frozenset[str] = frozenset(),
    service_name: str = DEFAULT_SERVICE,
) -> AddRequest:
    """The ids in `text` as jobs of `service_name`: an answer recognised as that service's
    gives the ids it names; any other text is searched for ids. ECS's ids must be 32 hex
    characters; other services' any id that is safe in a URL."""
    recognised = recognise_text(text)
    if recognised is not None and recognised[0] == service_name:
        candidates = recognised[1]
    else:
        candidates = extract_job_ids(text)
    any_id = service_name != DEFAULT_SERVICE
    ids: list[str] = []
    skipped: list[tuple[str, str]] = []
    repeated = 0
    for candidate in candidates:
        try:
            job_id = validate_job_id(candidate, any_id=any_id)
        except InvalidIdError as exc:
            skipped.append((one_line(candidate, 40), exc.message))
            continue
        if job_id in ids:
            repeated += 1
        else:
            ids.append(job_id)
    known = sum(1 for job_id in ids if job_id in watched)
    return AddRequest(
        ids,
        (label or "").strip() or None,
        skipped,
        repeated,
        known,
        service_name,
        recognised[0] if recognised is not None else None,
    )


def describe(request: AddRequest) -> Text:
    """`3 job ids to add. Skipped 1: 'hello' ...`: feedback under the text area."""
    text = Text()
    if request.recognised is not None:
        text.append(f"Answer recognised: {_title(request.recognised)}. ")
    count = len(request.ids)
    noun = f"{_title(request.service)} job id" if request.service != DEFAULT_SERVICE else "job id"
    text.append(f"{count} {noun}{'s' if count != 1 else ''} to add.", style="bold")
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


def _title(name: str) -> str:
    try:
        return service(name).title
    except UnknownServiceError:
        return name


class AddJobsScreen(ModalScreen[AddRequest | None]):
    """`watched`: job ids on the watchlist, so the dialog can say which are known;
    `service_name`: the service chosen at first (the last one used)."""

    DEFAULT_CSS = """
    AddJobsScreen #add-options {
        height: auto;
    }
    AddJobsScreen #add-label {
        width: 1fr;
    }
    AddJobsScreen #add-service {
        width: 24;
        margin: 1 0 0 1;
    }
    AddJobsScreen.-short #add-service {
        margin-top: 0;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Add"),
    ]

    def __init__(
        self,
        watched: frozenset[str] = frozenset(),
        destination: str = "",
        service_name: str = DEFAULT_SERVICE,
    ) -> None:
        super().__init__()
        self.watched = watched
        #: The connection the ids are added to (`cloud · region · project`).
        self.destination = destination
        known = services()
        self.initial_service = service_name if service_name in known else DEFAULT_SERVICE
        #: The service the text was last recognised as: the choice follows a new
        #: recognition, and stays as the user set it while the recognition is the same.
        self._recognised: str | None = None

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
            yield Static(
                describe(parse_pasted("", service_name=self.initial_service)), id="add-feedback"
            )
            with Horizontal(id="add-options"):
                yield Input(placeholder="label (optional)", max_length=80, id="add-label")
                yield Select(
                    [(Text(found.title), name) for name, found in services().items()],
                    value=self.initial_service,
                    allow_blank=False,
                    prompt="service",
                    id="add-service",
                )
            with Horizontal(classes="buttons"):
                yield Button("Add (ctrl+s)", variant="primary", id="add")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#add-text", TextArea).focus()

    @property
    def chosen_service(self) -> str:
        value = self.query_one("#add-service", Select).value
        return value if isinstance(value, str) else DEFAULT_SERVICE

    def _request(self) -> AddRequest:
        text = self.query_one("#add-text", TextArea).text
        label = self.query_one("#add-label", Input).value.strip()
        return parse_pasted(text, label, self.watched, self.chosen_service)

    @on(TextArea.Changed)
    def _text_changed(self) -> None:
        recognised = recognise_text(self.query_one("#add-text", TextArea).text)
        name = recognised[0] if recognised is not None else None
        if name != self._recognised:
            self._recognised = name
            if name is not None and name != self.chosen_service:
                # Changing the choice posts Select.Changed, which redraws the feedback.
                self.query_one("#add-service", Select).value = name
        self._show_feedback()

    @on(Select.Changed, "#add-service")
    def _service_changed(self) -> None:
        self._show_feedback()

    def _show_feedback(self) -> None:
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
