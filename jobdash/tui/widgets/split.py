"""The job tree beside the details, and how the width is shared between them.

By default the tree is as wide as its job rows need (`JobTree.Widened`), as long as the
details keep room for a 32-character id on a line; the rest goes to the details. A key
cycles to the tree alone (every label whole on a narrow terminal) and to wide details.
"""

from __future__ import annotations

from enum import Enum

from textual import on
from textual.containers import Horizontal
from textual.widget import Widget

from jobdash.tui.widgets.job_tree import JobTree


class Split(Enum):
    FIT = "fit"
    TREE = "tree"
    DETAILS = "details"

    def next(self) -> Split:
        order = list(Split)
        return order[(order.index(self) + 1) % len(order)]

    @property
    def title(self) -> str:
        return _TITLES[self]


_TITLES = {
    Split.FIT: "the tree as wide as its jobs need",
    Split.TREE: "the tree alone",
    Split.DETAILS: "wide details",
}


class SplitView(Horizontal):
    """Two panes side by side: `left` (holding `tree`) and `right`."""

    #: The tree's narrowest: a job row's icon, type and short id.
    TREE_MIN = 36
    #: The details' narrowest beside the tree: a 32-character id on a line of its own
    #: (borders, padding and scrollbar included),
    DETAILS_MIN = 38
    #: and from this terminal width on, enough for field names beside their values.
    WIDE = 100
    DETAILS_WIDE_MIN = 44

    def __init__(self, left: Widget, right: Widget, tree: JobTree, *, id: str | None = None):
        super().__init__(left, right, id=id)
        self.left = left
        self.right = right
        self.job_tree = tree
        self.mode = Split.FIT
        self._wanted = 0

    def cycle(self) -> Split:
        """The next way of sharing the width; returns it."""
        self.mode = self.mode.next()
        self.fit()
        if self.mode is Split.TREE and self.right.has_focus_within:
            self.job_tree.focus()  # the details are hidden: keys go to the tree
        return self.mode

    def tree_width(self, total: int) -> int:
        """The tree's columns out of `total` in the current mode."""
        if self.mode is Split.TREE:
            return total
        if self.mode is Split.DETAILS:
            return min(self.TREE_MIN, total // 2)
        wanted = self._wanted or total // 2
        details = self.DETAILS_WIDE_MIN if total >= self.WIDE else self.DETAILS_MIN
        return max(min(wanted, total - details), min(self.TREE_MIN, total // 2))

    def fit(self) -> None:
        total = self.size.width
        if total <= 0:
            return  # not laid out yet: on_resize comes
        self.right.display = self.mode is not Split.TREE
        width = self.tree_width(total)
        # Only a change lays the screen out again (a layout redraws everything).
        if self.left.styles.width is None or self.left.styles.width.value != width:
            self.left.styles.width = width

    def on_resize(self) -> None:
        self.fit()

    @on(JobTree.Widened)
    def _widened(self, message: JobTree.Widened) -> None:
        self._wanted = message.width
        self.fit()
