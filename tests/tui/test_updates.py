"""Live behaviour: updates in place, toasts, errors where they belong, other processes."""

from __future__ import annotations

import asyncio
import html
import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import SIZE, SimDashboard, record_toasts, shown, wait_until
from tui_sample import BATCH_ID, FROZEN, MARKUP_REASON, STOP_ID

from jobdash.simulator import Simulator, SimulatorConfig
from jobdash.store.core import Store
from jobdash.tui.app import JobDashApp
from jobdash.tui.context import DashboardContext
from jobdash.tui.still import StillPoller
from jobdash.tui.view import SubJobRow
from jobdash.tui.widgets.job_tree import JobTree
from jobdash.watch.values import WatchKey


def snapshot_job(app: JobDashApp, key: WatchKey) -> Any:
    snapshot = app.watchlist.snapshots.get(key)
    return snapshot.job if snapshot is not None else None


def is_finished(app: JobDashApp, key: WatchKey) -> bool:
    job = snapshot_job(app, key)
    return job is not None and job.is_terminal


def finished_subs(app: JobDashApp, key: WatchKey) -> int:
    job = snapshot_job(app, key)
    return job.finished_sub_jobs if job is not None else -1


@pytest.fixture
def no_rebuilds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if anything clears and rebuilds the tree instead of updating it."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the job tree must be updated in place, never cleared")

    monkeypatch.setattr(JobTree, "clear", refuse)
    monkeypatch.setattr(JobTree, "reset", refuse)


async def test_updates_keep_cursor_scroll_and_expansion(
    dash: SimDashboard, no_rebuilds: None
) -> None:
    sim = dash.sim
    batch = dash.watch(sim.create_servers(20, fail_count=2, duration=(10.0, 120.0)), "batch")
    slow = dash.watch(sim.create_servers(3, fail_count=0, duration=(900.0, 900.0)), "slow")
    sim.advance(5)
    app = dash.app()
    async with app.run_test(size=(100, 16)) as pilot:
        tree = app.dashboard.job_tree

        def both_shown() -> bool:
            nodes = [tree.job_node(batch), tree.job_node(slow)]
            return all(node is not None and node.children for node in nodes)

        await wait_until(pilot, both_shown, "both jobs with their sub-jobs")
        slow_node = tree.job_node(slow)
        batch_node = tree.job_node(batch)
        assert slow_node is not None and batch_node is not None
        slow_node.collapse()
        await pilot.press(*["down"] * 14)
        cursor = tree.cursor_node
        assert isinstance(cursor.data, SubJobRow)  # type: ignore[union-attr]
        cursor_sub = cursor.data.sub_key  # type: ignore[union-attr]
        scroll_y = tree.scroll_offset.y
        assert scroll_y > 0
        nodes_before = {id(node) for node in tree.iter_nodes()}

        sim.advance(60)
        await wait_until(pilot, lambda: finished_subs(app, batch) > 0, "sub-jobs to finish")
        sim.advance(240)
        await wait_until(
            pilot, lambda: finished_subs(app, batch) == 20, "the whole batch to finish"
        )
        await pilot.pause()
        assert tree.cursor_node is cursor
        assert cursor.data.sub_key == cursor_sub  # type: ignore[union-attr]
        assert tree.scroll_offset.y == scroll_y
        assert not slow_node.is_expanded and batch_node.is_expanded
        assert {id(node) for node in tree.iter_nodes()} == nodes_before
        assert batch_node.label.plain.startswith("✗ createServer")
        assert "20/20  ✓18 ✗2" in batch_node.label.plain


async def test_finished_jobs_toast_and_failures_ring_the_bell(dash: SimDashboard) -> None:
    sim = dash.sim
    ok = dash.watch(sim.create_servers(2, fail_count=0, duration=(10.0, 10.0)), "ok one")
    bad = dash.watch(sim.create_servers(2, fail_count=1, duration=(10.0, 10.0)), "bad one")
    app = dash.app(bell_on_fail=True)
    toasts = record_toasts(app)
    bells: list[bool] = []
    app.bell = lambda: bells.append(True)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: snapshot_job(app, bad) is not None, "first snapshots")
        sim.advance(30)
        await wait_until(
            pilot,
            lambda: all((j := snapshot_job(app, k)) and j.is_terminal for k in (ok, bad)),
            "both jobs to end",
        )
        await pilot.pause()
        messages = [(n.title, n.message) for n in toasts]
        assert ("Job failed", f"bad one {bad.short_id} failed (1 sub-job failed)") in messages
        assert ("Job succeeded", f"ok one {ok.short_id} finished") in messages
        assert bells == [True]


