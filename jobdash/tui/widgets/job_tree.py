"""The job tree: one row per watched job, its sub-jobs as children.

Rows hold keys only (`JobRow`, `SubJobRow`); labels are drawn from the watchlist. The
tree changes in place, keyed by job and sub-job key, so the cursor, the scroll position
and what is expanded all stay where they were, and the cost of a change is the rows it
touches:

- `show_jobs` reconciles the job rows with the filter's result (filter, sort or the set of
  entries changed);
- `update_job` redraws what an update says changed (`JobChanges`): the job's row, and
  the rows of the sub-jobs it names when the job is expanded; the tree keeps no copy of
  what it drew to compare with;
- sub-job rows exist only while their job is expanded;
- `tick` relabels the running rows that are on screen.

With jobs of more than one connection, each job row sits under its connection's row
(`cloud · region · project` and its counts), which collapses like any other row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets.tree import TreeNode

from jobdash.api.ids import keyed_sub_jobs
from jobdash.api.model import SubJob
from jobdash.connections.groups import Group
from jobdash.text.safe import one_line
from jobdash.text.statuses import Palette
from jobdash.tui.expansion import ExpansionPolicy, Move
from jobdash.tui.render import job_label, sub_job_label
from jobdash.tui.view import (
    Filter,
    GroupRow,
    JobChanges,
    JobRow,
    Row,
    SubJobRow,
    finished_ok,
    next_failure,
    rows_in_order,
    visible_sub_jobs,
)
from jobdash.tui.widgets.connection_rows import ConnectionRows
from jobdash.tui.widgets.steady_tree import SteadyTree
from jobdash.tui.widgets.themed import STATUS_COMPONENTS, theme_palette
from jobdash.watch.history import remaining_text
from jobdash.watch.values import WatchKey
from jobdash.watch.watchlist import Watchlist

JobTreeNode = TreeNode[Row | GroupRow]


class JobTree(SteadyTree[Row | GroupRow]):
    """Watched jobs and their sub-jobs. Renders from the watchlist; never fetches."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set(STATUS_COMPONENTS)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Expand/collapse", show=False),
    ]

    class Widened(Message):
        """The widest job or connection row changed: `width` columns show it whole."""

        def __init__(self, width: int) -> None:
            super().__init__()
            self.width = width

    def __init__(
        self,
        watchlist: Watchlist,
        current_filter: Callable[[], Filter],
        clock: Callable[[], datetime],
        *,
        cloud_now: Callable[[str, datetime], datetime] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__("jobs", id=id)
        self.show_root = False
        self.guide_depth = 3
        self.watchlist = watchlist
        self._filter = current_filter
        self._clock = clock
        #: An endpoint's time for ours: job times are the cloud's (`CloudClocks.now`).
        self._cloud_now = cloud_now or (lambda _endpoint, now: now)
        self._job_nodes: dict[WatchKey, JobTreeNode] = {}
        #: Connection rows, while jobs of several connections are watched.
        self.connections = ConnectionRows(watchlist, self._set_label)
        #: Sub-job rows of expanded jobs, by sub-job key.
        self._sub_nodes: dict[WatchKey, dict[str, JobTreeNode]] = {}
        #: Sub-job rows in the tree now (they exist only under open jobs).
        self._rows_open = 0
        self.expansion = ExpansionPolicy()
        #: Jobs opened only because a filter narrowed their sub-jobs.
        self._filter_expanded: set[WatchKey] = set()
        #: The jobs and order last asked for (`show_jobs`); rows are grouped by connection.
        self.requested: list[WatchKey] = []
        #: Rows relabelled since the tree was made: what an update cost.
        self.relabelled = 0
        #: The sub-jobs of the job last looked up, by key (the tick asks for many in a row).
        self._sub_index: tuple[object, dict[str, SubJob]] | None = None
        #: Cells the widest job or connection row needs, as last told (`Widened`).
        self._widest = 0

    # -- reading ---------------------------------------------------------------------------

    def job_node(self, key: WatchKey) -> JobTreeNode | None:
        return self._job_nodes.get(key)

    @property
    def selected(self) -> Row | None:
        node = self.cursor_or_target
        row = node.data if node is not None else None
        return None if isinstance(row, GroupRow) else row

    @property
    def selected_group(self) -> Group | None:
        """The connection whose row the cursor is on, if it is on one."""
        node = self.cursor_or_target
        row = node.data if node is not None else None
        return row.group if isinstance(row, GroupRow) else None

    def iter_nodes(self) -> Iterator[JobTreeNode]:
        """Every job row and sub-job row in display order, collapsed jobs included."""
        for job_node in self.connections.job_rows(self.root):
            yield job_node
            yield from job_node.children

    @property
    def shown_jobs(self) -> list[WatchKey]:
        return [
            node.data.key
            for node in self.connections.job_rows(self.root)
            if isinstance(node.data, JobRow)
        ]

    def sub_job(self, row: Row | None) -> SubJob | None:
        """The sub-job a row stands for (None for a job row or one that has gone)."""
        if not isinstance(row, SubJobRow):
            return None
        job = self.watchlist.job(row.key)
        if job is None:
            return None
        cached = self._sub_index
        if cached is None or cached[0] is not job:
            cached = self._sub_index = (job, dict(keyed_sub_jobs(job)))
        return cached[1].get(row.sub_key)

    def next_failed(self, *, forward: bool = True) -> Row | None:
        """The next (or previous) failure after the cursor, wrapping around."""
        rows = rows_in_order(self._filter(), self.watchlist, self.shown_jobs)
        return next_failure(rows, self.watchlist, self.selected, forward=forward)

    def go_to(self, row: Row) -> None:
        """Put the cursor on `row`, expanding its job if needed, and scroll to it."""
        node = self._job_nodes.get(row.key)
        if node is None:
            return
        if node.parent is not None and not node.parent.is_root:
            node.parent.expand()  # its connection's row
        if isinstance(row, SubJobRow):
            if not node.is_expanded:
                self._expand(node)
            node = self._sub_nodes.get(row.key, {}).get(row.sub_key, node)
        self.move_cursor_soon(node)

    # -- writing ---------------------------------------------------------------------------

    def show_jobs(self, wanted: list[WatchKey]) -> None:
        """Show exactly `wanted`, in that order: the filter, sort or entries changed."""
        self.requested = list(wanted)
        rows = self.connections
        if rows.wanted() != rows.active:  # a second connection came, or the last but one went
            for key in list(self._job_nodes):
                self._remove_job(key)
            rows.active = not rows.active
        wanted_set = set(wanted)
        for key in [k for k in self._job_nodes if k not in wanted_set]:
            self._remove_job(key)
        palette = theme_palette(self)
        now = self._clock()
        selected = self.selected
        moved: set[WatchKey] = set()
        by_parent: dict[Group | None, list[WatchKey]] = {}
        for key in wanted:
            by_parent.setdefault(rows.group_of(key), []).append(key)
        for group, keys in by_parent.items():
            parent = rows.parent(self.root, group, palette)
            existing = [node.data.key for node in parent.children if isinstance(node.data, JobRow)]
            if existing == keys:
                for key in keys:  # the filter may show other sub-jobs of the same jobs
                    self._sync_subs(self._job_nodes[key], palette, now)
            else:
                moved |= self._take_out_of_order(existing, keys)
                for index, key in enumerate(keys):
                    node = self._job_nodes.get(key)
                    if node is None:
                        self._add_job(index, key, palette, now, parent)
                    else:
                        self._sync_subs(node, palette, now)
        for unused in rows.unused(set(by_parent)):
            self.remove_row(unused)
        if selected is not None and selected.key in moved and selected.key in self._job_nodes:
            self.go_to(selected)  # the cursor stays on its job when the order changes
        self._follow_filter(wanted)
        if self.cursor_line < 0 and self.root.children and not self.cursor_move_waiting:
            self.move_cursor_soon(self.root.children[0])
        self._measure()

    def _take_out_of_order(self, existing: list[WatchKey], wanted: list[WatchKey]) -> set[WatchKey]:
        """Remove the job rows of one parent from the first one out of `wanted`'s order on
        (they are added again in place, open or closed as they were); returns their keys."""
        order = [key for key in wanted if key in existing]
        same = 0
        while same < len(order) and existing[same] == order[same]:
            same += 1
        if same == len(order):
            return set()
        for key in existing[same:]:
            self._remove_job(key, keep_parent=True)
        return set(existing[same:])

    def _follow_filter(self, shown: list[WatchKey]) -> None:
        """Open the jobs whose sub-jobs the filter narrows, so the matches show; close them
        again once no filter is active."""
        flt = self._filter()
        if not flt.active:
            for key in self._filter_expanded:
                node = self._job_nodes.get(key)
                if node is not None and node.is_expanded:
                    self._collapse_job(node)
            self._filter_expanded.clear()
            return
        for key in shown:
            node = self._job_nodes[key]
            job = self.watchlist.job(key)
            if node.is_expanded or job is None or not job.sub_job_count:
                continue
            subs = visible_sub_jobs(
                flt, self.watchlist.entries[key], self.watchlist.snapshots.get(key)
            )
            if subs and len(subs) < job.sub_job_count:
                self._expand(node)
                self._filter_expanded.add(key)

    def update_job(self, key: WatchKey, changes: JobChanges) -> None:
        """Redraw what `changes` names of one job: its row, and the sub-job rows it names
        (rows come and go with the sub-jobs; the others keep their labels)."""
        node = self._job_nodes.get(key)
        if node is None:
            return
        palette = theme_palette(self)
        now = self._clock()
        if changes.job:
            self._set_label(node, self._job_label(key, palette, now))
            self.connections.relabel(self.connections.group_of(key), palette)
        job = self.watchlist.job(key)
        node.allow_expand = bool(job is not None and job.sub_job_count)
        if not self.expansion.decided(key):
            self._first_expansion(node, key)
        else:
            if changes.any:
                self._sync_subs(node, palette, now, relabel=changes)
            self._apply_policy(node, key)

    def relabel_all(self) -> None:
        """Every row again (the theme changed)."""
        palette = theme_palette(self)
        now = self._clock()
        for key, node in self._job_nodes.items():
            self._set_label(node, self._job_label(key, palette, now))
            self._sync_subs(node, palette, now, relabel=JobChanges.everything())
        self.connections.relabel_all(palette)

    def tick(self) -> None:
        """Move the running times of the rows on screen (once a second)."""
        palette = theme_palette(self)
        now = self._clock()
        top = self.scroll_offset.y
        for line in range(top, top + self.size.height):
            node = self.get_node_at_line(line)
            if node is None:
                break
            row = node.data
            if isinstance(row, JobRow):
                job = self.watchlist.job(row.key)
                if job is not None and job.end_time is None:
                    self._set_label(node, self._job_label(row.key, palette, now))
            elif isinstance(row, SubJobRow):
                sub = self.sub_job(row)
                if sub is not None and sub.end_time is None:
                    cloud_now = self._cloud_now(row.key.endpoint, now)
                    server = self.watchlist.servers.for_sub(row.key, sub)
                    self._set_label(node, sub_job_label(sub, cloud_now, palette, server))

    @property
    def collapse_done(self) -> bool:
        return self.expansion.collapse_done

    def set_collapse_done(self, collapse: bool) -> None:
        """Collapse (or expand again) every job that finished without failures."""
        self.expansion.collapse_done = collapse
        for key, node in self._job_nodes.items():
            if finished_ok(self.watchlist.job(key)) and node.allow_expand:
                if collapse:
                    self._collapse_job(node)
                else:
                    self._expand(node)
                self.expansion.finished_ok_seen(key)

    def expanded(self, node: JobTreeNode) -> None:
        """The user expanded a job: make its sub-job rows."""
        if isinstance(node.data, JobRow):
            self._sync_subs(node, theme_palette(self), self._clock())

    def collapsed(self, node: JobTreeNode) -> None:
        """The user collapsed a job: its sub-job rows go until it is expanded again."""
        if isinstance(node.data, JobRow) and not node.is_expanded:
            self._drop_subs(node)

    # -- internals -------------------------------------------------------------------------

    def _job_label(self, key: WatchKey, palette: Palette, now: datetime) -> Text:
        cloud_now = self._cloud_now(key.endpoint, now)
        return job_label(
            self.watchlist.entries[key],
            self.watchlist.snapshots.get(key),
            cloud_now,
            palette,
            short_id=self.watchlist.short_id(key),
            estimate=remaining_text(self.watchlist.estimate(key, cloud_now)),
        )

    def _add_job(
        self,
        index: int,
        key: WatchKey,
        palette: Palette,
        now: datetime,
        parent: JobTreeNode | None = None,
    ) -> None:
        job = self.watchlist.job(key)
        node = (parent or self.root).add(
            self._job_label(key, palette, now), JobRow(key), before=index, expand=False
        )
        self._job_nodes[key] = node
        node.allow_expand = bool(job is not None and job.sub_job_count)
        self._first_expansion(node, key)

    def _first_expansion(self, node: JobTreeNode, key: WatchKey) -> None:
        """Open or leave closed a job once it first has sub-jobs to show."""
        if self.expansion.first(key, self.watchlist.job(key), self._rows_open):
            self._expand(node)

    def _expand(self, node: JobTreeNode) -> None:
        self._sync_subs(node, theme_palette(self), self._clock(), force=True)
        node.expand()

    def _sync_subs(
        self,
        node: JobTreeNode,
        palette: Palette,
        now: datetime,
        *,
        force: bool = False,
        relabel: JobChanges | None = None,
    ) -> None:
        """Make an expanded job's sub-job rows match the filter (by key), and relabel the
        existing rows `relabel` names; new rows are drawn as they are made."""
        if not (node.is_expanded or force) or not isinstance(node.data, JobRow):
            return
        key = node.data.key
        entry = self.watchlist.entries.get(key)
        if entry is None:
            return
        now = self._cloud_now(key.endpoint, now)
        subs = visible_sub_jobs(self._filter(), entry, self.watchlist.snapshots.get(key)) or []
        known = self._sub_nodes.setdefault(key, {})
        wanted = {sub_key for sub_key, _ in subs}
        for sub_key in [k for k in known if k not in wanted]:
            self.remove_row(known.pop(sub_key))
            self._rows_open -= 1
        servers = self.watchlist.servers
        for index, (sub_key, sub) in enumerate(subs):
            child = known.get(sub_key)
            if child is None:
                server = servers.for_sub(key, sub)
                known[sub_key] = node.add_leaf(
                    sub_job_label(sub, now, palette, server), SubJobRow(key, sub_key), before=index
                )
                self._rows_open += 1
            elif relabel is not None and relabel.names_sub(sub_key):
                server = servers.for_sub(key, sub)
                self._set_label(child, sub_job_label(sub, now, palette, server))

    def _drop_subs(self, node: JobTreeNode) -> None:
        if not isinstance(node.data, JobRow):
            return
        key = node.data.key
        dropped = self._sub_nodes.pop(key, None)
        if dropped:
            self._rows_open -= len(dropped)
            node.remove_children()

    def _apply_policy(self, node: JobTreeNode, key: WatchKey) -> None:
        """Open a job when it first shows failures; close it when it first ends well."""
        move = self.expansion.after_update(
            key, self.watchlist.job(key), is_open=node.is_expanded, rows_open=self._rows_open
        )
        if move is Move.OPEN:
            self._expand(node)
        elif move is Move.CLOSE:
            self._collapse_job(node)

    def _remove_job(self, key: WatchKey, *, keep_parent: bool = False) -> None:
        """Remove a job's row (and its connection's row once empty, unless `keep_parent`:
        the job comes back under it at once)."""
        node = self._job_nodes.pop(key)
        self.expansion.hidden(key, was_open=node.is_expanded)
        self._rows_open -= len(self._sub_nodes.pop(key, {}))
        parent = node.parent
        self.remove_row(node)
        if keep_parent:
            return
        if (emptied := self.connections.emptied(parent)) is not None:
            self.remove_row(emptied)

    def _collapse_job(self, node: JobTreeNode) -> None:
        cursor_inside = self.cursor_within(node) and self.cursor_node is not node
        node.collapse()
        self._drop_subs(node)
        if cursor_inside:
            self.move_cursor_soon(node)

    def _set_label(self, node: JobTreeNode, label: Text) -> None:
        if node.label != label:
            self.relabelled += 1
            node.set_label(label)
            if (
                not isinstance(node.data, SubJobRow)
                and (width := self._row_width(node)) > self._widest
            ):
                self._tell_width(width)

    # -- width -----------------------------------------------------------------------------

    # Job and connection rows are what the tree must show whole; sub-job rows end with their
    # type, the same for most of a batch, and may be cut.

    @property
    def wanted_width(self) -> int:
        """Columns (borders included) that show every job and connection row whole; 0
        before any row is drawn."""
        if not self._widest:
            return 0
        return self._widest + self.styles.scrollbar_size_vertical + self.styles.gutter.width

    def kept_from(self, node: JobTreeNode) -> int | None:
        """A job row cut short keeps its label («...»): it is how the user named the job."""
        row = node.data
        entry = self.watchlist.entries.get(row.key) if isinstance(row, JobRow) else None
        if entry is None or not entry.label:
            return None
        found = node.label.plain.rfind(f" «{one_line(entry.label, 32)}»")
        return found if found > 0 else None

    def _row_width(self, node: JobTreeNode) -> int:
        icon = len(self.ICON_NODE) if node.allow_expand else 0
        return node.label.cell_len + icon + self.depth(node) * self.guide_depth

    def _measure(self) -> None:
        """The widest row again, after rows came or went (it may be narrower now)."""
        rows = [*self.root.children, *self.connections.job_rows(self.root)]
        widest = max((self._row_width(node) for node in rows), default=0)
        if widest != self._widest:
            self._tell_width(widest)

    def _tell_width(self, widest: int) -> None:
        self._widest = widest
        self.post_message(self.Widened(self.wanted_width))
