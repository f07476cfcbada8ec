"""Rich rendering of jobs for the headless commands. API text always goes in as plain Text."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from rich.tree import Tree

from jobdash.api.errors import ApiError
from jobdash.api.model import Job, JobStatus, SubJob, status_icon, timing_phrase
from jobdash.catalog import lookup
from jobdash.statuses import DEFAULT_PALETTE, status_role
from jobdash.textsafe import one_line


def status_text(status: str | None) -> Text:
    """`✓ SUCCESS`, coloured as the dashboard colours it (`jobdash.statuses`)."""
    return Text(
        f"{status_icon(status)} {one_line(status or '?', 20)}",
        style=DEFAULT_PALETTE.style(status_role(status)),
    )


def format_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


def progress_text(job: Job) -> Text:
    """`14/20 ✓12 ✗2` for a job with sub-jobs; empty otherwise."""
    total = job.total_sub_jobs
    if not total:
        return Text()
    counts = job.status_counts()
    text = Text(f"{job.finished_sub_jobs}/{total}")
    if counts.get(JobStatus.SUCCESS):
        text.append(f" ✓{counts[JobStatus.SUCCESS]}", style=DEFAULT_PALETTE.success)
    if counts.get(JobStatus.FAIL):
        text.append(f" ✗{counts[JobStatus.FAIL]}", style=DEFAULT_PALETTE.error)
    running = counts.get(JobStatus.RUNNING, 0) + counts.get(JobStatus.INIT, 0)
    if running:
        text.append(f" ●{running}", style=DEFAULT_PALETTE.accent)
    return text


def timing_text(item: Job | SubJob, now: datetime) -> str:
    return timing_phrase(item, now, running_word="elapsed")


def job_label(
    job: Job, now: datetime, *, label: str | None = None, note: str | None = None
) -> Text:
    text = status_text(job.status)
    text.append("  ")
    text.append(one_line(job.job_type or "job", 40), style="bold")
    text.append("  ")
    text.append(one_line(job.job_id or "", 64), style="dim")
    if label:
        text.append(f"  «{one_line(label, 40)}»", style="italic")
    progress = progress_text(job)
    if progress:
        text.append("  ")
        text.append_text(progress)
    timing = timing_text(job, now)
    if timing:
        text.append(f"  {timing}", style="dim")
    if job.failed and job.error_code and not job.sub_jobs:
        text.append(f"  {one_line(job.error_code, 30)}", style="red")
    if job.failed and job.fail_reason and not job.sub_jobs:
        text.append(f"  {one_line(job.fail_reason, 160)}")
    if note:
        text.append(f"  [{note}]", style="magenta")
    return text


def sub_job_label(sub: SubJob, now: datetime) -> Text:
    text = status_text(sub.status)
    text.append("  ")
    text.append(one_line(sub.job_type or "sub-job", 40))
    resource = sub.resource_id
    if resource:
        kind = "nic" if sub.nic_id and not sub.server_id else "server"
        text.append(f"  {kind} {one_line(resource, 64)}", style="dim")
    timing = timing_text(sub, now)
    if timing:
        text.append(f"  {timing}", style="dim")
    if sub.error_code:
        text.append(f"  {one_line(sub.error_code, 30)}", style="red")
    reason = sub.fail_reason or sub.errorcode_message
    if reason and sub.failed:
        text.append(f"  {one_line(reason, 160)}")
    return text


def error_label(job_id: str, error: ApiError, *, retrying: bool = False) -> Text:
    style = "yellow" if retrying else "red"
    text = Text(f"{'…' if retrying else '!'} {one_line(job_id, 64)}  ", style=f"bold {style}")
    text.append(f"{error.kind}{', retrying' if retrying else ''}: ", style=style)
    text.append(one_line(error.message, 240))
    return text


def failure_summary_lines(job: Job) -> list[Text]:
    """One line per error code with its count, meaning and hint (from the catalogue when known)."""
    lines = []
    for code, count, reason in job.failure_summary():
        info = lookup(code)
        line = Text(f"✗ {one_line(code, 30)} × {count}: ", style="red")
        if info is not None:
            line.append(one_line(info.meaning, 200))
            line.append(f"  → {one_line(info.hint, 200)}", style="dim")
        else:
            line.append(one_line(reason or "no reason given", 200))
        lines.append(line)
    return lines


def job_tree(job: Job, now: datetime, *, label: str | None = None, note: str | None = None) -> Tree:
    tree = Tree(job_label(job, now, label=label, note=note), guide_style="dim")
    for sub in job.sub_jobs:
        tree.add(sub_job_label(sub, now))
    if job.failed and job.sub_jobs:
        summary = tree.add(Text("failures by error code", style="bold red"))
        for line in failure_summary_lines(job):
            summary.add(line)
    return tree
