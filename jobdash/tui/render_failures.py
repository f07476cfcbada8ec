"""What a failure says, said once: a `fail_reason` that is an error body read as code and
message, the catalogue's entry for a code without what the fields said already, and the
summary of a job's failures by code. Pure: Rich `Text` from model data."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Protocol

from rich.console import RenderableType
from rich.text import Text

from jobdash.api.client import parse_error_body
from jobdash.api.model import Job
from jobdash.text.safe import one_line, printable
from jobdash.text.statuses import DEFAULT_PALETTE, Palette


class ErrorInfoLike(Protocol):
    code: str
    message: str
    meaning: str
    hint: str


#: `jobdash.api.catalog.lookup`, or a stand-in in tests.
Lookup = Callable[[str], ErrorInfoLike | None]


def parse_reason(reason: str | None) -> tuple[str | None, str] | None:
    """A `fail_reason` that is itself an error body (`{"error": {"code", "message"}}`, as
    ECS passes a downstream answer through): its code and message; None for plain text."""
    text = (reason or "").strip()
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    body = parse_error_body(data)
    if body.code is None and body.message is None:
        return None
    return body.code, body.message or ""


def readable_reason(reason: str | None) -> str:
    """A `fail_reason` as one would say it: `code: message` when it is an error body."""
    parsed = parse_reason(reason)
    if parsed is None:
        return reason or ""
    code, message = parsed
    return f"{code}: {message}" if code and message else code or message


def reason_cell(reason: str | None, palette: Palette) -> Text | None:
    """The reason as text; an error body shows its code (in the error colour) and message."""
    parsed = parse_reason(reason)
    if parsed is None:
        return Text(printable(reason, keep_newlines=True)) if reason else None
    code, message = parsed
    text = Text()
    if code:
        text.append(one_line(code, 40), style=palette.error)
    if code and message:
        text.append(" ")
    text.append(printable(message, keep_newlines=True))
    return text


def _said(text: str) -> str:
    return " ".join(text.split()).casefold()


def already_said(text: str | None, said: Iterable[str]) -> bool:
    """`text` says nothing that one of `said` does not (the same message, maybe quoted)."""
    wanted = _said(text or "")
    return not wanted or any(wanted in _said(other) for other in said)


def code_meaning(
    code: str | None, lookup: Lookup | None, palette: Palette, said: Iterable[str] = ()
) -> list[RenderableType]:
    """The catalogue's entry for `code`, leaving out what the fields `said` already."""
    said = list(said)
    if not code or lookup is None:
        return []
    info = lookup(code)
    heading = Text(f"Error code {one_line(code, 40)}", style="bold")
    if info is None:
        return [
            heading,
            Text("Not in jobdash's catalogue of the services' error codes.", style=palette.muted),
        ]
    parts: list[RenderableType] = [heading]
    message = getattr(info, "message", "")
    meaning = getattr(info, "meaning", "")
    hint = getattr(info, "hint", "")
    if message and not already_said(message, said):
        parts.append(Text(printable(message)))
    if meaning and meaning != message and not already_said(meaning, said):
        parts.append(Text(printable(meaning)))
    if hint:
        parts.append(Text("Hint: ", style=palette.accent) + Text(printable(hint)))
    return parts


def failure_summary(job: Job, lookup: Lookup | None, palette: Palette = DEFAULT_PALETTE) -> Text:
    """One line per error code, most frequent first: code, count and what it means.

    The text is the catalogue's message for the code when it has one (short and the same
    for every failure), else the API's own message or reason for the first failure.
    """
    text = Text()
    for code, count, reason in job.failure_summary():
        if text:
            text.append("\n")
        text.append(one_line(code, 40), style=palette.error)
        text.append(f" × {count}: ")
        info = lookup(code) if lookup and code != "(no code)" else None
        message = getattr(info, "message", "") if info is not None else ""
        text.append(one_line(message or _api_message(job, code) or readable_reason(reason), 300))
    return text


def _api_message(job: Job, code: str) -> str:
    for sub in job.failed_sub_jobs:
        if (sub.error_code or "(no code)") == code and sub.errorcode_message:
            return sub.errorcode_message
    return ""
