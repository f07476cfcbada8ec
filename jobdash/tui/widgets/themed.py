"""Status colours taken from the theme through component classes (see dashboard.tcss)."""

from __future__ import annotations

from textual.widget import Widget

from jobdash.text.statuses import DEFAULT_PALETTE, Palette, Role

#: Add these to a widget's COMPONENT_CLASSES; dashboard.tcss maps them to theme variables.
STATUS_COMPONENTS = frozenset(f"status--{role.value}" for role in Role)


def theme_palette(widget: Widget) -> Palette:
    """Rich styles for each role, resolved from `$success`, `$warning`, ... of the current theme.

    Before the stylesheet has reached the widget the default palette stands in; the app
    redraws everything once the first frame is up.
    """
    styles = {
        role.value: widget.get_component_rich_style(
            f"status--{role.value}", partial=True, default=DEFAULT_PALETTE.style(role)
        )
        for role in Role
    }
    return Palette(**styles)