async def test_toasts_and_bell_can_be_turned_off(dash: SimDashboard) -> None:
    sim = dash.sim
    bad = dash.watch(sim.create_servers(1, fail_count=1, duration=(10.0, 10.0)))
    app = dash.app(bell_on_fail=False, notify_finished=False)
    toasts = record_toasts(app)
    bells: list[bool] = []
    app.bell = lambda: bells.append(True)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: snapshot_job(app, bad) is not None, "first snapshot")
        sim.advance(30)
        await wait_until(pilot, lambda: snapshot_job(app, bad).is_terminal, "the job to end")
        assert not [n for n in toasts if n.title in ("Job failed", "Job succeeded")]
        assert bells == []


async def test_markup_and_escapes_from_the_api_are_shown_literally(dash: SimDashboard) -> None:
    job_id = "abc123markup"
    dash.sim.put_job(
        {
            "job_id": job_id,
            "job_type": "createServer",
            "status": "FAIL",
            "begin_time": "2026-03-02T09:40:00.000Z",
            "end_time": "2026-03-02T09:41:00.000Z",
            "error_code": "Ecs.0319",
            "fail_reason": MARKUP_REASON,
            "entities": {
                "sub_jobs_total": 1,
                "sub_jobs": [
                    {
                        "job_id": "abc123markup-1",
                        "job_type": "[red]createSingleServer[/red]",
                        "status": "FAIL",
                        "begin_time": "2026-03-02T09:40:00.000Z",
                        "end_time": "2026-03-02T09:41:00.000Z",
                        "error_code": "Ecs.0319",
                        "fail_reason": MARKUP_REASON,
                        "entities": {
                            "server_id": "[link=x]srv[/link]",
                            "errorcode_message": "\x07",
                        },
                    }
                ],
            },
        }
    )
    key = dash.watch(job_id)
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: snapshot_job(app, key) is not None, "the snapshot")
        await pilot.press("n")
        details = shown(app.dashboard.details.body)
        assert "[bold red]boom[/] \\x1b[2J" in details
        assert "[red]createSingleServer[/red]" in details
        assert "[link=x]srv[/link]" in details and "\\x07" in details
        node = app.dashboard.job_tree.cursor_node
        assert node is not None and "[red]createSingleServer[/red]" in node.label.plain
        assert all(span.style != "red" for span in node.label.spans)
        screen = html.unescape(app.export_screenshot()).replace("\xa0", " ")
        assert "\x1b" not in screen and "\x07" not in screen
        assert "[bold red]boom[/] \\x1b[2J" in screen


async def test_fetch_errors_show_in_the_node_and_keep_the_snapshot(dash: SimDashboard) -> None:
    key = dash.watch(dash.sim.create_servers(1, fail_count=0, duration=(5.0, 5.0)), "web")
    dash.sim.advance(60)
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: is_finished(app, key), "the final snapshot")
        dash.sim.inject("server_error", job_id=key.job_id, status=503, count=1)
        await pilot.press("r")
        await wait_until(
            pilot, lambda: app.watchlist.snapshots[key].error_kind == "server", "the failed fetch"
        )
        node = app.dashboard.job_tree.job_node(key)
        assert node is not None
        # Drawn with the next batch of updates; the details at most 4 times a second.
        await wait_until(pilot, lambda: "! server" in node.label.plain, "the row to show it")
        assert node.label.plain.startswith("✓ createServer")
        assert "! server: server error (HTTP 503)" in node.label.plain
        await wait_until(
            pilot,
            lambda: "Last fetch failed (server)" in shown(app.dashboard.details.body),
            "the details to show it",
        )
        assert "1 unreachable" not in shown(app.dashboard.header)  # it still has a job to show


@pytest.fixture
def purging_sim() -> Iterator[Simulator]:
    config = SimulatorConfig(manual_clock=True, start_time=FROZEN, seed=2, purge_after=60.0)
    with Simulator(config) as sim:
        yield sim


