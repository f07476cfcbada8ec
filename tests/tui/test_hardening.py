"""The dashboard's part of the hardening: the cloud's clock, auth failures in the header,
ticking ages, ellipses, dialogs at 80x24, failure texts, escape and the export path."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import SIZE, SimDashboard, record_toasts, shown, wait_until
from rich.console import Console
from textual.widgets import Button, Input, Static
from tui_sample import BATCH_ID, DELETE_ID, ENDPOINT, FROZEN, PROJECT, STOP_ID

from jobdash.api.errors import UnauthorizedError
from jobdash.api.model import parse_job
from jobdash.store.core import Store
from jobdash.tui.app import JobDashApp
from jobdash.tui.context import DashboardContext
from jobdash.tui.render_details import job_details, sub_job_details
from jobdash.tui.screens.add import AddJobsScreen
from jobdash.tui.screens.export import ExportScreen
from jobdash.tui.still import StillPoller
from jobdash.tui.view import JobRow
from jobdash.tui.widgets.themed import theme_palette
from jobdash.watch.values import PollUpdate, WatchEntry, WatchKey

SMALL = (80, 24)


def plain(renderable: Any, width: int = 100) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, force_terminal=False).print(renderable)
    return out.getvalue()


def tree_line(app: JobDashApp, key: WatchKey) -> str:
    tree = app.dashboard.job_tree
    node = tree.job_node(key)
    assert node is not None and node.line >= 0
    strip = tree.render_line(node.line - tree.scroll_offset.y)
    return "".join(segment.text for segment in strip).rstrip()


# -- 14: the cloud's clock ---------------------------------------------------------------


async def test_running_times_follow_the_clouds_clock_not_ours(dash: SimDashboard) -> None:
    """Our clock is ten minutes behind the cloud's: a job running for 1m30s in the cloud's
    time must not show `0s` (nor a negative time) for the next ten minutes."""
    sim = dash.sim
    key = dash.watch(sim.create_servers(2, fail_count=0, duration=(3600.0, 3600.0)), "slow")
    sim.advance(90)

    def behind() -> datetime:
        return sim.now() - timedelta(minutes=10)

    app = dash.app(clock=behind, poller_now=behind)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.watchlist.job(key) is not None, "the first fetch")
        assert dash.poller is not None
        dash.poller.pause()
        await pilot.pause(0.1)
        app.dashboard.refresh_details()
        assert "1m30s" in tree_line(app, key)
        assert "1m30s so far" in shown(app.dashboard.details.body)


async def test_headless_status_shows_elapsed_in_the_clouds_time() -> None:
    from jobdash.cli.status_view import Results, Target, render_results

    body = {
        "status": "RUNNING",
        "job_id": BATCH_ID,
        "job_type": "createServer",
        "begin_time": "2026-03-02T09:45:00.000Z",
        "end_time": "",
        "entities": {},
    }
    key = WatchKey(ENDPOINT, PROJECT, BATCH_ID)
    local = FROZEN - timedelta(minutes=10)  # our clock, ten minutes behind
    update = PollUpdate(key, local, job=parse_job(body), server_time=FROZEN + timedelta(seconds=75))
    results = Results([Target(key)], {key: update})
    text = plain(render_results(results, local))
    assert "1m15s" in text


def test_the_demo_says_its_clock_runs_fast() -> None:
    from jobdash.tui.launch import _clock_note

    assert "clock runs 2× fast" in _clock_note(SimpleNamespace(speed=2.0))
    assert "clock runs 10× fast" in _clock_note(SimpleNamespace(config=SimpleNamespace(speed=10)))
    assert _clock_note(SimpleNamespace(speed=1.0)) == ""


# -- 15: an auth failure in the header ---------------------------------------------------


async def test_header_says_not_authorized_instead_of_live(still_app: JobDashApp) -> None:
    async with still_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        header = still_app.dashboard.header
        assert "● live" in shown(header)
        for key in list(still_app.watchlist.entries):
            error = UnauthorizedError("not authorized: the credentials were rejected")
            still_app.poll_update_sink(PollUpdate(key, FROZEN, error=error))
        await wait_until(
            pilot, lambda: "not authorized" in shown(header).splitlines()[0], "the header"
        )
        assert "live" not in shown(header)


# -- 16: the details' fetched age ticks --------------------------------------------------


async def test_fetched_age_of_a_finished_job_ticks(sample_store: Store) -> None:
    now = [FROZEN]
    app = JobDashApp(
        DashboardContext(
            store=sample_store,
            poller_factory=lambda _on_update: StillPoller(),
            clock=lambda: now[0],
            endpoint=ENDPOINT,
            project_id=PROJECT,
            bell_on_fail=False,
            tick_interval=0.05,
        )
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.dashboard.job_tree.go_to(JobRow(WatchKey(ENDPOINT, PROJECT, DELETE_ID)))
        details = app.dashboard.details
        await wait_until(pilot, lambda: "deleteServer" in shown(details.body), "the job")
        before = shown(details.body)
        assert "ago)" in before
        now[0] = FROZEN + timedelta(seconds=40)
        await wait_until(pilot, lambda: shown(details.body) != before, "the fetched age to move")
        assert "fetched" in shown(details.body)


# -- 17: ellipses, 80x24 dialogs, failures stand out ---------------------------------------


async def test_a_long_tree_row_drops_its_middle_and_keeps_its_label(
    still_app: JobDashApp,
) -> None:
    async with still_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        tree = still_app.dashboard.job_tree
        line = tree_line(still_app, WatchKey(ENDPOINT, PROJECT, STOP_ID))
        assert "…" in line and line.endswith("«stop workers»"), line
        assert tree.virtual_size.width <= tree.scrollable_content_region.width


async def test_failures_are_bold_in_the_themes_error_colour(still_app: JobDashApp) -> None:
    async with still_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        error = theme_palette(still_app.dashboard.job_tree).error
        assert error.bold
        assert error.color is not None
        assert error.color.triplet is not None
        expected = still_app.theme_variables["error"].lower()
        assert error.color.triplet.hex == expected


async def test_add_dialog_fits_80x24_and_explains_in_place(still_app: JobDashApp) -> None:
    toasts = record_toasts(still_app)
    async with still_app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        screen = still_app.screen
        assert isinstance(screen, AddJobsScreen)
        dialog = screen.query_one("#add-dialog")
        for button in screen.query(Button):
            assert dialog.content_region.contains_region(button.region), button.id
        screen.query_one("#add-text").focus()
        await pilot.press(*"12345")
        await pilot.press("ctrl+s")
        await pilot.pause()
        feedback = screen.query_one("#add-feedback", Static)
        text = shown(feedback)
        assert "is not 32 hexadecimal" in text and "Nothing added" in text
        assert dialog.content_region.contains_region(feedback.region)
        assert not [toast for toast in toasts if "valid job id" in toast.message]


# -- 18: failure texts -----------------------------------------------------------------------


class Info:
    def __init__(self, code: str, message: str) -> None:
        self.code, self.message, self.meaning, self.hint = code, message, message, "Try again."


def lookup(code: str) -> Info | None:
    return Info(code, "Insufficient EVS disk quota.") if code == "Ecs.0021" else None


def test_a_failed_sub_jobs_message_is_said_once() -> None:
    message = "Insufficient EVS disk quota."
    job = parse_job(
        {
            "status": "FAIL",
            "job_id": BATCH_ID,
            "job_type": "createServer",
            "begin_time": "2026-03-02T09:40:00.000Z",
            "end_time": "2026-03-02T09:41:00.000Z",
            "entities": {
                "sub_jobs": [
                    {
                        "status": "FAIL",
                        "job_id": STOP_ID,
                        "job_type": "createSingleServer",
                        "begin_time": "2026-03-02T09:40:00.000Z",
                        "end_time": "2026-03-02T09:41:00.000Z",
                        "error_code": "Ecs.0021",
                        "fail_reason": f"Ecs.0021: {message}",
                        "entities": {"errorcode_message": message},
                    }
                ]
            },
        }
    )
    entry = WatchEntry(WatchKey(ENDPOINT, PROJECT, BATCH_ID))
    text = plain(sub_job_details(entry, job.sub_jobs[0], FROZEN, lookup=lookup))
    assert text.count(message) == 1, text
    assert "Try again." in text


def test_a_json_fail_reason_shows_code_and_message() -> None:
    message = "The flavor s3.xlarge.2 is sold out in availability zone eu-de-01; choose another."
    reason = json.dumps({"error": {"code": "Ecs.0032", "message": message}})
    job = parse_job(
        {
            "status": "FAIL",
            "job_id": BATCH_ID,
            "job_type": "createServer",
            "begin_time": "2026-03-02T09:40:00.000Z",
            "end_time": "2026-03-02T09:41:00.000Z",
            "error_code": "Ecs.0032",
            "fail_reason": reason,
            "entities": {},
        }
    )
    entry = WatchEntry(WatchKey(ENDPOINT, PROJECT, BATCH_ID))
    snapshot = SimpleNamespace(job=job, fetched_at=FROZEN, expired=False, error_kind=None)
    text = plain(job_details(entry, snapshot, FROZEN, width=60), width=60)  # type: ignore[arg-type]
    assert '{"error"' not in text
    assert "Ecs.0032" in text
    # Wrapped between words: every word of the message is whole on some line.
    words = {word for line in text.splitlines() for word in line.split()}
    for word in message.split():
        assert word in words, word


# -- 19: escape clears the filter; the export names its file --------------------------------


async def test_escape_in_the_tree_clears_the_filter(still_app: JobDashApp) -> None:
    async with still_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = still_app.dashboard
        everything = len(screen.job_tree.shown_jobs)
        await pilot.press("f")
        await pilot.pause()
        assert len(screen.job_tree.shown_jobs) < everything
        await pilot.press("slash", *"stop", "enter")
        await pilot.pause()
        assert screen.job_tree.has_focus
        assert screen.filter.active
        await pilot.press("escape")
        await pilot.pause()
        assert not screen.filter.active
        assert len(screen.job_tree.shown_jobs) == everything
        assert not screen.filter_input.has_class("-visible")


async def test_export_dialog_shows_the_full_target_and_writes_there(
    still_app: JobDashApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with still_app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        still_app.dashboard.job_tree.go_to(JobRow(WatchKey(ENDPOINT, PROJECT, BATCH_ID)))
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        screen = still_app.screen
        assert isinstance(screen, ExportScreen)
        target = screen.query_one("#export-target", Static)
        assert str(tmp_path) in shown(target).replace("\n", "")
        path_input = screen.query_one("#export-path", Input)
        path_input.value = "failures.csv"
        await pilot.pause()
        assert str(tmp_path / "failures.csv") in shown(target).replace("\n", "")
        await pilot.press("enter")
        await pilot.pause()
    assert (tmp_path / "failures.csv").exists()
    assert still_app.dashboard.last_export == tmp_path / "failures.csv"
