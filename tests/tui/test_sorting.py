"""Sorting: `o` cycles the order, the cursor stays on its job (or sub-job), the choice is
remembered in the store."""

from __future__ import annotations

from conftest import SIZE, wait_until
from tui_sample import (
    BATCH_ID,
    DELETE_ID,
    EXPIRED_ID,
    FROZEN,
    SINGLE_ID,
    STOP_ID,
    UNREACHABLE_ID,
    WAITING_ID,
)

from jobdash.store.core import Store
from jobdash.tui.app import JobDashApp
from jobdash.tui.context import DashboardContext
from jobdash.tui.still import StillPoller
from jobdash.tui.view import JobRow, SortOrder, SubJobRow, sort_jobs
from jobdash.watch.watchlist import Watchlist


def _ids(app: JobDashApp) -> list[str]:
    return [key.job_id for key in app.dashboard.job_tree.shown_jobs]


def _app(store: Store) -> JobDashApp:
    return JobDashApp(
        DashboardContext(store=store, poller_factory=lambda _u: StillPoller(), clock=lambda: FROZEN)
    )


def test_each_order(sample_store: Store) -> None:
    watchlist = Watchlist.load(sample_store)
    keys = list(watchlist.entries)
    by_order = {
        order: [k.job_id for k in sort_jobs(keys, watchlist, order, FROZEN)] for order in SortOrder
    }
    watchlist.close()
    assert by_order[SortOrder.WATCHLIST] == [k.job_id for k in keys]
    assert by_order[SortOrder.FAILED_FIRST][:3] == [BATCH_ID, STOP_ID, UNREACHABLE_ID]
    # By when each began (or, without a job, was added): the single job 30s ago first.
    assert by_order[SortOrder.RECENT_FIRST][:4] == [SINGLE_ID, BATCH_ID, STOP_ID, DELETE_ID]
    # Running jobs by their time so far, then ended ones by how long they took.
    assert by_order[SortOrder.LONGEST_RUNNING][:3] == [BATCH_ID, SINGLE_ID, EXPIRED_ID]
    assert by_order[SortOrder.LONGEST_RUNNING][-2:] == [UNREACHABLE_ID, WAITING_ID]
    assert SortOrder.parse("nonsense") is SortOrder.WATCHLIST
    assert [o.next() for o in SortOrder][-1] is SortOrder.WATCHLIST


async def test_sorting_keeps_the_cursor_and_is_remembered(sample_store: Store) -> None:
    app = _app(sample_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        tree = app.dashboard.job_tree
        watched = _ids(app)
        stop = next(key for key in tree.shown_jobs if key.job_id == STOP_ID)
        tree.go_to(JobRow(stop))
        await wait_until(pilot, lambda: tree.cursor_node.data == JobRow(stop), "the cursor")  # type: ignore[union-attr]
        await pilot.press("o")  # failed first
        await pilot.pause()
        assert _ids(app)[:3] == [BATCH_ID, STOP_ID, UNREACHABLE_ID]
        await wait_until(pilot, lambda: tree.cursor_node.data == JobRow(stop), "the cursor")  # type: ignore[union-attr]
        assert "failed first" in str(tree.border_title)
        await pilot.press("o")  # most recent first
        await pilot.pause()
        assert _ids(app)[:3] == [SINGLE_ID, BATCH_ID, STOP_ID]
        await wait_until(pilot, lambda: tree.cursor_node.data == JobRow(stop), "the cursor")  # type: ignore[union-attr]
        # On a sub-job row, the cursor stays on that sub-job.
        await pilot.press("n")
        row = tree.selected
        assert isinstance(row, SubJobRow)
        await wait_until(pilot, lambda: tree.cursor_node.data == row, "the failed sub-job")  # type: ignore[union-attr]
        await pilot.press("o")  # longest running first
        await pilot.pause()
        assert _ids(app) != watched
        await wait_until(pilot, lambda: tree.cursor_node.data == row, "the same sub-job")  # type: ignore[union-attr]
        assert tree.cursor_node.parent.is_expanded  # type: ignore[union-attr]
        await app.action_quit()
    # The next start comes up in the order chosen last.
    again = _app(sample_store)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.dashboard.sort is SortOrder.LONGEST_RUNNING
        assert _ids(again)[:2] == [BATCH_ID, SINGLE_ID]
        await pilot.press("o")
        await pilot.pause()
        assert _ids(again) == watched


async def test_sorting_orders_jobs_within_each_connection(store: Store) -> None:
    from tui_sample import ENDPOINT, PROJECT, api_time, at

    from jobdash.api.model import parse_job
    from jobdash.watch.values import PollUpdate, WatchEntry, WatchKey

    def body(job_id: str, minutes_ago: float) -> dict[str, object]:
        return {
            "job_id": job_id,
            "job_type": "createServer",
            "status": "RUNNING",
            "begin_time": api_time(at(minutes_ago)),
            "end_time": "",
        }

    jobs = {  # watchlist order: the older job of each connection first
        f"{n:032x}": (profile, minutes)
        for n, (profile, minutes) in enumerate(
            [("prod", 30), ("team", 20), ("prod", 5), ("team", 2)], start=1
        )
    }
    for job_id, (profile, minutes) in jobs.items():
        key = WatchKey(ENDPOINT, PROJECT, job_id)
        store.add([WatchEntry(key, profile=profile, region="eu-de", auth_method="token")])
        store.record(PollUpdate(key, FROZEN, job=parse_job(body(job_id, minutes))))
    app = _app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        tree = app.dashboard.job_tree
        first, second, third, fourth = jobs
        assert _ids(app) == [first, third, second, fourth]  # grouped: prod, then team
        older_team = next(k for k in tree.shown_jobs if k.job_id == second)
        tree.go_to(JobRow(older_team))
        await pilot.press("o", "o")  # most recent first, within each connection
        await pilot.pause()
        assert _ids(app) == [third, first, fourth, second]
        await wait_until(pilot, lambda: tree.cursor_node.data == JobRow(older_team), "cursor")  # type: ignore[union-attr]
