"""Labels for the job tree and the header, built as Rich `Text` (never markup strings).

Pure functions of model data, a clock reading and a `Palette`: testable without an app.
Every string that came from the API goes through `jobdash.text.safe` first.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from rich.text import Text

from jobdash.api.model import (
    STATUS_ORDER,
    Job,
    JobStatus,
    SubJob,
    status_icon,
)
from jobdash.api.server import ServerInfo
from jobdash.services.registry import DEFAULT_SERVICE
from jobdash.services.registry import service as lookup_service
from jobdash.text.format import (
    ago,
    format_duration,
    progress_text,
    request_rate_text,
    throttle_text,
    timing_phrase,
)
from jobdash.text.safe import one_line
from jobdash.text.statuses import (
    DEFAULT_PALETTE,
    EXPIRED,
    NOT_FOUND,
    UNREACHABLE,
    WAITING,
    Palette,
    Role,
    status_role,
)
from jobdash.watch.history import STALLED_TEXT
from jobdash.watch.values import (
    EndpointState,
    Snapshot,
    WatchEntry,
)

SHORT_ID = 8
#: Icons for the states that are not job statuses.
WAITING_ICON = "…"
EXPIRED_ICON = "⊘"
FETCH_ERROR_ICON = "!"


def short(value: str | None, length: int = SHORT_ID) -> str:
    if not value:
        return ""
    return one_line(value[:length] if len(value) > length + 4 else value)


def timing(item: Job | SubJob, now: datetime) -> str:
    """`for 1m05s` while running, `took 3m07s` when done, empty without a begin time."""
    return timing_phrase(item, now, running_word="for")


def elapsed(item: Job | SubJob, now: datetime) -> str:
    """The compact time for tree lines: running time so far, or the duration once ended."""
    return format_duration(item.duration(now))


def job_label(
    entry: WatchEntry,
    snapshot: Snapshot | None,
    now: datetime,
    palette: Palette = DEFAULT_PALETTE,
    *,
    short_id: str | None = None,
    estimate: str = "",
) -> Text:
    """One tree line for a watched job: icon, type, short id, progress, time, the estimate
    (`~3m left`, `stalled?`), label, problems."""
    job = snapshot.job if snapshot else None
    text = Text()
    if job is None:
        if snapshot is not None and snapshot.error_kind:
            text.append(f"{FETCH_ERROR_ICON} ", style=palette.error)
        elif snapshot is not None and snapshot.expired:
            text.append(f"{EXPIRED_ICON} ", style=palette.muted)
        else:
            text.append(f"{WAITING_ICON} ", style=palette.muted)
        text.append("job ", style=palette.muted)
    else:
        style = (
            palette.muted
            if snapshot and snapshot.expired
            else palette.style(status_role(job.status))
        )
        text.append(f"{status_icon(job.status)} ", style=style)
        if entry.key.service != DEFAULT_SERVICE:
            text.append(f"{lookup_service(entry.key.service).title} ", style=palette.accent)
        text.append(one_line(job.job_type or "job", 32), style="bold")
        text.append(" ")
    text.append(one_line(short_id) if short_id else short(entry.key.job_id), style=palette.muted)
    # Numbers before the free-text label, so a narrow tree still shows them.
    if job is not None:
        bar = progress_text(job, palette)
        if bar:
            text.append(" ")
            text.append_text(bar)
        elif job.progress is not None and not job.is_terminal:
            text.append(f" {job.progress:.0f}%")
        time_text = elapsed(job, now)
        if time_text:
            text.append(f" {time_text}", style=palette.muted)
        if estimate:
            stalled = estimate == STALLED_TEXT
            text.append(f" {estimate}", style=palette.warning if stalled else palette.muted)
    if entry.label:
        text.append(" «")
        text.append(one_line(entry.label, 32), style="italic")
        text.append("»")
    text.append_text(_snapshot_problem(snapshot, palette))
    return text


def _snapshot_problem(snapshot: Snapshot | None, palette: Palette) -> Text:
    text = Text()
    if snapshot is None:
        text.append("  waiting for the first fetch", style=palette.muted)
    elif snapshot.expired:
        text.append("  expired", style=palette.muted)
    elif snapshot.error_kind:
        mark = "! " if snapshot.job is not None else ""
        text.append(f"  {mark}{one_line(snapshot.error_kind, 20)}: ", style=palette.error)
        text.append(one_line(snapshot.error_message, 60))
    elif snapshot.job is None:
        text.append("  waiting for the first fetch", style=palette.muted)
    return text


#: Resource statuses that mean all is well (ECS and RDS `ACTIVE`, EVS `available` and
#: `in-use`, CCE `Active`, IMS `active`): the row says nothing about them.
_HEALTHY = frozenset({"active", "available", "in-use"})


def healthy(status: str) -> bool:
    return status.strip().lower() in _HEALTHY


def sub_job_label(
    sub: SubJob,
    now: datetime,
    palette: Palette = DEFAULT_PALETTE,
    server: ServerInfo | None = None,
) -> Text:
    """One tree line for a sub-job: status, server (its name once fetched) or nic id, the
    server's status when it is not plainly running, time, error code, then the type (the
    same for most sub-jobs of a batch, so it goes last where a narrow tree cuts it)."""
    text = Text()
    text.append(f"{status_icon(sub.status)} ", style=palette.style(status_role(sub.status)))
    resource = sub.resource_id
    if server is not None and server.name:
        text.append(f"{one_line(server.kind, 16)} ", style=palette.muted)
        text.append(one_line(server.name, 32), style="bold")
        text.append(" ")
    elif resource:
        text.append(f"{one_line(sub.resource_kind, 16)} {short(resource)} ", style=palette.muted)
    if server is not None and server.status is not None and not healthy(server.status):
        word = "gone" if server.gone else one_line(server.status, 20)
        text.append(f"{word} ", style=palette.warning)
    time_text = elapsed(sub, now)
    if time_text:
        text.append(f"{time_text} ")
    if sub.error_code:
        text.append(one_line(sub.error_code, 24), style=palette.error)
        text.append(" ")
    text.append(one_line(sub.job_type or "sub-job", 32), style=palette.muted)
    return text


# -- header -----------------------------------------------------------------------------

COUNT_ORDER: tuple[str, ...] = (*STATUS_ORDER, UNREACHABLE, NOT_FOUND, EXPIRED, WAITING)
_COUNT_WORDS = {
    JobStatus.RUNNING: "running",
    JobStatus.INIT: "init",
    JobStatus.PENDING_PAYMENT: "payment",
    JobStatus.FAIL: "failed",
    JobStatus.ROLLED_BACK: "rolled back",
    JobStatus.SUCCESS: "ok",
    UNREACHABLE: "unreachable",
    NOT_FOUND: "not found",
    EXPIRED: "expired",
    WAITING: "waiting",
}
_COUNT_ICONS = {
    UNREACHABLE: FETCH_ERROR_ICON,
    NOT_FOUND: FETCH_ERROR_ICON,
    EXPIRED: EXPIRED_ICON,
    WAITING: WAITING_ICON,
}
_COUNT_ROLES = {
    UNREACHABLE: Role.ERROR,
    NOT_FOUND: Role.ERROR,
    EXPIRED: Role.MUTED,
    WAITING: Role.MUTED,
}


#: The forms of the counts line, widest first: `icon number word` and the gap between.
_COUNT_FORMS: tuple[tuple[str, str], ...] = (
    ("{icon} {number} {word}", "  "),
    ("{icon}{number} {word}", " "),
    ("{icon}{number}", " "),
)


def counts_text(
    counts: Counter[str], palette: Palette = DEFAULT_PALETTE, *, width: int | None = None
) -> Text:
    """`● 2 running  ✗ 1 failed  ✓ 5 ok`; statuses outside the known set come last.

    Given a `width`, the widest form that fits it: `●2 running ✗1 failed ✓5 ok`, and only
    when even that is too wide the icons and numbers alone: `●2 ✗1 ✓5`.
    """
    for template, gap in _COUNT_FORMS:
        text = _counts(counts, palette, template, gap)
        if width is None or text.cell_len <= width:
            return text
    return text


def connection_row_label(label: str, counts: Counter[str], palette: Palette) -> Text:
    """A connection's row in the tree: `cloud · region · project` and its jobs' counts."""
    text = Text(one_line(label, 200), style="bold")
    text.append("  ")
    text.append_text(counts_text(counts, palette))
    return text


def _counts(counts: Counter[str], palette: Palette, template: str, gap: str) -> Text:
    text = Text()
    order = list(COUNT_ORDER) + sorted(k for k in counts if k not in COUNT_ORDER)
    for status in order:
        number = counts.get(status, 0)
        if not number:
            continue
        icon = _COUNT_ICONS.get(status) or status_icon(status)
        role = _COUNT_ROLES.get(status) or status_role(status)
        word = _COUNT_WORDS.get(status) or one_line(status, 20).lower()
        if text:
            text.append(gap)
        text.append(template.format(icon=icon, number=number, word=word), style=palette.style(role))
    if not text:
        text.append("no jobs watched (press a to add)", style=palette.muted)
    return text


def poller_text(
    *,
    polling: bool = True,
    paused: bool,
    endpoints: list[EndpointState],
    last_refresh: datetime | None,
    now: datetime,
    palette: Palette = DEFAULT_PALETTE,
    unauthorized: int = 0,
    watched: int = 0,
) -> Text:
    """`live · 14 req/s · refreshed 3s ago`, `paused`, `throttled` (how often, since when,
    the back-off; `throttle_text`), `offline: reason`, `not authorized`, `slow: host answers
    take 40s` (`EndpointState.slow_note`).

    `polling=False` is a dashboard with no connection: it only shows stored snapshots.
    `unauthorized`: how many of the `watched` jobs the credentials were refused for; nothing
    is live about those (the alert line below the counts says why).
    """
    text = Text()
    offline = [state for state in endpoints if state.offline_reason]
    throttled = throttle_text(endpoints)
    if not polling:
        text.append("○ not polling", style=palette.muted)
    elif paused:
        text.append("⏸ paused", style=palette.warning)
    elif offline:
        text.append("⚠ offline", style=palette.error)
        text.append(": ")
        text.append(one_line(offline[0].offline_reason, 60))
    elif unauthorized:
        text.append("⚠ not authorized", style=palette.error)
        if unauthorized < watched:
            text.append(f" ({unauthorized} of {watched} jobs)", style=palette.error)
    elif throttled:
        text.append(f"⚠ {throttled}", style=palette.warning)
    elif slow := [state for state in endpoints if state.slow]:
        # Answers awaited for long are not "live": say which endpoint (and how many more).
        slowest = max(slow, key=lambda state: state.slow_seconds)
        text.append(f"⚠ {slowest.slow_note}", style=palette.warning)
        if len(slow) > 1:
            text.append(f" (+{len(slow) - 1} more)", style=palette.warning)
    else:
        text.append("● live", style=palette.success)
    if polling and not paused and endpoints:
        text.append(f" · {request_rate_text(endpoints)}", style=palette.muted)
    text.append(f" · refreshed {ago(last_refresh, now)}", style=palette.muted)
    return text


def connection_text(description: str, palette: Palette = DEFAULT_PALETTE) -> Text:
    text = Text("jobdash ", style="bold")
    text.append(one_line(description, 160), style=palette.accent)
    return text
