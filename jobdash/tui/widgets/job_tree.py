"""The job tree: one node per watched job, its sub-jobs as children.

`sync` reconciles the tree with the dashboard state in place, keyed by job id and
sub-job id: labels and data change, nodes are added and removed, nothing is rebuilt,
so the cursor, the scroll position and what is expanded all stay where they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from jobdash.tui.palette import Palette
from jobdash.tui.render import job_label, sub_job_label
from jobdash.tui.state import (
    DashboardState,
    JobNodeData,
    NodeData,
    SubJobNodeData,
    VisibleJob,
    finished_ok,
    has_failures,
    keyed_sub_jobs,
)
from jobdash.tui.widgets.themed import STATUS_COMPONENTS, theme_palette
from jobdash.watch import WatchKey

JobTreeNode = TreeNode[NodeData]


class JobTree(Tree[NodeData]):
    """Watched jobs and their sub-jobs. Renders only; the app feeds it state."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set(STATUS_COMPONENTS)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Expand/collapse", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("jobs", id=id)
        self.show_root = False
        self.guide_depth = 3
        self._job_nodes: dict[WatchKey, JobTreeNode] = {}
        self._sub_nodes: dict[WatchKey, dict[str, JobTreeNode]] = {}
        #: Expansion of jobs hidden by a filter, restored when they come back.
        self._remembered: dict[WatchKey, bool] = {}
        #: Jobs already auto-expanded because they had failures (done once per job).
        self._failure_seen: set[WatchKey] = set()
        #: Jobs already seen finished successfully (collapsed once when `collapse_done`).
        self._done_seen: set[WatchKey] = set()
        self.collapse_done = True

    # -- reading ---------------------------------------------------------------------------

    def job_node(self, key: WatchKey) -> JobTreeNode | None:
        return self._job_nodes.get(key)

    def sub_node(self, key: WatchKey, sub_key: str) -> JobTreeNode | None:
        return self._sub_nodes.get(key, {}).get(sub_key)

    @property
    def selected(self) -> NodeData | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def iter_nodes(self) -> Iterator[JobTreeNode]:
        """Every job and sub-job node in display order, collapsed ones included."""
        for job_node in self.root.children:
            yield job_node
            yield from job_node.children

    def next_failed(self, *, forward: bool = True) -> JobTreeNode | None:
        """The next (or previous) failed sub-job after the cursor, wrapping around.

        A failed job without sub-jobs counts as a failure of its own.
        """
        nodes = list(self.iter_nodes())
        failed = [i for i, node in enumerate(nodes) if _is_failure(node)]
        if not failed:
            return None
        cursor = self.cursor_node
        here = next((i for i, node in enumerate(nodes) if node is cursor), -1)
        if forward:
            after = [i for i in failed if i > here]
            return nodes[after[0] if after else failed[0]]
        before = [i for i in failed if i < here] if here >= 0 else []
        return nodes[before[-1] if before else failed[-1]]

    def go_to(self, node: JobTreeNode) -> None:
        """Put the cursor on `node`, expanding its job if needed, and scroll to it."""
        parent = node.parent
        if parent is not None and not parent.is_root and not parent.is_expanded:
            parent.expand()
        self._move_cursor_now(node)

    # -- writing ---------------------------------------------------------------------------

    def sync(self, state: DashboardState, now: datetime) -> None:
        """Make the tree show `state.visible()`, changing only what differs."""
        palette = theme_palette(self)
        visible = state.visible()
        wanted = {item.key for item in visible}
        for key in [k for k in self._job_nodes if k not in wanted]:
            self._remove_job(key)
        for index, item in enumerate(visible):
            self._sync_job(index, item, state, now, palette)
        if self.cursor_line < 0 and self.root.children:
            self.move_cursor(self.root.children[0])

    def relabel(self, state: DashboardState, now: datetime, *, running_only: bool = False) -> None:
        """Redraw labels (times tick, the theme changed) without touching the structure."""
        palette = theme_palette(self)
        for node in self.iter_nodes():
            data = node.data
            if isinstance(data, JobNodeData):
                job = data.snapshot.job if data.snapshot else None
                if running_only and (job is None or job.end_time is not None):
                    continue
                entry = state.entries.get(data.entry.key, data.entry)
                label = job_label(
                    entry, data.snapshot, now, palette, short_id=state.short_id(data.key)
                )
                self._set_label(node, label)
            elif isinstance(data, SubJobNodeData):
                if running_only and data.sub.end_time is not None:
                    continue
                self._set_label(node, sub_job_label(data.sub, now, palette))

    def set_collapse_done(self, collapse: bool) -> None:
        """Collapse (or expand again) every job that finished without failures."""
        self.collapse_done = collapse
        for key, node in self._job_nodes.items():
            data = node.data
            if isinstance(data, JobNodeData) and finished_ok(data.job) and node.allow_expand:
                if collapse:
                    self._collapse_job(node)
                else:
                    node.expand()
                self._done_seen.add(key)

    # -- internals -------------------------------------------------------------------------

    def _sync_job(
        self,
        index: int,
        item: VisibleJob,
        state: DashboardState,
        now: datetime,
        palette: Palette,
    ) -> None:
        key = item.key
        entry = state.entries[key]
        snapshot = state.snapshots.get(key)
        data = JobNodeData(entry, snapshot)
        label = job_label(entry, snapshot, now, palette, short_id=state.short_id(key))
        node = self._job_nodes.get(key)
        if node is None:
            node = self.root.add(label, data, before=index, expand=self._initial_expand(data))
            self._job_nodes[key] = node
            self._sub_nodes[key] = {}
        else:
            node.data = data
            self._set_label(node, label)
        self._sync_subs(node, item, data, now, palette)
        node.allow_expand = bool(node.children)
        self._apply_policy(node, data)

    def _sync_subs(
        self,
        node: JobTreeNode,
        item: VisibleJob,
        data: JobNodeData,
        now: datetime,
        palette: Palette,
    ) -> None:
        subs = dict(keyed_sub_jobs(data.job))
        known = self._sub_nodes[item.key]
        wanted = [sub_key for sub_key in item.sub_keys if sub_key in subs]
        wanted_set = set(wanted)
        for sub_key in [k for k in known if k not in wanted_set]:
            self._remove_node(known.pop(sub_key))
        for index, sub_key in enumerate(wanted):
            sub = subs[sub_key]
            sub_data = SubJobNodeData(data.entry, sub_key, sub)
            label = sub_job_label(sub, now, palette)
            child = known.get(sub_key)
            if child is None:
                known[sub_key] = node.add_leaf(label, sub_data, before=index)
            else:
                child.data = sub_data
                self._set_label(child, label)

    def _initial_expand(self, data: JobNodeData) -> bool:
        remembered = self._remembered.pop(data.key, None)
        if remembered is not None:
            return remembered
        if has_failures(data.job):
            self._failure_seen.add(data.key)
            return True
        if finished_ok(data.job):
            self._done_seen.add(data.key)
            return not self.collapse_done
        return True

    def _apply_policy(self, node: JobTreeNode, data: JobNodeData) -> None:
        """Expand a job when it first shows failures; collapse it when it first ends well."""
        if not node.allow_expand:
            return
        if has_failures(data.job) and data.key not in self._failure_seen:
            self._failure_seen.add(data.key)
            node.expand()
        elif finished_ok(data.job) and data.key not in self._done_seen:
            self._done_seen.add(data.key)
            if self.collapse_done:
                self._collapse_job(node)

    def _remove_job(self, key: WatchKey) -> None:
        node = self._job_nodes.pop(key)
        self._sub_nodes.pop(key, None)
        self._remembered[key] = node.is_expanded
        self._remove_node(node)

    def _remove_node(self, node: JobTreeNode) -> None:
        """Remove `node`; if the cursor was on it (or below it), move it to a neighbour."""
        target = None
        if self._cursor_within(node):
            target = node.next_sibling or node.previous_sibling or node.parent
        node.remove()
        if target is not None and not target.is_root:
            self._move_cursor_now(target)

    def _collapse_job(self, node: JobTreeNode) -> None:
        cursor_inside = self._cursor_within(node) and self.cursor_node is not node
        node.collapse()
        if cursor_inside:
            self._move_cursor_now(node)

    def _cursor_within(self, node: JobTreeNode) -> bool:
        cursor = self.cursor_node
        while cursor is not None:
            if cursor is node:
                return True
            cursor = cursor.parent
        return False

    def _move_cursor_now(self, node: JobTreeNode) -> None:
        _ = self.last_line  # rebuilds the line index so `node.line` is current
        self.move_cursor(node)

    @staticmethod
    def _set_label(node: JobTreeNode, label: Text) -> None:
        if node.label != label:
            node.set_label(label)


def _is_failure(node: JobTreeNode) -> bool:
    data = node.data
    if isinstance(data, SubJobNodeData):
        return data.sub.failed
    if isinstance(data, JobNodeData):
        job = data.job
        return job is not None and job.failed and not node.children
    return False