async def test_a_purged_job_says_expired_not_error(purging_sim: Simulator, store: Store) -> None:
    headers = {"X-Auth-Token": purging_sim.credentials.token}
    async with httpx.AsyncClient(headers=headers) as http:
        dash = SimDashboard(purging_sim, http, store)
        key = dash.watch(purging_sim.create_servers(1, fail_count=0, duration=(5.0, 5.0)))
        purging_sim.advance(30)
        app = dash.app()
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: is_finished(app, key), "the final snapshot")
            purging_sim.advance(600)
            await pilot.press("r")
            await wait_until(pilot, lambda: app.watchlist.snapshots[key].expired, "expiry")
            # Drawn with the next batch of updates; the details at most 4 times a second.
            await wait_until(
                pilot,
                lambda: "Expired" in shown(app.dashboard.details.body),
                "the details to show the expiry",
            )
            label = app.dashboard.job_tree.job_node(key).label.plain  # type: ignore[union-attr]
            assert label.startswith("✓ createServer") and label.endswith("expired")
            assert "error" not in label and "not_found" not in label
            assert "1 expired" in shown(app.dashboard.header)
            assert "Expired" in shown(app.dashboard.details.body)


async def test_bad_credentials_are_reported_once_in_the_header(
    simulator: Simulator, store: Store
) -> None:
    async with httpx.AsyncClient(headers={"X-Auth-Token": "not-a-token"}) as http:
        dash = SimDashboard(simulator, http, store)
        first = dash.watch(simulator.create_servers(1, fail_count=0))
        second = dash.watch(simulator.create_servers(1, fail_count=0))
        app = dash.app()
        toasts = record_toasts(app)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(
                pilot,
                lambda: all(
                    k in app.watchlist.snapshots and app.watchlist.snapshots[k].error_kind
                    for k in (first, second)
                ),
                "both fetches to fail",
            )
            await pilot.press("R")
            await pilot.pause(0.2)
            header = shown(app.dashboard.header)
            assert "⚠ not authorized" in header
            alerts = [n for n in toasts if n.title == "Check the credentials"]
            assert len(alerts) == 1


def header_words(app: JobDashApp) -> str:
    """The header's text with line wrapping undone."""
    return " ".join(shown(app.dashboard.header).split())


async def test_a_locked_store_shows_in_the_header_and_polling_goes_on(
    simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jobdash.poll.store_writer.STORE_RETRY_AFTER", 0.2)
    with Store(tmp_path / "watchlist.sqlite3", busy_timeout=0.05) as store:
        headers = {"X-Auth-Token": simulator.credentials.token}
        async with httpx.AsyncClient(headers=headers) as http:
            dash = SimDashboard(simulator, http, store)
            key = dash.watch(simulator.create_servers(2, fail_count=0))
            app = dash.app()
            # Another program holds the database: every write fails until it lets go.
            locker = sqlite3.connect(store.path, isolation_level=None)
            locker.execute("BEGIN EXCLUSIVE")
            try:
                async with app.run_test(size=SIZE) as pilot:
                    await wait_until(
                        pilot, lambda: snapshot_job(app, key) is not None, "the job to be fetched"
                    )
                    await wait_until(
                        pilot, lambda: "is locked" in header_words(app), "the store problem"
                    )
                    assert "⚠ updates kept in memory" in header_words(app)
                    assert app.is_running
                    locker.execute("ROLLBACK")
                    await wait_until(
                        pilot, lambda: "is locked" not in header_words(app), "the store to recover"
                    )
            finally:
                locker.close()
            stored = store.snapshots()[key]
            assert stored.job is not None and stored.job.job_id == key.job_id


class BrokenPoller(StillPoller):
    runs = 0

    async def run(self) -> None:
        BrokenPoller.runs += 1
        raise RuntimeError("kaput")


async def test_a_failing_worker_is_reported_and_the_app_keeps_going(sample_store: Store) -> None:
    app = JobDashApp(
        DashboardContext(
            store=sample_store, poller_factory=lambda _u: BrokenPoller(), clock=lambda: FROZEN
        )
    )
    toasts = record_toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: any("RuntimeError: kaput" in n.message for n in toasts),
            "the worker error to be reported",
        )
        await pilot.press("f")
        assert app.is_running and app.dashboard.filter.failed_only
        assert [n.data.key.job_id for n in app.dashboard.job_tree.root.children][:2] == [
            BATCH_ID,
            STOP_ID,
        ]  # type: ignore[union-attr]


