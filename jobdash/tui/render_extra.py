"""Detail-panel sections beyond the API's answer: the server behind a sub-job (or another
service's resource behind a failed job), and what history says about a running job. Pure: Rich renderables from core values."""

from __future__ import annotations

from datetime import datetime

from rich.console import RenderableType
from rich.text import Text

from jobdash.api.server import ServerInfo, status_meaning
from jobdash.text.format import ago, moment
from jobdash.text.safe import one_line, printable
from jobdash.text.statuses import Palette, Role
from jobdash.tui.render_details import _Fields as Fields
from jobdash.watch.history import Estimate, remaining_text

SERVER_HEADING = "Server"
#: Server statuses shown in the error colour; the others are muted or plain.
_BAD_STATUSES = frozenset({"ERROR", "GONE", "DELETED", "UNKNOWN"})


def server_section(
    info: ServerInfo | None,
    now: datetime,
    palette: Palette,
    *,
    width: int | None = None,
    pending: bool = False,
    error: str | None = None,
    can_ask: bool = True,
    kind: str = "server",
) -> list[RenderableType]:
    """The server block of a sub-job's details (or the `kind` of resource another service's
    job names); empty when there is nothing to say."""
    kind = one_line(info.kind if info is not None else kind, 16)
    heading = Text(SERVER_HEADING if kind == "server" else kind.capitalize(), style="bold")
    if info is None:
        if pending:
            return [heading, Text(f"Fetching the {kind}'s details…", style=palette.muted)]
        if error:
            line = Text(f"Could not fetch the {kind}: ", style=palette.error)
            line.append(printable(error))
            return [heading, line, Text("s tries again.", style=palette.muted)]
        if can_ask:
            return [heading, Text("Not fetched: s fetches its details.", style=palette.muted)]
        return []
    status = info.status or "?"
    status_cell = Text(
        one_line(status, 30),
        style=palette.style(Role.ERROR if status in _BAD_STATUSES else Role.ACCENT),
    )
    meaning = status_meaning(status) if kind == "server" or info.gone else None
    if meaning:
        status_cell.append(f"  {meaning}", style=palette.muted)
    fields = Fields(palette, width=width)
    if info.gone:
        fields.add(f"{kind}_id", info.server_id)
        fields.add("status", status_cell)
    elif kind != "server":
        assert info.server is not None
        fields.add("name", info.server.name)
        fields.add(f"{kind}_id", info.server_id)
        fields.add("status", status_cell)
        if info.server.fault_message:
            fields.add("message", info.server.fault_message, multiline=True)
    else:
        server = info.server
        assert server is not None
        fields.add("name", server.name)
        fields.add("server_id", info.server_id)
        fields.add("status", status_cell)
        if server.vm_state or server.task_state:
            fields.add("vm / task", f"{server.vm_state or '-'} / {server.task_state or '-'}")
        if server.fault_code or server.fault_message:
            fields.add(
                "fault",
                Text(one_line(server.fault_code or "-", 20), style=palette.error)
                + Text(f"  {printable(server.fault_message or '')}"),
            )
            if server.fault_details:
                fields.add("fault details", server.fault_details, multiline=True)
        fields.add("flavor", server.flavor)
        fields.add("created", moment(server.created, millis=True))
        fields.add("updated", moment(server.updated, millis=True))
    fields.add("fetched", f"{moment(info.fetched_at, millis=True)} ({ago(info.fetched_at, now)})")
    return [heading, fields.renderable]


def estimate_line(estimate: Estimate | None, job_type: str | None, palette: Palette) -> list[Text]:
    """`Estimate: ~3m left (median of 12 finished createServer jobs)` or the stall warning."""
    if estimate is None:
        return []
    kind = one_line(job_type or "job", 40)
    if estimate.stalled:
        line = Text("Stalled? ", style=palette.warning)
        line.append(printable(estimate.reason or ""))
        return [line]
    text = remaining_text(estimate)
    if text:
        line = Text("Estimate: ", style=palette.accent)
        line.append(text)
        line.append(f"  (from {estimate.samples} finished {kind} jobs)", style=palette.muted)
        return [line]
    if estimate.samples and estimate.remaining is None:
        return [Text(f"Running longer than the median {kind} job.", style=palette.muted)]
    return []
