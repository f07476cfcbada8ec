"""The detail panel's content: every field of a job or sub-job, the error code's meaning,
the failure summary, or the raw JSON. Pure: Rich renderables from model data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.highlighter import JSONHighlighter
from rich.table import Table
from rich.text import Text

from jobdash.api.model import Job, JobStatus, SubJob, status_icon
from jobdash.services.registry import DEFAULT_SERVICE
from jobdash.services.registry import service as lookup_service
from jobdash.text.format import ago, format_duration, moment
from jobdash.text.jsonsafe import json_text
from jobdash.text.safe import one_line, printable
from jobdash.text.statuses import DEFAULT_PALETTE, Palette, status_role
from jobdash.tui.render import timing
from jobdash.tui.render_failures import (
    Lookup,
    already_said,
    code_meaning,
    failure_summary,
    readable_reason,
    reason_cell,
)
from jobdash.watch.values import Snapshot, WatchEntry

ENTITY_FIELDS_SHOWN_ELSEWHERE = frozenset({"sub_jobs", "sub_jobs_total", "errorcode_message"})


def _value(value: object, *, multiline: bool = False) -> Text:
    if value is None or value == "":
        return Text("-")
    if not isinstance(value, str):
        value = json_text(value, sort_keys=True, escape_controls=False)
    return Text(printable(value, keep_newlines=multiline))


#: Columns between a field's name and its value.
NAME_GAP = 2
#: Narrower value columns than this list fields as `name: value` lines instead.
MIN_VALUE_WIDTH = 20


class _Fields:
    """Field names and values, always `Text`, never markup.

    Without a `width` (the panel's size is not known yet) a two-column grid folds what does
    not fit. With one, a value that is a single word (an id, a URL) and does not fit next to
    its name goes on its own line, so ids are never cut in the middle; when even the value
    column is too narrow, fields are listed as `name: value` lines, and a value that does
    not fit after its name starts the next line.
    """

    def __init__(self, palette: Palette, *, width: int | None = None) -> None:
        self.palette = palette
        self.width = width
        self.rows: list[tuple[str, Text]] = []

    def add(self, name: str, value: Text | object, *, multiline: bool = False) -> None:
        cell = value if isinstance(value, Text) else _value(value, multiline=multiline)
        self.rows.append((name, cell))

    @property
    def renderable(self) -> RenderableType:
        if not self.rows:
            return Group()
        name_width = max(cell_len(name) for name, _ in self.rows)
        if self.width is None:
            table = self._grid(name_width)
            for name, cell in self.rows:
                table.add_row(name, cell)
            return table
        if self.width - name_width - NAME_GAP < MIN_VALUE_WIDTH:
            return Group(*self._lines())
        return Group(*self._blocks(name_width, self.width - name_width - NAME_GAP))

    def _grid(self, name_width: int) -> Table:
        table = Table.grid(padding=(0, NAME_GAP))
        table.add_column(style=self.palette.muted, no_wrap=True, width=name_width)
        table.add_column(overflow="fold")
        return table

    def _blocks(self, name_width: int, value_width: int) -> list[RenderableType]:
        """Grids of the rows that fit, broken by rows whose value gets a line of its own."""
        blocks: list[RenderableType] = []
        table: Table | None = None
        for name, cell in self.rows:
            if _is_one_word(cell) and cell.cell_len > value_width:
                if table is not None:
                    blocks.append(table)
                    table = None
                blocks.append(Text(name, style=self.palette.muted))
                blocks.append(self._own_line(cell))
                continue
            if table is None:
                table = self._grid(name_width)
            table.add_row(name, cell)
        if table is not None:
            blocks.append(table)
        return blocks

    def _lines(self) -> list[Text]:
        assert self.width is not None
        lines: list[Text] = []
        for name, cell in self.rows:
            line = Text(f"{name}: ", style=self.palette.muted)
            # A value that fits a line of its own (a time, an id) is not broken after its name.
            fits_alone = "\n" not in cell.plain and cell.cell_len + NAME_GAP <= self.width
            too_long = line.cell_len + cell.cell_len > self.width
            if too_long and (fits_alone or _is_one_word(cell)):
                lines.append(line)
                lines.append(self._own_line(cell))
                continue
            line.append_text(cell)
            line.overflow = "fold"
            lines.append(line)
        return lines

    def _own_line(self, cell: Text) -> Text:
        """The value indented under its name, or from the left edge if that is what fits."""
        assert self.width is not None
        indent = max(0, min(NAME_GAP, self.width - cell.cell_len))
        line = Text(" " * indent)
        line.append_text(cell)
        line.overflow = "fold"
        return line


def _is_one_word(cell: Text) -> bool:
    return bool(cell.plain) and not any(ch.isspace() for ch in cell.plain)


def _status_cell(status: str, palette: Palette) -> Text:
    return Text(
        f"{status_icon(status)} {one_line(status, 40)}", style=palette.style(status_role(status))
    )


def _duration_cell(item: Job | SubJob, now: datetime) -> str:
    seconds = item.duration(now)
    if seconds is None:
        return "-"
    if item.end_time is None:
        return f"{format_duration(seconds)} so far"
    return format_duration(seconds)


def _add_entities(fields: _Fields, entities: Mapping[str, Any]) -> None:
    for name, value in entities.items():
        if name in ENTITY_FIELDS_SHOWN_ELSEWHERE:
            continue
        fields.add(one_line(name, 30), value)


def job_details(
    entry: WatchEntry,
    snapshot: Snapshot | None,
    now: datetime,
    *,
    lookup: Lookup | None = None,
    palette: Palette = DEFAULT_PALETTE,
    width: int | None = None,
    cloud_now: datetime | None = None,
    extra: Iterable[RenderableType] = (),
) -> RenderableType:
    """Everything about a watched job. `width`: the columns the text may use (the fields are
    laid out to keep ids whole), None when not known yet. `now` is our clock (for the age of
    the snapshot), `cloud_now` the endpoint's (for the job's own times), if it differs.
    `extra`: sections after the title (an estimate)."""
    head = job_head(
        entry,
        snapshot,
        now,
        palette=palette,
        width=width,
        cloud_now=cloud_now,
        extra=extra,
    )
    job = snapshot.job if snapshot else None
    if job is None:
        return head
    return Group(head, job_summary(job, lookup=lookup, palette=palette))


def job_head(
    entry: WatchEntry,
    snapshot: Snapshot | None,
    now: datetime,
    *,
    palette: Palette = DEFAULT_PALETTE,
    width: int | None = None,
    cloud_now: datetime | None = None,
    extra: Iterable[RenderableType] = (),
) -> RenderableType:
    """The part of `job_details` that moves with the clock and with each fetch: the title,
    problems, `extra`, and the fields (durations, the snapshot's age)."""
    key = entry.key
    job = snapshot.job if snapshot else None
    parts: list[RenderableType] = []
    title = Text()
    if job is not None:
        title.append_text(_status_cell(job.status, palette))
        title.append(f"  {one_line(job.job_type or 'job', 60)}", style="bold")
    else:
        title.append("Job (no snapshot yet)", style="bold")
    parts.append(title)
    parts.extend(_problem_lines(snapshot, now, palette))
    parts.extend(extra)

    fields = _Fields(palette, width=width)
    fields.add("job_id", key.job_id)
    if entry.label:
        fields.add("label", entry.label)
    if key.service != DEFAULT_SERVICE:
        fields.add("service", lookup_service(key.service).title)
    if job is not None:
        status = _status_cell(job.status, palette)
        if job.service_status and job.service_status != job.status:
            status.append(f" ({one_line(job.service_status, 40)})", style=palette.muted)
        fields.add("status", status)
        if job.progress is not None:
            fields.add("progress", f"{job.progress:.0f}%")
        if job.resource_id or job.resource_name:
            named = " ".join(
                one_line(part, 80)
                for part in (job.resource_type, job.resource_name, job.resource_id)
                if part
            )
            fields.add("resource", named)
        fields.add("job_type", job.job_type)
        fields.add("begin_time", moment(job.begin_time, millis=True))
        fields.add("end_time", moment(job.end_time, millis=True))
        fields.add("duration", _duration_cell(job, cloud_now or now))
        _add_entities(fields, job.entities)
        if job.sub_jobs_total is not None or job.sub_jobs:
            fields.add("sub_jobs_total", str(job.total_sub_jobs))
        fields.add(
            "error_code",
            Text(one_line(job.error_code), style=palette.error) if job.error_code else None,
        )
        fields.add("fail_reason", reason_cell(job.fail_reason, palette))
        if job.message or job.code:
            fields.add("message", job.message, multiline=True)
            fields.add("code", job.code)
    fields.add("endpoint", key.endpoint)
    fields.add("project_id", key.project_id)
    if snapshot is not None and snapshot.fetched_at is not None:
        fields.add(
            "fetched",
            f"{moment(snapshot.fetched_at, millis=True)} ({ago(snapshot.fetched_at, now)})",
        )
    parts.append(fields.renderable)
    return Group(*_spaced(parts))


def job_summary(
    job: Job, *, lookup: Lookup | None = None, palette: Palette = DEFAULT_PALETTE
) -> RenderableType:
    """The part of `job_details` that only the job's content moves (not the clock): its
    error code's meaning, its sub-jobs' counts and its failures by error code. For a job of
    hundreds of sub-jobs it is the costly part to lay out, so it is drawn on its own."""
    parts: list[RenderableType] = []
    said = [readable_reason(job.fail_reason), job.message or ""]
    parts.extend(code_meaning(job.error_code or job.code, lookup, palette, said))
    if job.sub_job_count:
        parts.append(Text("Sub-jobs", style="bold"))
        parts.append(_sub_job_counts(job, palette))
    if job.failed_sub_jobs or job.failed:
        parts.append(Text("Failures by error code", style="bold"))
        parts.append(failure_summary(job, lookup, palette))
    # It always follows the head (a title and the fields): each heading gets its blank line.
    return Group(*_spaced(parts, first_heading=0))


def _sub_job_counts(job: Job, palette: Palette) -> Text:
    counts = job.status_counts()
    text = Text(f"{job.finished_sub_jobs} of {job.total_sub_jobs} finished:")
    for status, number in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        text.append(
            f"  {status_icon(status)} {number} {one_line(status, 20)}",
            style=palette.style(status_role(status)),
        )
    return text


def _problem_lines(snapshot: Snapshot | None, now: datetime, palette: Palette) -> list[Text]:
    if snapshot is None:
        return [Text("Waiting for the first fetch.", style=palette.muted)]
    lines: list[Text] = []
    if snapshot.expired:
        lines.append(
            Text(
                "Expired: the cloud has deleted this finished job; showing the last snapshot.",
                style=palette.muted,
            )
        )
    if snapshot.error_kind:
        line = Text(
            f"Last fetch failed ({one_line(snapshot.error_kind, 30)}): ", style=palette.error
        )
        line.append(printable(snapshot.error_message or ""))
        if snapshot.job is not None:
            line.append(
                f"  Showing the snapshot from {ago(snapshot.fetched_at, now)}.", style=palette.muted
            )
        lines.append(line)
    return lines


def sub_job_details(
    entry: WatchEntry,
    sub: SubJob,
    now: datetime,
    *,
    lookup: Lookup | None = None,
    palette: Palette = DEFAULT_PALETTE,
    width: int | None = None,
    cloud_now: datetime | None = None,
    extra: Iterable[RenderableType] = (),
) -> RenderableType:
    """Everything about a sub-job and what its error code means; `width` and `cloud_now` as
    for `job_details`; `extra` (the server section) goes after the error code's meaning."""
    now = cloud_now or now
    parts: list[RenderableType] = []
    title = _status_cell(sub.status, palette)
    title.append(f"  {one_line(sub.job_type or 'sub-job', 60)}", style="bold")
    parts.append(title)
    fields = _Fields(palette, width=width)
    fields.add("status", _status_cell(sub.status, palette))
    fields.add("job_id", sub.job_id)
    fields.add("job_type", sub.job_type)
    fields.add("begin_time", moment(sub.begin_time, millis=True))
    fields.add("end_time", moment(sub.end_time, millis=True))
    fields.add("duration", _duration_cell(sub, now))
    _add_entities(fields, sub.entities)
    fields.add(
        "error_code",
        Text(one_line(sub.error_code), style=palette.error) if sub.error_code else None,
    )
    # ECS often repeats one message in all three places: each is shown once.
    reason = readable_reason(sub.fail_reason)
    fields.add("fail_reason", reason_cell(sub.fail_reason, palette))
    if not already_said(sub.errorcode_message, [reason]):
        fields.add("errorcode_message", sub.errorcode_message, multiline=True)
    fields.add("parent job", entry.key.job_id)
    if entry.label:
        fields.add("parent label", entry.label)
    parts.append(fields.renderable)
    parts.extend(
        code_meaning(sub.error_code, lookup, palette, [reason, sub.errorcode_message or ""])
    )
    parts.extend(extra)
    if sub.status == JobStatus.RUNNING:
        parts.append(Text(f"Running {timing(sub, now)}.", style=palette.muted))
    return Group(*_spaced(parts))


def raw_json(data: Any) -> Text:
    """The body as the API sent it, indented; control characters escaped, never interpreted."""
    if data is None:
        return Text("No response body yet.")
    # Depth-bounded and without recursion: a body nested hundreds of levels deep is cut.
    body = json_text(data, indent=2, escape_controls=False)
    text = Text(printable(body, keep_newlines=True))
    JSONHighlighter().highlight(text)
    return text


def _spaced(parts: Iterable[RenderableType], first_heading: int = 2) -> list[RenderableType]:
    """Blank line before each heading-like part from index `first_heading` on, so sections
    stand apart (the title and what follows it at once need none)."""
    result: list[RenderableType] = []
    for index, part in enumerate(parts):
        if index >= first_heading and isinstance(part, Text) and part.style == "bold":
            result.append(Text())
        result.append(part)
    return result
