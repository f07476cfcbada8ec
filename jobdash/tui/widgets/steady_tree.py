"""A Tree whose cursor stays put while rows come and go, and whose labels end with an
ellipsis where the tree's width ends (or, for a row that says which part matters most,
lose their middle instead). Only public Textual APIs: rows just added get their line
numbers when the tree is next drawn, so a cursor move to them waits until then.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from rich.style import Style
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

DataType = TypeVar("DataType")


class SteadyTree(Tree[DataType], Generic[DataType]):
    #: A row cut to keep its end still shows this many cells of its start.
    KEPT_HEAD = 16

    def __init__(self, label: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        #: Where the cursor goes once the tree has laid out rows just added.
        self._cursor_target: TreeNode[DataType] | None = None

    @property
    def cursor_or_target(self) -> TreeNode[DataType] | None:
        """The row the cursor is on, or about to be moved to."""
        return self._cursor_target or self.cursor_node

    @property
    def cursor_move_waiting(self) -> bool:
        return self._cursor_target is not None

    def _move_to_target(self, attempts: int = 20) -> None:
        """Move the cursor to the row waiting for it once the tree has given that row a line
        number, which happens when the tree is next drawn."""
        target = self._cursor_target
        if target is None:
            return
        if not self._is_attached(target):
            self._cursor_target = None
        elif target.line >= 0 or attempts <= 0:
            self._cursor_target = None
            self.move_cursor(target)
        else:
            self.call_after_refresh(self._move_to_target, attempts - 1)

    def render_label(self, node: TreeNode[DataType], base_style: Style, style: Style) -> Text:
        """The label, cut with an ellipsis where the tree's width ends (rather than cut
        short without a sign, or scrolled sideways); a row whose end must stay in sight
        (`kept_from`) loses the part before that end instead."""
        label = super().render_label(node, base_style, style)
        # The vertical scrollbar's column is kept free whether it shows or not: labels that
        # fit only without it would bring a horizontal scrollbar when it appears.
        width = self.content_region.width - self.styles.scrollbar_size_vertical
        room = width - self.depth(node) * self.guide_depth
        if room <= 1 or label.cell_len <= room:
            return label
        kept = self.kept_from(node)
        if kept is None or room <= self.KEPT_HEAD + 2:
            label.truncate(room, overflow="ellipsis")
            return label
        # The icon Tree puts before the label shifts where the kept part starts.
        head, tail = label.divide([len(label.plain) - len(node.label.plain) + kept])
        tail.truncate(min(tail.cell_len, room - self.KEPT_HEAD), overflow="ellipsis")
        head.truncate(room - tail.cell_len, overflow="ellipsis")
        head.append_text(tail)
        return head

    def kept_from(self, node: TreeNode[DataType]) -> int | None:
        """Where in `node`'s label the end that a cut row keeps starts; None: cut the end."""
        return None

    def depth(self, node: TreeNode[DataType]) -> int:
        """How many rows `node` sits under (the hidden root not counted)."""
        depth = 0
        parent = node.parent
        while parent is not None and not parent.is_root:
            depth += 1
            parent = parent.parent
        return depth

    def remove_row(self, node: TreeNode[DataType]) -> None:
        """Remove `node`; if the cursor was on it (or below it), move it to a neighbour."""
        target = None
        if self.cursor_within(node):
            target = node.next_sibling or node.previous_sibling or node.parent
        if self._cursor_target is not None and self._is_within(self._cursor_target, node):
            self._cursor_target = None
        node.remove()
        if target is not None and not target.is_root:
            self.move_cursor_soon(target)

    def cursor_within(self, node: TreeNode[DataType]) -> bool:
        cursor = self.cursor_node
        return cursor is not None and self._is_within(cursor, node)

    @staticmethod
    def _is_within(inner: TreeNode[DataType], outer: TreeNode[DataType]) -> bool:
        current: TreeNode[DataType] | None = inner
        while current is not None:
            if current is outer:
                return True
            current = current.parent
        return False

    def _is_attached(self, node: TreeNode[DataType]) -> bool:
        """Still in the tree: it and every row above it are still among their siblings."""
        parent = node.parent
        if parent is None:
            return False
        return node in parent.children and (parent.is_root or self._is_attached(parent))

    def move_cursor_soon(self, node: TreeNode[DataType]) -> None:
        """Move the cursor to `node` after the next refresh: rows just added (or shown by
        an expansion) get their line numbers when the tree is drawn."""
        self._cursor_target = node
        self.call_after_refresh(self._move_to_target)
