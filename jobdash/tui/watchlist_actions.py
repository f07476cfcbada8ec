"""The dashboard's watchlist actions: adding ids, removing a job, labelling it.

Each asks with a dialog, then changes the watchlist in a worker: the store is written on
its own thread and awaited, never on the event loop.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text

from jobdash.connections.groups import add_target, connection_label
from jobdash.text.safe import one_line
from jobdash.tui.screens.add import AddJobsScreen, AddRequest
from jobdash.tui.screens.confirm import ConfirmScreen
from jobdash.tui.screens.label import LabelScreen
from jobdash.tui.view import JobRow
from jobdash.watch.values import WatchEntry, WatchKey

if TYPE_CHECKING:
    from jobdash.tui.screens.dashboard import DashboardScreen


def ask_for_ids(screen: DashboardScreen) -> None:
    """`a`: the add dialog, for the connection new ids go to."""
    target = _add_target(screen)
    if target is None:
        return
    watched = frozenset(key.job_id for key in screen.watchlist.entries)
    # Which connection is worth saying only when there are several.
    several = len(screen.watchlist.tally.group_labels) > 1
    dialog = AddJobsScreen(watched, connection_label(target) if several else "")
    screen.app.push_screen(dialog, partial(_add_requested, screen, target))


def _add_target(screen: DashboardScreen) -> WatchEntry | None:
    """The connection new ids go to; None (after saying why) when that is ambiguous."""
    tree, context = screen.job_tree, screen.context
    own = context.connection
    if own is None and context.endpoint and context.project_id:
        key = WatchKey(context.endpoint, context.project_id, "")
        own = WatchEntry(key, profile=context.profile)
    selected = tree.selected
    target, problem = add_target(
        screen.watchlist.entries.get(selected.key) if selected is not None else None,
        own,
        screen.watchlist.entries.values(),
        group=tree.selected_group,
    )
    if problem:
        screen.notify(problem, severity="error")
    return target


def _add_requested(screen: DashboardScreen, target: WatchEntry, request: AddRequest | None) -> None:
    if request is None or not request.ids:
        return
    entries = [
        replace(
            target,
            key=replace(target.key, job_id=job_id),
            label=request.label,
            added_at=None,
        )
        for job_id in request.ids
    ]
    screen.run_worker(_add(screen, entries, request), name="Adding to the watchlist")


async def _add(screen: DashboardScreen, entries: list[WatchEntry], request: AddRequest) -> None:
    added = await screen.watchlist.add(entries)
    screen.entries_changed()
    count = len(added.entries)
    message = f"Added {count} job{'s' if count != 1 else ''}."
    if added.duplicates:
        message += f" {len(added.duplicates)} already watched."
    if request.skipped:
        message += f" Skipped {len(request.skipped)} invalid: " + "; ".join(
            one_line(value, 24) for value, _reason in request.skipped[:3]
        )
    screen.notify(message, title="Watchlist", markup=False)
    if added.entries:
        screen.job_tree.go_to(JobRow(added.entries[0].key))


def confirm_removal(screen: DashboardScreen, key: WatchKey) -> None:
    """`d`: ask, then stop watching the job."""
    entry = screen.watchlist.entries.get(key)
    question = Text("Stop watching job ")
    question.append(key.job_id, style="bold")
    if entry is not None and entry.label:
        question.append(f" «{one_line(entry.label, 40)}»")
    question.append("?\nIts last snapshot is removed from the watchlist too.")

    def answered(yes: bool | None) -> None:
        if yes:
            screen.run_worker(_remove(screen, key), name="Removing from the watchlist")

    screen.app.push_screen(ConfirmScreen(question, yes="Remove"), answered)


async def _remove(screen: DashboardScreen, key: WatchKey) -> None:
    short = screen.watchlist.short_id(key)
    await screen.watchlist.remove([key])
    screen.entries_changed()
    screen.notify(f"Removed {short} from the watchlist.", markup=False)


def ask_for_label(screen: DashboardScreen, key: WatchKey) -> None:
    """`l`: set or clear the job's label."""
    entry = screen.watchlist.entries.get(key)

    def chosen(label: str | None) -> None:
        if label is not None:
            screen.run_worker(_set_label(screen, key, label), name="Saving the label")

    screen.app.push_screen(LabelScreen(key.job_id, entry.label if entry else None), chosen)


async def _set_label(screen: DashboardScreen, key: WatchKey, label: str) -> None:
    await screen.watchlist.set_label(key, label or None)
    screen.job_tree.update_job(key)
    screen.refresh_details()
