"""Snapshot tests of the main screens: a fixed store, a frozen clock, no fetching.

Regenerate after an intended change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the SVGs before committing them.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, TextArea
from tui_sample import BATCH_ID, STOP_ID

from jobdash.tui.app import JobDashApp

WIDE = (120, 40)


def test_overview(still_app: JobDashApp, snap_compare: Any) -> None:
    assert snap_compare(still_app, terminal_size=WIDE)


def test_overview_at_80x24(still_app: JobDashApp, snap_compare: Any) -> None:
    assert snap_compare(still_app, terminal_size=(80, 24))


def test_overview_at_200x60(still_app: JobDashApp, snap_compare: Any) -> None:
    assert snap_compare(still_app, terminal_size=(200, 60))


def test_failed_sub_job_details(still_app: JobDashApp, snap_compare: Any) -> None:
    assert snap_compare(still_app, press=["n"], terminal_size=WIDE)


async def _select_stop_job(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, JobDashApp)
    node = next(n for n in app.dashboard.job_tree.root.children if n.data.key.job_id == STOP_ID)  # type: ignore[union-attr]
    app.dashboard.job_tree.go_to(node.data)  # type: ignore[arg-type]
    await pilot.pause()


def test_failure_summary(still_app: JobDashApp, snap_compare: Any) -> None:
    assert snap_compare(still_app, terminal_size=WIDE, run_before=_select_stop_job)


def test_failed_only(still_app: JobDashApp, snap_compare: Any) -> None:
    assert snap_compare(still_app, press=["f"], terminal_size=WIDE)


def test_raw_json(still_app: JobDashApp, snap_compare: Any) -> None:
    assert snap_compare(still_app, press=["j"], terminal_size=WIDE)


async def _paste_ids(pilot: Pilot[Any]) -> None:
    await pilot.press("a")
    screen = pilot.app.screen
    screen.query_one("#add-text", TextArea).insert(
        f'{{"job_id": "{BATCH_ID}"}}\n0123456789abcdef0123456789abcdef\nnot an id\n'
    )
    screen.query_one("#add-label", Input).value = "from the console"
    await pilot.pause()


def test_add_dialog(still_app: JobDashApp, snap_compare: Any) -> None:
    assert snap_compare(still_app, terminal_size=WIDE, run_before=_paste_ids)


def test_help_screen(still_app: JobDashApp, snap_compare: Any) -> None:
    assert snap_compare(still_app, press=["question_mark"], terminal_size=WIDE)
