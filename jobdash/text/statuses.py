"""The status vocabulary shared by the headless output and the dashboard: the states a
watched job is counted under, and the colour role of each status.

The dashboard fills a `Palette` from the theme (TCSS component classes that use `$success`,
`$warning`, `$error`, `$text-muted`, `$accent`), so switching themes recolours everything.
`DEFAULT_PALETTE` is for rendering outside an app: the headless commands and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from rich.style import Style

from jobdash.api.errors import ErrorKind
from jobdash.api.model import JobStatus

if TYPE_CHECKING:
    from jobdash.watch.values import Snapshot

#: States a watched job is counted under besides its job status.
WAITING = "waiting"
EXPIRED = "expired"
UNREACHABLE = "error"
#: A job the cloud says it does not know (a mistyped id, another project or region).
NOT_FOUND = "not found"


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
    error=Style(color="red", bold=True),
    muted=Style(dim=True),
    accent=Style(color="cyan"),
)

_STATUS_ROLES: dict[str, Role] = {
    JobStatus.SUCCESS: Role.SUCCESS,
    JobStatus.FAIL: Role.ERROR,
    JobStatus.RUNNING: Role.ACCENT,
    JobStatus.INIT: Role.MUTED,
    JobStatus.PENDING_PAYMENT: Role.WARNING,
    JobStatus.ROLLED_BACK: Role.WARNING,
}


def status_role(status: str | None) -> Role:
    """Undocumented statuses get the warning colour: something to look at, not an error."""
    return _STATUS_ROLES.get(status or "", Role.WARNING)


def display_status(snapshot: Snapshot | None) -> str:
    """The word a job is counted under: its status, or waiting / expired / not found /
    error."""
    if snapshot is None:
        return WAITING
    if snapshot.expired:
        return EXPIRED
    if snapshot.job is None:
        if snapshot.error_kind == ErrorKind.NOT_FOUND:
            return NOT_FOUND
        return UNREACHABLE if snapshot.error_kind else WAITING
    return snapshot.job.status
