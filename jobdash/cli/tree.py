"""Rich rendering of jobs for the headless commands. API text always goes in as plain Text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from rich.console import Group
from rich.text import Text
from rich.tree import Tree

from jobdash.api.catalog import lookup
from jobdash.api.errors import ApiError
from jobdash.api.model import Job, SubJob, status_icon
from jobdash.api.server import ServerInfo
from jobdash.text.format import progress_text, timing_phrase
from jobdash.text.safe import one_line
from jobdash.text.statuses import DEFAULT_PALETTE, status_role
from jobdash.watch.history import STALLED_TEXT


def status_text(status: str | None) -> Text:
    """`✓ SUCCESS`, coloured as the dashboard colours it (`jobdash.text.statuses`)."""
    return Text(
        f"{status_icon(status)} {one_line(status or '?', 20)}",
        style=DEFAULT_PALETTE.style(status_role(status)),
    )


def timing_text(item: Job | SubJob, now: datetime) -> str:
    return timing_phrase(item, now, running_word="elapsed")


def job_label(
    job: Job, now: datetime, *, label: str | None = None, note: str | None = None
) -> Text:
    text = status_text(job.status)
    if job.service_status and job.service_status != job.status:
        text.append(f" ({one_line(job.service_status, 30)})", style="dim")
    text.append("  ")
    text.append(one_line(job.job_type or "job", 40), style="bold")
    text.append("  ")
    text.append(one_line(job.job_id or "", 64), style="dim")
    if label:
        text.append(f"  «{one_line(label, 40)}»", style="italic")
    progress = progress_text(job, running=True)
    if progress:
        text.append("  ")
        text.append_text(progress)
    elif job.progress is not None and not job.is_terminal:
        text.append(f"  {job.progress:.0f}%")
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


def server_text(info: ServerInfo) -> Text:
    """`server web-0003 ERROR (fault 500: No valid host...)`, or `server gone`."""
    kind = one_line(info.kind, 16)
    if info.gone:
        return Text(f"  {kind} gone (rolled back or deleted)", style="magenta")
    text = Text(f"  {kind} ", style="dim")
    text.append(one_line(info.name or info.server_id, 64), style="bold")
    text.append(f" {one_line(info.status or '?', 20)}", style="magenta")
    server = info.server
    if server is not None and (server.fault_code or server.fault_message):
        fault = " ".join(one_line(v, 160) for v in (server.fault_code, server.fault_message) if v)
        text.append(f" (fault {fault})" if info.kind == "server" else f" ({fault})")
    return text


def sub_job_label(sub: SubJob, now: datetime, server: ServerInfo | None = None) -> Text:
    text = status_text(sub.status)
    text.append("  ")
    text.append(one_line(sub.job_type or "sub-job", 40))
    resource = sub.resource_id
    if resource:
        text.append(f"  {one_line(sub.resource_kind, 16)} {one_line(resource, 64)}", style="dim")
    timing = timing_text(sub, now)
    if timing:
        text.append(f"  {timing}", style="dim")
    if sub.error_code:
        text.append(f"  {one_line(sub.error_code, 30)}", style="red")
    reason = sub.fail_reason or sub.errorcode_message
    if reason and sub.failed:
        text.append(f"  {one_line(reason, 160)}")
    if server is not None and sub.failed:
        text.append_text(server_text(server))
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


def job_tree(
    job: Job,
    now: datetime,
    *,
    label: str | None = None,
    note: str | None = None,
    server_for: Callable[[SubJob], ServerInfo | None] | None = None,
    estimate: str = "",
    resource: ServerInfo | None = None,
) -> Tree:
    head = job_label(job, now, label=label, note=note)
    if estimate:
        head.append(f"  {estimate}", style="yellow" if estimate == STALLED_TEXT else "dim")
    tree = Tree(head, guide_style="dim")
    if resource is not None and job.failed:
        # A job without sub-jobs (an RDS instance's): what its failure left of the resource.
        tree.add(server_text(resource))
    for sub in job.sub_jobs:
        tree.add(sub_job_label(sub, now, server_for(sub) if server_for else None))
    if job.failed and job.sub_jobs:
        summary = tree.add(Text("failures by error code", style="bold red"))
        for line in failure_summary_lines(job):
            summary.add(line)
    return tree


#: Rich's tree guides (space, continue, fork, end), Unicode and ASCII.
_GUIDES = ("    ", "│   ", "├── ", "└── ")
_ASCII_GUIDES = ("    ", "|   ", "+-- ", "`-- ")


def plain_lines(renderable: Text | Tree | Group, *, ascii_only: bool = False) -> Iterator[str]:
    """The lines Rich prints for `renderable` without colour and without wrapping, made
    without Rich's layout pass: into a pipe, 300 job trees print in a tenth of the time."""
    if isinstance(renderable, Text):
        yield from renderable.plain.split("\n")
    elif isinstance(renderable, Group):
        for part in renderable.renderables:
            yield from plain_lines(part, ascii_only=ascii_only)  # type: ignore[arg-type]
    elif isinstance(renderable, Tree):
        yield from _tree_lines(renderable, "", "", _ASCII_GUIDES if ascii_only else _GUIDES)
    else:
        raise TypeError(f"no plain form for {type(renderable).__name__}")


def _tree_lines(tree: Tree, first: str, rest: str, guides: tuple[str, ...]) -> Iterator[str]:
    label = tree.label
    if not isinstance(label, Text):
        raise TypeError(f"no plain form for a tree label of {type(label).__name__}")
    for index, line in enumerate(label.plain.split("\n")):
        yield (rest if index else first) + line
    space, cont, fork, end = guides
    children = tree.children if tree.expanded else []
    for index, child in enumerate(children):
        last = index == len(children) - 1
        yield from _tree_lines(
            child, rest + (end if last else fork), rest + (space if last else cont), guides
        )
