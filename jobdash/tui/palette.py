"""Colour roles for statuses, independent of Textual so the renderers stay pure.

The app fills a `Palette` from the theme (TCSS component classes that use `$success`,
`$warning`, `$error`, `$text-muted`, `$accent`), so switching themes recolours everything.
`DEFAULT_PALETTE` is only for rendering outside an app (tests, headless use).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rich.style import Style

from jobdash.api.model import JobStatus


class Role(StrEnum):
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"
    MUTED = "muted"
    ACCENT = "accent"


@dataclass(frozen=True, slots=True)
class Palette:
    success: Style
    warning: Style
    error: Style
    muted: Style
    accent: Style

    def style(self, role: Role) -> Style:
        return getattr(self, role.value)


DEFAULT_PALETTE = Palette(
    success=Style(color="green"),
    warning=Style(color="yellow"),
    error=Style(color="red"),
    muted=Style(dim=True),
    accent=Style(color="cyan"),
)

_STATUS_ROLES: dict[str, Role] = {
    JobStatus.SUCCESS: Role.SUCCESS,
    JobStatus.FAIL: Role.ERROR,
    JobStatus.RUNNING: Role.ACCENT,
    JobStatus.INIT: Role.MUTED,
    JobStatus.PENDING_PAYMENT: Role.WARNING,
}


def status_role(status: str | None) -> Role:
    """Undocumented statuses get the warning colour: something to look at, not an error."""
    return _STATUS_ROLES.get(status or "", Role.WARNING)
