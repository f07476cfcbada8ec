"""The tree beside the details: the tree gets the width its job rows need, a cut row keeps
its label, and `w` (also in the command palette) shares the width another way."""

from __future__ import annotations

from typing import Any

import pytest
from tui_sample import BATCH_ID

from jobdash.tui.app import JobDashApp
from jobdash.tui.keys import COMMANDS
from jobdash.tui.widgets.split import Split

#: The sample's labels, each on a job row.
LABELS = ("«web tier»", "«stop workers»", "«yesterday»", "«just added»")


def _screen(app: JobDashApp) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def _tree_rows(app: JobDashApp) -> str:
    """The tree's side of the screen (left of the details' border, or the whole line)."""
    return "\n".join(line.split("││", 1)[0] for line in _screen(app))


@pytest.mark.parametrize("size", [(80, 50), (120, 40), (200, 60)])
async def test_every_label_shows_at_every_size(
    still_app: JobDashApp, size: tuple[int, int]
) -> None:
    async with still_app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.pause()
        tree = _tree_rows(still_app)
        for label in LABELS:
            assert label in tree, f"{label} at {size}:\n{tree}"
        details = still_app.dashboard.details
        # The details keep room for a 32-character id on a line.
        assert details.outer_size.width >= 38, details.outer_size


@pytest.mark.parametrize("size", [(120, 40), (200, 60)])
async def test_from_120_columns_the_job_rows_show_whole(
    still_app: JobDashApp, size: tuple[int, int]
) -> None:
    async with still_app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.pause()
        tree = _tree_rows(still_app)
        assert f"createServer {BATCH_ID[:4]}…{BATCH_ID[-6:]} 14/20" in tree, tree
        assert "~4m left «web tier»" in tree, tree
        row = next(line for line in tree.splitlines() if "«web tier»" in line)
        assert row.rstrip(" │").endswith("~4m left «web tier»"), row


async def test_w_cycles_the_split(still_app: JobDashApp) -> None:
    async with still_app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = still_app.dashboard
        tree, details = screen.job_tree, screen.details
        fit_width = tree.outer_size.width
        await pilot.press("w")
        await pilot.pause()
        assert screen.split.mode is Split.TREE
        assert not details.display and tree.outer_size.width == 80
        assert "createServer ff80…e20001 14/20  ✓12 ✗2 12m00s ~4m left «web tier»" in "\n".join(
            _screen(still_app)
        )
        await pilot.press("w")
        await pilot.pause()
        assert screen.split.mode is Split.DETAILS
        assert details.display and tree.outer_size.width < fit_width
        assert details.outer_size.width > 80 // 2
        await pilot.press("w")
        await pilot.pause()
        assert screen.split.mode is Split.FIT and tree.outer_size.width == fit_width


def test_the_split_key_is_described_for_the_footer_help_and_palette() -> None:
    command = next(c for c in COMMANDS if c.action == "cycle_split")
    assert command.key == "w" and command.description and command.title and command.help


async def test_the_split_is_in_the_command_palette(still_app: JobDashApp) -> None:
    async with still_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"change the split")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert still_app.dashboard.split.mode is Split.TREE


# -- snapshots ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
def test_split_snapshot(still_app: JobDashApp, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(still_app, terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
def test_tree_alone_snapshot(
    still_app: JobDashApp, snap_compare: Any, size: tuple[int, int]
) -> None:
    assert snap_compare(still_app, press=["w"], terminal_size=size)
