"""The timeline of a job: each sub-job's begin and end on one time axis, a bar per sub-job
in its status colour. Pure: a Rich `Text` from a job, a clock reading and a width, so a slow
or serial batch, or one straggler, shows at a glance."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from rich.text import Text

from jobdash.api.model import Job, SubJob, status_icon
from jobdash.api.server import ServerInfo
from jobdash.text.format import format_duration
from jobdash.text.safe import one_line
from jobdash.text.statuses import DEFAULT_PALETTE, Palette, status_role
from jobdash.tui.render import short

#: Columns of the name to the left of each bar, and of the time after it.
NAME_WIDTH = 14
TIME_WIDTH = 8
MIN_BAR_COLUMNS = 10
BAR = "█"
AXIS = "─"


def _span(job: Job, now: datetime) -> tuple[datetime, float] | None:
    """Where the axis starts and how many seconds it covers; None without any times."""
    begins = [t for t in [job.begin_time, *(s.begin_time for s in job.sub_jobs)] if t]
    if not begins:
        return None
    start = min(begins)
    ends = [s.end_time or now for s in job.sub_jobs if s.begin_time is not None]
    ends.append(job.end_time or now)
    seconds = max((end - start).total_seconds() for end in ends)
    return start, max(seconds, 1.0)


def _name(sub: SubJob, server: ServerInfo | None) -> str:
    if server is not None and server.name:
        return one_line(server.name, NAME_WIDTH)
    return short(sub.resource_id or sub.job_id or "sub-job", NAME_WIDTH - 2)


def timeline(
    job: Job,
    now: datetime,
    width: int,
    palette: Palette = DEFAULT_PALETTE,
    *,
    server_for: Callable[[SubJob], ServerInfo | None] | None = None,
) -> Text:
    """The chart, `width` columns wide: an axis line, then one line per sub-job."""
    text = Text()
    if not job.sub_jobs:
        text.append("This job has no sub-jobs to chart.", style=palette.muted)
        return text
    span = _span(job, now)
    if span is None:
        text.append("No sub-job has begun yet.", style=palette.muted)
        return text
    start, seconds = span
    columns = max(width - NAME_WIDTH - TIME_WIDTH - 2, MIN_BAR_COLUMNS)
    left = f"{start:%H:%M:%S}"
    right = format_duration(seconds)
    text.append(" " * (NAME_WIDTH + 1))
    text.append(left, style=palette.muted)
    text.append(right.rjust(max(columns - len(left), len(right) + 1)), style=palette.muted)
    text.append("\n")
    text.append(" " * (NAME_WIDTH + 1))
    text.append("├" + AXIS * (columns - 2) + "┤", style=palette.muted)
    for sub in job.sub_jobs:
        text.append("\n")
        server = server_for(sub) if server_for is not None else None
        style = palette.style(status_role(sub.status))
        text.append(_name(sub, server).ljust(NAME_WIDTH) + " ", style=palette.muted)
        if sub.begin_time is None:
            text.append(f"{status_icon(sub.status)} not begun", style=palette.muted)
            continue
        end = sub.end_time or now
        first = math.floor((sub.begin_time - start).total_seconds() / seconds * columns)
        last = math.ceil((end - start).total_seconds() / seconds * columns)
        first = min(max(first, 0), columns - 1)
        last = min(max(last, first + 1), columns)
        text.append(" " * first)
        text.append(BAR * (last - first), style=style)
        text.append(" " * (columns - last))
        duration = format_duration(sub.duration(now))
        text.append(f" {duration}".rjust(TIME_WIDTH), style=style if sub.failed else "")
    return text


def legend(job: Job, palette: Palette = DEFAULT_PALETTE) -> Text:
    """`✓ 12 SUCCESS  ✗ 2 FAIL  ● 6 RUNNING`, in the bars' colours."""
    text = Text()
    for status, number in sorted(job.status_counts().items(), key=lambda kv: (-kv[1], kv[0])):
        if text:
            text.append("  ")
        text.append(
            f"{status_icon(status)} {number} {one_line(status, 20)}",
            style=palette.style(status_role(status)),
        )
    return text
