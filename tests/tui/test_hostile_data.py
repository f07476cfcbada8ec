"""The dashboard on hostile API data: control characters in ids, bodies nested 900 deep."""

from __future__ import annotations

from conftest import SIZE, SimDashboard, shown, wait_until
from textual.widgets import Static, TextArea

from jobdash.text.jsonsafe import MAX_DEPTH, cut_marker
from jobdash.tui.app import JobDashApp
from jobdash.tui.screens.add import AddJobsScreen
from jobdash.tui.view import SubJobRow
from jobdash.watch.values import WatchKey

JOB_ID = "0123456789abcdef0123456789abcdef"


def has_job(app: JobDashApp, key: WatchKey) -> bool:
    snapshot = app.watchlist.snapshots.get(key)
    return snapshot is not None and snapshot.job is not None


def nested(depth: int) -> dict:
    body: dict = {"leaf": True}
    for _ in range(depth):
        body = {"inner": body}
    return body


async def test_c_copies_ids_without_control_characters(dash: SimDashboard) -> None:
    dash.sim.put_job(
        {
            "job_id": JOB_ID,
            "status": "FAIL",
            "entities": {
                "sub_jobs": [{"job_id": "sub\x1b]52;c;ZXZpbA==\x07-1\x9b2J", "status": "FAIL"}]
            },
        }
    )
    key = dash.watch(JOB_ID)
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: has_job(app, key), "the job")
        await pilot.press("down", "c")
        assert isinstance(app.dashboard.job_tree.selected, SubJobRow)
        assert app.clipboard == "sub]52;c;ZXZpbA==-12J"


async def test_raw_view_of_a_900_level_body_is_cut_and_quick(dash: SimDashboard) -> None:
    dash.sim.put_job({"job_id": JOB_ID, "status": "SUCCESS", "entities": nested(900)})
    key = dash.watch(JOB_ID)
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: has_job(app, key), "the job")
        await pilot.press("j")
        body = app.dashboard.details.query_one("#details-body", Static)
        text = shown(body, width=400)
        assert cut_marker(MAX_DEPTH) in text
        assert text.count('"inner"') <= MAX_DEPTH


async def test_add_dialog_skips_ids_that_are_not_32_hex_and_says_why(dash: SimDashboard) -> None:
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        assert isinstance(app.screen, AddJobsScreen)
        app.screen.query_one("#add-text", TextArea).insert(f"12345\nbogus-id-42\n{JOB_ID}\n")
        await pilot.pause()
        feedback = shown(app.screen.query_one("#add-feedback", Static))
        assert "1 job id to add." in feedback
        assert "Skipped 2:" in feedback
        assert "'12345' is not 32 hexadecimal characters" in feedback
        assert "'bogus-id-42' is not 32 hexadecimal characters" in feedback
