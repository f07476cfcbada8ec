"""The job tree's connection rows: with jobs of several connections watched, each job row
sits under its connection's row (`cloud · region · project` and its jobs' counts).

Rows are made on first need and removed when their last job goes; a job's update
relabels its own connection's row only (the watchlist keeps the counts per connection).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

from rich.text import Text
from textual.widgets.tree import TreeNode

from jobdash.connections.groups import Group, connection_group
from jobdash.text.statuses import Palette
from jobdash.tui.render import connection_row_label
from jobdash.tui.view import GroupRow, Row
from jobdash.watch.values import WatchKey
from jobdash.watch.watchlist import Watchlist

Node = TreeNode[Row | GroupRow]


class ConnectionRows:
    def __init__(self, watchlist: Watchlist, set_label: Callable[[Node, Text], None]) -> None:
        self.watchlist = watchlist
        self._set_label = set_label
        self.nodes: dict[Group, Node] = {}
        #: Whether job rows sit under connection rows (more than one connection watched).
        self.active = False

    def wanted(self) -> bool:
        return len(self.watchlist.tally.group_labels) > 1

    def group_of(self, key: WatchKey) -> Group | None:
        entry = self.watchlist.entries.get(key)
        return connection_group(entry) if self.active and entry is not None else None

    def parent(self, root: Node, group: Group | None, palette: Palette) -> Node:
        """The root, or the connection's row (made on first need, open)."""
        if group is None:
            return root
        node = self.nodes.get(group)
        if node is None:
            node = self.nodes[group] = root.add(self.label(group, palette), GroupRow(group))
            node.expand()
        return node

    def label(self, group: Group, palette: Palette) -> Text:
        counts = self.watchlist.tally.group_counts.get(group, Counter())
        return connection_row_label(
            self.watchlist.tally.group_labels.get(group, ""), counts, palette
        )

    def relabel(self, group: Group | None, palette: Palette) -> None:
        if group is not None and (node := self.nodes.get(group)) is not None:
            self._set_label(node, self.label(group, palette))

    def relabel_all(self, palette: Palette) -> None:
        for group in self.nodes:
            self.relabel(group, palette)

    def emptied(self, parent: Node | None) -> Node | None:
        """`parent` when it is a connection row left without jobs (to remove), else None."""
        if parent is not None and isinstance(parent.data, GroupRow) and not parent.children:
            self.nodes.pop(parent.data.group, None)
            return parent
        return None

    def unused(self, used: set[Group | None]) -> list[Node]:
        """Connection rows none of whose jobs is shown any more (to remove)."""
        return [self.nodes.pop(group) for group in list(self.nodes) if group not in used]

    @staticmethod
    def job_rows(root: Node) -> Iterator[Node]:
        """Job rows in display order, under connection rows or not."""
        for node in root.children:
            if isinstance(node.data, GroupRow):
                yield from node.children
            else:
                yield node
