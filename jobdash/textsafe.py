"""Make text from the API safe to show: no terminal control, no markup interpretation.

Callers put the result into `rich.text.Text` (or Textual `Content`) objects, never into
markup strings, so `[red]` stays literal; this module takes care of control characters.
"""

from __future__ import annotations

import re

# C0 controls except none, DEL, C1 controls, and the bidi overrides that can reorder a line.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\t":
        return " "
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object, *, keep_newlines: bool = False) -> str:
    """`value` as one displayable string: control characters shown as `\\xNN` escapes."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if keep_newlines:
        return "\n".join(_UNSAFE.sub(_escape, line) for line in text.split("\n"))
    return _UNSAFE.sub(_escape, text)


def one_line(value: object, limit: int | None = None) -> str:
    """Printable and on one line (newlines become spaces), optionally cut with an ellipsis."""
    raw = "" if value is None else (value if isinstance(value, str) else str(value))
    text = printable(" ".join(raw.splitlines()))
    if limit is not None and len(text) > limit:
        return text[: max(0, limit - 1)] + "…"
    return text