async def test_stored_snapshots_show_at_once_and_times_tick_without_fetching(
    sample_store: Store,
) -> None:
    now = [FROZEN]
    poller = StillPoller()
    app = JobDashApp(
        DashboardContext(store=sample_store, poller_factory=lambda _u: poller, clock=lambda: now[0])
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        batch = app.dashboard.job_tree.root.children[0]
        # The estimate comes from the sample's history: createServer x20 took 16m (median).
        assert "14/20  ✓12 ✗2 12m00s ~4m left «web tier»" in batch.label.plain
        assert "refreshed 4s ago" in shown(app.dashboard.header)
        now[0] = FROZEN.replace(second=5)
        await wait_until(pilot, lambda: "12m05s" in batch.label.plain, "the clock tick")
        assert "refreshed 9s ago" in shown(app.dashboard.header)
        assert poller.refreshed == []


async def test_theme_change_recolours_statuses(still_app: JobDashApp) -> None:
    async with still_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        stop = still_app.dashboard.job_tree.root.children[1]

        def icon_colour() -> str | None:
            style = next(span.style for span in stop.label.spans if span.start == 0)
            return style.color.triplet.hex if style.color and style.color.triplet else None  # type: ignore[union-attr]

        assert icon_colour() == "#b93c5b"  # textual-dark's $error
        still_app.theme = "gruvbox"
        await wait_until(pilot, lambda: icon_colour() == "#fa4934", "gruvbox's $error")


async def test_entries_from_another_process_appear_and_disappear(
    simulator: Simulator, sim_http: httpx.AsyncClient, subprocess_env: dict[str, str]
) -> None:
    job_id = simulator.create_servers(2, fail_count=0, duration=(5.0, 5.0))
    env = {**subprocess_env, "OS_AUTH_TOKEN": simulator.credentials.token}
    flags = ["--endpoint", simulator.url, "--project-id", simulator.project_id]
    with Store() as store:  # the user's watchlist, as `jobdash add` sees it
        dash = SimDashboard(simulator, sim_http, store)
        app = dash.app()
        toasts = record_toasts(app)
        async with app.run_test(size=SIZE) as pilot:
            assert not app.dashboard.job_tree.root.children

            async def jobdash(*args: str) -> None:
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "jobdash",
                    *args,
                    env=env,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                out, err = await process.communicate()
                assert process.returncode == 0, (out, err)

            await jobdash("add", job_id, "--label", "from elsewhere", *flags)
            key = dash.key(job_id)
            await wait_until(
                pilot, lambda: snapshot_job(app, key) is not None, "the added job to be fetched"
            )
            node = app.dashboard.job_tree.job_node(key)
            assert node is not None and "«from elsewhere»" in node.label.plain
            await jobdash("rm", job_id)
            await wait_until(
                pilot, lambda: app.dashboard.job_tree.job_node(key) is None, "the removal"
            )
            assert key not in app.watchlist.entries
            told = [t.message for t in toasts if t.title == "Watchlist"]
            assert told == [
                "Changed by another jobdash: 1 added.",
                "Changed by another jobdash: 1 removed.",
            ]


async def test_a_drawing_error_is_reported_and_not_fatal(
    dash: SimDashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = dash.watch(dash.sim.create_servers(2, fail_count=0, duration=(30.0, 30.0)))
    dash.sim.advance(5)
    app = dash.app()
    toasts = record_toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: snapshot_job(app, key) is not None, "the snapshot")

        def broken(*_args: object, **_kwargs: object) -> None:
            raise ValueError("cannot draw this")

        monkeypatch.setattr("jobdash.tui.widgets.job_tree.sub_job_label", broken)
        dash.sim.advance(60)
        await wait_until(
            pilot,
            lambda: any("ValueError: cannot draw this" in n.message for n in toasts),
            "the error to be reported",
        )
        await pilot.pause(0.2)
        assert app.is_running
        reported = [n for n in toasts if "cannot draw this" in n.message]
        assert len({n.message for n in reported}) == len(reported)  # each said once


async def test_throttling_shows_in_the_header_with_its_back_off(dash: SimDashboard) -> None:
    key = dash.watch(dash.sim.create_servers(1, fail_count=0, duration=(900.0, 900.0)))
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: snapshot_job(app, key) is not None, "the snapshot")
        dash.sim.inject("throttle", count=None, retry_after=120)
        await pilot.press("r")
        await wait_until(
            pilot, lambda: "throttled" in shown(app.dashboard.header), "the throttled state"
        )
        assert re.search(
            r"⚠ throttled ×\d+ since \d\d:\d\d:\d\d, backing off 1m", shown(app.dashboard.header)
        )
        assert snapshot_job(app, key) is not None  # the last snapshot stays
        dash.sim.clear_faults()
