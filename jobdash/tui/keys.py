"""Every dashboard command in one table: key bindings, the help screen and the command
palette are all generated from it, so they cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True, slots=True)
class Command:
    key: str
    action: str
    #: Short text for the footer.
    description: str
    #: The name in the command palette.
    title: str
    #: One sentence for the help screen and the command palette.
    help: str
    show: bool = True
    key_display: str | None = None

    @property
    def shown_key(self) -> str:
        return self.key_display or self.key


def _c(key: str, action: str, description: str, title: str, help: str, **kw: object) -> Command:
    return Command(key, action, description, title, help, **kw)  # type: ignore[arg-type]


COMMANDS: tuple[Command, ...] = (
    _c("question_mark", "help", "Help", "Help", "List every key binding.", key_display="?"),
    _c(
        "a",
        "add_jobs",
        "Add",
        "Add job ids",
        "Paste ids, a list, or a create-servers JSON response; invalid ids are reported.",
    ),
    _c(
        "d",
        "remove_job",
        "Remove",
        "Remove the selected job",
        "Stop watching the selected job (asks first).",
    ),
    _c(
        "l",
        "set_label",
        "Label",
        "Set a label",
        "Set or clear the label of the selected job.",
        show=False,
    ),
    _c("r", "refresh_selected", "Refresh", "Refresh the selected job", "Fetch it now."),
    _c(
        "R",
        "refresh_all",
        "Refresh all",
        "Refresh all jobs",
        "Fetch every watched job now, finished ones included.",
        show=False,
    ),
    _c(
        "p",
        "toggle_pause",
        "Pause",
        "Pause or resume polling",
        "Stop or restart the automatic refresh; manual refreshes still work.",
        # Left out of the footer so every shown key fits 80 columns; the header shows the state.
        show=False,
    ),
    _c(
        "f",
        "toggle_failed_only",
        "Failed",
        "Show failed only",
        "Show only jobs with failures and their failed sub-jobs; again to show all.",
    ),
    _c(
        "o",
        "cycle_sort",
        "Sort",
        "Change the order",
        "Cycle the order of jobs: watchlist order, failed first, most recent first, longest "
        "running first (remembered).",
        show=False,
    ),
    _c(
        "slash",
        "filter",
        "Filter",
        "Filter by text",
        "Match job id, type, label, server id or error code.",
        key_display="/",
    ),
    _c(
        "n",
        "next_failed",
        "Next fail",
        "Next failed sub-job",
        "Move the cursor to the next failure.",
    ),
    _c(
        "N",
        "previous_failed",
        "Prev fail",
        "Previous failed sub-job",
        "Move the cursor to the previous failure.",
        show=False,
    ),
    _c(
        "c",
        "copy_id",
        "Copy id",
        "Copy the selected id",
        "Copy the id of what the row shows: the job's; on a sub-job's row its server's "
        "(or volume's, nic's), else the sub-job's.",
        show=False,
    ),
    _c(
        "C",
        "copy_failed_servers",
        "Copy failed",
        "Copy the failed servers' ids",
        "Copy the ids of every failed server of the selected job, one a line.",
        show=False,
    ),
    _c(
        "Y",
        "copy_failed_servers(True)",
        "Copy names",
        "Copy the failed servers' names",
        "Copy the names of every failed server of the selected job, one a line (ids where "
        "a name is not known yet).",
        show=False,
    ),
    _c(
        "x",
        "export_failed",
        "Export",
        "Export failed sub-jobs",
        "Write the failed sub-jobs of the selected job to a CSV, JSON or Markdown file.",
    ),
    _c(
        "s",
        "server_details",
        "Server",
        "Fetch the server's details",
        "Fetch the server behind the selected sub-job now (failed ones are fetched by "
        "themselves): name, status, fault, flavor.",
        show=False,
    ),
    _c(
        "t",
        "timeline",
        "Timeline",
        "Show the timeline",
        "The selected job's sub-jobs on one time axis, bars in status colours; running "
        "ones grow live.",
        show=False,
    ),
    _c(
        "j",
        "toggle_raw",
        "JSON",
        "Toggle raw JSON",
        "Show the selection's JSON as the API sent it, or the fields.",
        show=False,
    ),
    _c(
        "w",
        "cycle_split",
        "Split",
        "Change the split",
        "Share the width between the tree and the details: the tree as wide as its jobs "
        "need, the tree alone, or wide details.",
        show=False,
    ),
    _c(
        "z",
        "toggle_collapse_done",
        "Fold done",
        "Fold finished jobs",
        "Collapse or expand the jobs that finished successfully.",
        show=False,
    ),
    _c(
        "escape",
        "clear_filter",
        "Clear filter",
        "Clear the filter",
        "Show every job again (text filter and failed-only); in a dialog: close it.",
        show=False,
    ),
    _c(
        "D",
        "app.toggle_discovery",
        "Discover",
        "Discover recent jobs",
        "Every few minutes, watch the jobs the connection started lately that RDS, CCE, CBR "
        "and ELB list; again to stop.",
        show=False,
    ),
    _c("q", "app.quit", "Quit", "Quit", "Leave the dashboard."),
)

#: Keys the tree handles itself; listed on the help screen.
NAVIGATION: tuple[tuple[str, str], ...] = (
    ("↑ ↓", "Move the cursor"),
    ("enter / space", "Expand or collapse the job"),
    ("shift+↑ shift+↓", "Previous / next sibling"),
    ("shift+←", "Go to the parent job"),
    ("tab", "Move between the tree and the details"),
    ("ctrl+p", "Command palette: every action by name"),
)


def bindings() -> list[Binding]:
    return [
        Binding(c.key, c.action, c.description, show=c.show, key_display=c.key_display)
        for c in COMMANDS
    ]
