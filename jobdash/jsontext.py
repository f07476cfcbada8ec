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

from jobdash.textsafe import escape_json_controls, without_surrogates

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
    root: list[Any] = [None]
    # (source value, the container to put its copy in, the slot there, its depth)
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 0)]
    while stack:
        source, parent, slot, depth = stack.pop()
        if isinstance(source, Mapping):
            if depth >= max_depth:
                parent[slot] = marker
                continue
            copy: dict[str, Any] = {}
            parent[slot] = copy
            for key, item in source.items():
                name = without_surrogates(key if isinstance(key, str) else str(key))
                copy[name] = None  # keeps the order of the keys
                stack.append((item, copy, name, depth + 1))
        elif isinstance(source, list | tuple):
            if depth >= max_depth:
                parent[slot] = marker
                continue
            items: list[Any] = [None] * len(source)
            parent[slot] = items
            stack.extend((item, items, index, depth + 1) for index, item in enumerate(source))
        else:
            parent[slot] = _scalar(source)
    return root[0]


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
