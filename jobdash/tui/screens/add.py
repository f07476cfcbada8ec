"""`a`: add job ids of a chosen service. Accepts pasted lists, free text with ids, or JSON (a
create-servers response, `{"job_ids": [...]}`, a CCE node answer, ...), and says what it will
skip before anything is added. An answer whose shape names its service switches the choice."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static, TextArea

from jobdash.api.ids import JOB_ID_FORM, JOB_ID_IN_TEXT, extract_job_ids, job_id_problem
from jobdash.services.recognise import recognise_text
from jobdash.services.registry import DEFAULT_SERVICE, UnknownServiceError, service, services
from jobdash.text.safe import one_line

#: Skipped values listed in the dialog (the rest are counted), each cut to this width.
SKIPPED_SHOWN = 5
SKIPPED_WIDTH = 36
#: The example at the end of the ECS id rule, said once under the list instead of per line.
_FORM_EXAMPLE = JOB_ID_FORM.removeprefix("32 hexadecimal characters")


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


#: Separators between ids on one line.
_SEPARATORS = re.compile(r"[\s,;]+")
#: Quotes and brackets around an id (`"0123..."`, `(0123...)`) are not part of it.
_WRAPPING = "\"'`()[]<>{}"
_ID_CHARS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _id_like(token: str) -> bool:
    """Whether `token` looks meant as an id (`zzz-bad`, `12345`), not a word of a sentence."""
    return bool(_ID_CHARS.fullmatch(token)) and any(ch.isdigit() or ch in "-_" for ch in token)


def _line_candidates(line: str) -> list[str]:
    """What one line of free text offers as ids, each to be checked on its own.

    A line of ids (`a b`, `a, b`) gives each; a sentence gives the 32-hex ids in it plus
    whatever in it looks like a mistyped id (a token with a digit, such as `12345`), so
    nothing meant as an id vanishes without a word; a sentence without any gives itself."""
    tokens = [t.strip(_WRAPPING) for t in _SEPARATORS.split(line)]
    tokens = [t for t in tokens if t]
    if len(tokens) <= 1 or all(_id_like(t) for t in tokens):
        return tokens
    hexes = JOB_ID_IN_TEXT.findall(line)
    if not hexes:
        return [line]
    junk = [
        t
        for t in tokens
        if _ID_CHARS.fullmatch(t) and any(ch.isdigit() for ch in t) and not JOB_ID_IN_TEXT.search(t)
    ]
    return hexes + junk


def _candidates(text: str) -> list[str]:
    """The ids in pasted text, in order, duplicates kept: JSON (every `job_id`) as a whole
    or a line at a time, else each line's ids (`_line_candidates`)."""
    stripped = text.strip()
    if (whole := _json_ids(stripped)) is not None:
        return whole
    found: list[str] = []
    for raw in stripped.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        in_json = _json_ids(line)
        found.extend(in_json if in_json is not None else _line_candidates(line))
    return found


def _json_ids(text: str) -> list[str] | None:
    """The `job_id`s of `text` if it is JSON that names some; else None (read it as text:
    `["0123...", "4567..."]` names none, yet holds ids)."""
    if text[:1] not in ("{", "["):
        return None
    try:
        json.loads(text)
    except ValueError:
        return None
    return extract_job_ids(text) or None


def parse_pasted(
    text: str,
    label: str | None = None,
    watched: frozenset[str] = frozenset(),
    service_name: str = DEFAULT_SERVICE,
) -> AddRequest:
    """The ids in `text` as jobs of `service_name`: an answer recognised as that service's
    gives the ids it names; any other text is searched for ids. ECS's ids must be 32 hex
    characters; other services' any id that is safe in a URL. `skipped` pairs each id
    refused (as shown) with why (`is not 32 hexadecimal characters ...`)."""
    recognised = recognise_text(text)
    if recognised is not None and recognised[0] == service_name:
        candidates = recognised[1]
    else:
        candidates = _candidates(text)
    any_id = service_name != DEFAULT_SERVICE
    ids: list[str] = []
    skipped: list[tuple[str, str]] = []
    repeated = 0
    for candidate in candidates:
        problem = job_id_problem(candidate, any_id=any_id)
        if problem is not None:
            if isinstance(candidate, str) and _SEPARATORS.search(candidate.strip()):
                problem = "has no job id"  # a sentence: "contains whitespace" says nothing
            skipped.append((one_line(candidate, SKIPPED_WIDTH), problem))
            continue
        if candidate in ids:
            repeated += 1
        else:
            ids.append(candidate)
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
    """`3 job ids to add. Skipped 2:` and each skipped value with why, one a line: feedback
    under the text area. The id form is said once, not on every line, so lines fit."""
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
        form_said = False
        for value, problem in request.skipped[:SKIPPED_SHOWN]:
            short = problem.removesuffix(_FORM_EXAMPLE)
            form_said = form_said or short != problem
            text.append(f"\n  {value!r} {one_line(short, 60)}")
        if len(request.skipped) > SKIPPED_SHOWN:
            text.append(f"\n  ... and {len(request.skipped) - SKIPPED_SHOWN} more")
        if form_said:
            text.append(f"\n(an ECS job id is {JOB_ID_FORM})")
    return text


def _title(name: str) -> str:
    try:
        return service(name).title
    except UnknownServiceError:
        return name


class IdsArea(TextArea):
    """The ids box. Tab leaves it at once, and keys that reach it after focus has gone on
    follow the focus: a terminal delivers a quickly typed `tab` and label in one burst, and
    they are all queued here before the tab's focus move would otherwise happen."""

    async def _on_key(self, event: events.Key) -> None:
        focused = self.screen.focused
        if focused is not None and focused is not self:
            event.stop()
            event.prevent_default()
            focused.post_message(events.Key(event.key, event.character))
        elif event.key in ("tab", "shift+tab"):
            event.stop()
            event.prevent_default()
            if event.key == "tab":
                self.screen.focus_next()
            else:
                self.screen.focus_previous()


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
            yield IdsArea(id="add-text", soft_wrap=True, show_line_numbers=False)
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
