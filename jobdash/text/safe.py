"""Make text from the API safe to show: no terminal control, no markup interpretation.

Callers put the result into `rich.text.Text` (or Textual `Content`) objects, never into
markup strings, so `[red]` stays literal; this module takes care of control characters
and of lone UTF-16 surrogates (valid in JSON, unencodable in UTF-8).
"""

from __future__ import annotations

import re

# C0 controls except none, DEL, C1 controls, and the bidi overrides that can reorder a line.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What JSON text may still carry raw after json.dumps(ensure_ascii=False): DEL, C1, bidi.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\t":
        return " "
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def without_surrogates(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD, so it can be encoded as UTF-8.

    A backend that cuts UTF-16 in the middle of a pair sends `"\\ud83d"` alone: valid JSON,
    but no UTF-8 writer (terminal, file, SQLite) accepts the resulting character.
    """
    if text.isascii():
        return text
    return _SURROGATE.sub(REPLACEMENT, text)


def printable(value: object, *, keep_newlines: bool = False) -> str:
    """`value` as one displayable string: control characters shown as `\\xNN` escapes."""
    if value is None:
        return ""
    text = without_surrogates(value if isinstance(value, str) else str(value))
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


def without_controls(value: str) -> str:
    """`value` with every control character (and bidi override) removed, surrogates replaced.

    For text that leaves jobdash verbatim, such as an id copied to the clipboard, where an
    escape sequence would be as wrong as the raw character.
    """
    return _UNSAFE.sub("", without_surrogates(value))


def escape_json_controls(json_text: str) -> str:
    """Escape DEL, C1 controls and bidi overrides in JSON text as `\\u00XX`.

    json.dumps escapes C0 controls itself but writes these raw; U+009B alone is a CSI to
    many terminals. Outside strings JSON is ASCII, so the escapes land inside strings and
    the text stays valid JSON with the same value.
    """
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)
