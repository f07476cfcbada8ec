"""The dashboard's output actions: copying an id, exporting a job's failures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from jobdash.text.safe import one_line, without_controls
from jobdash.tui.screens.export import ExportScreen
from jobdash.tui.view import SubJobRow
from jobdash.watch.export import FORMATS, default_path, failed_items, write_export
from jobdash.watch.servers import failed_servers

if TYPE_CHECKING:
    from jobdash.tui.screens.dashboard import DashboardScreen


def copy_selected_id(screen: DashboardScreen) -> None:
    """`c`: the selected job's or sub-job's id to the clipboard (OSC 52), and in a toast."""
    selected = screen.job_tree.selected
    if selected is None:
        screen.nothing_selected()
        return
    sub = screen.job_tree.sub_job(selected)
    if isinstance(selected, SubJobRow):
        value = (sub.job_id or sub.resource_id) if sub is not None else None
    else:
        value = selected.key.job_id
    if not value:
        screen.notify("This sub-job has no id.", severity="warning")
        return
    screen.app.copy_to_clipboard(without_controls(value))
    # The copy travels as an OSC 52 sequence; whether it lands depends on the terminal,
    # so the toast also shows the value to select by hand.
    screen.notify(
        f"Sent to the clipboard: {one_line(value, 70)}\n"
        "(terminals without OSC 52 support ignore this)",
        title="Copy",
        timeout=5,
        markup=False,
    )


def failed_server_list(screen: DashboardScreen, *, names: bool) -> tuple[list[str], int]:
    """The selected job's failed servers, one a line: ids, or names where known (else the
    id); with how many names were not known."""
    selected = screen.job_tree.selected
    if selected is None:
        return [], 0
    servers = screen.watchlist.servers
    values: list[str] = []
    unnamed = 0
    for sub in failed_servers(screen.watchlist.job(selected.key)):
        assert sub.server_id is not None
        info = servers.get(selected.key, sub.server_id)
        name = info.name if names and info is not None else None
        if names and not name:
            unnamed += 1
        values.append(without_controls(name or sub.server_id))
    return list(dict.fromkeys(values)), unnamed


def copy_failed_servers(screen: DashboardScreen, *, names: bool) -> None:
    """`C` / `Y`: every failed server of the selected job, one a line, ready for a script."""
    if screen.job_tree.selected is None:
        screen.nothing_selected()
        return
    values, unnamed = failed_server_list(screen, names=names)
    if not values:
        screen.notify("The selected job has no failed servers.", severity="warning")
        return
    screen.app.copy_to_clipboard("\n".join(values) + "\n")
    what = "names" if names else "ids"
    note = f" ({unnamed} names not known yet: their ids instead)" if unnamed else ""
    preview = ", ".join(one_line(value, 40) for value in values[:3])
    more = f", … ({len(values)} in all)" if len(values) > 3 else ""
    screen.notify(
        f"Sent {len(values)} failed server {what} to the clipboard{note}: {preview}{more}",
        title="Copy",
        timeout=6,
        markup=False,
    )


def export_failed(screen: DashboardScreen) -> None:
    """`x`: the failed sub-jobs of the selected job to a CSV, JSON or Markdown file."""
    selected = screen.job_tree.selected
    if selected is None:
        screen.nothing_selected()
        return
    job = screen.watchlist.job(selected.key)
    if job is None or not failed_items(job):
        screen.notify("The selected job has no failed sub-jobs to export.", severity="warning")
        return
    now = screen.clock()
    paths = {fmt: default_path(job, fmt, now, screen.context.export_dir) for fmt in FORMATS}
    summary = Text(f"{len(failed_items(job))} failed sub-jobs of job ")
    summary.append(selected.key.job_id, style="bold")

    def chosen(choice: tuple[str, Path] | None) -> None:
        if choice is None:
            return
        fmt, path = choice
        try:
            servers = screen.watchlist.servers
            written = write_export(
                job, fmt, path, lambda server_id: servers.get(selected.key, server_id)
            )
        except FileExistsError:
            screen.notify(
                f"{path} exists already; choose another name.", severity="error", markup=False
            )
            return
        except (OSError, ValueError) as exc:
            screen.report("Could not write the export", exc)
            return
        screen.last_export = written
        screen.notify(f"Wrote {written}", title="Exported", timeout=10, markup=False)

    screen.app.push_screen(ExportScreen(summary, paths), chosen)
