"""JSON from the API made safe to store and print: bounded depth, encodable text.

A hostile or broken backend can send a body nested hundreds of levels deep (Python's
json module and every recursive walk over it then hit the recursion limit) or strings
holding lone UTF-16 surrogates. `clean_json` copies such a value without recursing,
cutting what lies deeper than `MAX_DEPTH` with a marker string; `json_text` renders
the copy as JSON text that is valid, UTF-8 encodable and free of raw C1 controls.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from jobdash.text.safe import escape_json_controls, without_surrogates

#: Job bodies are about six levels deep; anything beyond this is not shown or stored.
MAX_DEPTH = 32


def cut_marker(max_depth: int) -> str:
    """What stands in for a value nested deeper than `max_depth`."""
    return f"… (cut: nested deeper than {max_depth} levels)"


def _scalar(value: Any) -> Any:
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        # NaN and Infinity parse from API bodies but are not JSON: keep them as words.
        return value if math.isfinite(value) else str(value)
    return without_surrogates(str(value))


def clean_json(value: Any, max_depth: int = MAX_DEPTH) -> Any:
    """A plain copy of `value` (dicts, lists, scalars) that `json.dumps` can always write.

    Never recurses: a work stack holds the containers still to copy. Containers below
    `max_depth` levels become `cut_marker(max_depth)`; keys become strings; lone
    surrogates become U+FFFD; non-finite floats become their names.
    """
    marker = cut_marker(max_depth)
    # (source container, its copy, its depth): containers whose items are still to copy.
    stack: list[tuple[Any, Any, int]] = []

    def copy_of(item: Any, depth: int) -> Any:
        """The copy of one value; containers come back empty and join the stack."""
        kind = type(item)
        if kind is str:
            return item if item.isascii() else without_surrogates(item)
        if kind is int or kind is bool or item is None:
            return item
        if kind is dict or isinstance(item, Mapping):
            if depth >= max_depth:
                return marker
            copy: dict[str, Any] = {}
            stack.append((item, copy, depth))
            return copy
        if kind is list or kind is tuple:
            if depth >= max_depth:
                return marker
            items: list[Any] = []
            stack.append((item, items, depth))
            return items
        return _scalar(item)

    result = copy_of(value, 0)
    while stack:
        source, copy, depth = stack.pop()
        if type(copy) is list:
            copy.extend(copy_of(item, depth + 1) for item in source)
        else:
            for key, item in source.items():
                name = key if type(key) is str else str(key)
                copy[without_surrogates(name)] = copy_of(item, depth + 1)
    return result


def json_text(
    value: Any,
    *,
    indent: int | None = None,
    max_depth: int = MAX_DEPTH,
    sort_keys: bool = False,
    escape_controls: bool = True,
) -> str:
    """`value` as JSON text for people and scripts: depth bounded, no raw control characters.

    Non-ASCII text is kept readable (`ensure_ascii=False`); C0 controls are escaped by
    json, DEL, C1 controls and bidi overrides by `escape_json_controls` (unless the
    caller escapes them itself for display: `escape_controls=False`).
    """
    body = json.dumps(
        clean_json(value, max_depth),
        indent=indent,
        ensure_ascii=False,
        allow_nan=False,
        sort_keys=sort_keys,
    )
    return escape_json_controls(body) if escape_controls else body
