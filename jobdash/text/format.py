"""How jobdash writes durations, times and progress, the same in the headless output and
the dashboard: one place, so the two never drift apart.

Plain strings and Rich `Text` (never markup); colours come from a `Palette`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from rich.text import Text

from jobdash.api.model import Job, JobStatus, SubJob
from jobdash.text.safe import one_line
from jobdash.text.statuses import DEFAULT_PALETTE, Palette
from jobdash.watch.values import EndpointState


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


def time_left(seconds: float) -> str:
    """`~4m left`, `~1h05m left`, `under 1m left`: the estimate of a job's remaining time."""
    if seconds < 60:
        return "under 1m left"
    return f"~{rough_duration(seconds)} left"


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


def request_rate_text(states: Sequence[EndpointState]) -> str:
    """Requests per second lately, over every endpoint: `14 req/s`, `0.5 req/s`."""
    rate = sum(state.request_rate for state in states)
    return f"{rate:.0f} req/s" if rate >= 10 or rate == 0 else f"{rate:.1f} req/s"


def throttle_text(states: Sequence[EndpointState]) -> str | None:
    """`throttled` with a count, since when and the back-off left while an endpoint pushes
    back (the count is written with a multiplication sign, e.g. 3 times), else None.

    With several endpoints or accounts, the one paused longest speaks (else the one
    throttled most), named by its account when accounts are told apart. The time is UTC,
    as in the headless transition lines.
    """
    pushed = [s for s in states if s.throttled or s.backoff_seconds > 0 or s.throttle_count]
    if not pushed:
        return None
    state = max(pushed, key=lambda s: (s.backoff_seconds, s.throttle_count))
    text = "throttled"
    if state.throttle_count:
        text += f" ×{state.throttle_count}"
    if state.accounts and len(states) > 1:
        text += f" ({short_group_name(state, states)})"
    if state.throttled_since is not None:
        text += f" since {state.throttled_since.astimezone(UTC):%H:%M:%S}"
    if state.backoff_seconds > 0:
        text += f", backing off {format_duration(max(1.0, state.backoff_seconds))}"
    return text


def short_group_name(state: EndpointState, states: Sequence[EndpointState]) -> str:
    """The account's label, with the endpoint's host when several endpoints are watched."""
    label = one_line(", ".join(state.accounts), 60)
    if len({s.endpoint for s in states}) > 1 or not label:
        host = urlsplit(state.endpoint).netloc or state.endpoint
        label = f"{label} at {host}" if label else host
    return label
