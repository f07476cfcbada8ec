"""How jobdash writes durations, times and progress, the same in the headless output and
the dashboard: one place, so the two never drift apart.

Plain strings and Rich `Text` (never markup); colours come from a `Palette`.
"""

from __future__ import annotations

import math
from datetime import datetime

from rich.text import Text

from jobdash.api.model import Job, JobStatus, SubJob
from jobdash.text.statuses import DEFAULT_PALETTE, Palette


def format_duration(seconds: float | None) -> str:
    """`45s`, `3m07s`, `2h05m`, `3d04h`; empty for unknown."""
    if seconds is None:
        return ""
    total = max(0, int(seconds))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def rough_duration(seconds: float) -> str:
    """`4m`, `1h05m`, `<1m`: an estimate is not precise to the second."""
    minutes = math.ceil(seconds / 60)
    if seconds < 60:
        return "<1m"
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def ago(since: datetime | None, now: datetime, *, never: str = "never") -> str:
    """`3m07s ago`, or `never` (or the caller's word) without a time."""
    if since is None:
        return never
    return f"{format_duration((now - since).total_seconds())} ago"


def moment(value: datetime | None, *, millis: bool = False) -> str:
    """`2016-04-25 20:04:47Z` (with `.591` before the Z when `millis`); `-` for none."""
    if value is None:
        return "-"
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if millis:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


def timing_phrase(item: Job | SubJob, now: datetime, *, running_word: str) -> str:
    """`took 3m07s` once ended, `{running_word} 1m05s` while running; empty without a begin."""
    seconds = item.duration(now)
    if seconds is None:
        return ""
    word = "took" if item.end_time is not None else running_word
    return f"{word} {format_duration(seconds)}"


def progress_text(job: Job, palette: Palette = DEFAULT_PALETTE, *, running: bool = False) -> Text:
    """`14/20  ✓12 ✗2` (finished / total, successes, failures when any), with `●3` (still
    going) when `running`; empty for a job without sub-jobs."""
    total = job.total_sub_jobs
    if not total:
        return Text()
    counts = job.status_counts()
    text = Text(f"{job.finished_sub_jobs}/{total} ")
    text.append(f" ✓{counts.get(JobStatus.SUCCESS, 0)}", style=palette.success)
    failed = counts.get(JobStatus.FAIL, 0)
    if failed:
        text.append(f" ✗{failed}", style=palette.error)
    going = counts.get(JobStatus.RUNNING, 0) + counts.get(JobStatus.INIT, 0)
    if running and going:
        text.append(f" ●{going}", style=palette.accent)
    return text
