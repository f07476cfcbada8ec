"""An update costs what it changed: one job's update touches that job's rows only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from conftest import SIZE
from tui_sample import BATCH_ID, ENDPOINT, FROZEN, PROJECT, STOP_ID, api_time, batch_body

from jobdash.api.ids import keyed_sub_jobs
from jobdash.api.model import Job, parse_job
from jobdash.store.core import Store
from jobdash.tui.app import JobDashApp
from jobdash.tui.context import DashboardContext
from jobdash.tui.still import StillPoller
from jobdash.tui.view import JobRow, SubJobRow
from jobdash.tui.widgets import job_tree
from jobdash.watch.values import PollUpdate, WatchKey

BATCH = WatchKey(ENDPOINT, PROJECT, BATCH_ID)


def finish_two_running_sub_jobs() -> dict:
    body = batch_body()
    running = [sub for sub in body["entities"]["sub_jobs"] if sub["status"] == "RUNNING"]
    for sub in running[:2]:
        sub["status"] = "SUCCESS"
        sub["end_time"] = api_time(FROZEN)
    return body


def changed_keys(before: Job | None, after: Job) -> tuple[str, ...]:
    """What the poller names for `after`: the sub-jobs whose status moved."""
    old = {key: sub.status for key, sub in keyed_sub_jobs(before)}
    return tuple(key for key, sub in keyed_sub_jobs(after) if old.get(key) != sub.status)


def quiet_app(store: Store) -> JobDashApp:
    """No clock tick during the test: every label built is the update's doing."""
    return JobDashApp(
        DashboardContext(
            store=store,
            poller_factory=lambda _on_update: StillPoller(),
            clock=lambda: FROZEN,
            tick_interval=3600,
        )
    )


def count_labels(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    built: list[str] = []
    for name in ("job_label", "sub_job_label"):
        original = getattr(job_tree, name)

        def counting(*args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
            built.append(_name)
            return _original(*args, **kw)

        monkeypatch.setattr(job_tree, name, counting)
    return built


async def test_an_update_relabels_only_its_own_job_rows(
    sample_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    still_app = quiet_app(sample_store)
    batch = BATCH
    built = count_labels(monkeypatch)
    async with still_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        tree = still_app.dashboard.job_tree
        batch_node = tree.job_node(batch)
        assert batch_node is not None and batch_node.is_expanded and batch_node.children
        labels_before = {id(node): node.label for node in tree.iter_nodes()}
        relabelled_before = tree.relabelled
        built.clear()

        job = parse_job(finish_two_running_sub_jobs())
        names = changed_keys(still_app.watchlist.job(batch), job)
        assert len(names) == 2
        fetched = FROZEN + timedelta(seconds=1)
        update = PollUpdate(batch, fetched, job=job, changed=True, changed_sub_jobs=names)
        still_app.poll_update_sink(update)
        await pilot.pause()

        changed = [node for node in tree.iter_nodes() if node.label != labels_before[id(node)]]
        # The job's own row (its progress) and the two sub-jobs that finished; nothing else.
        assert len(changed) == 3
        assert all(node.data is not None and node.data.key == batch for node in changed)
        assert isinstance(changed[0].data, JobRow)
        assert all(isinstance(node.data, SubJobRow) for node in changed[1:])
        assert tree.relabelled - relabelled_before == 3
        # Labels were built for those rows only, not for every row of the watchlist.
        assert sorted(built) == ["job_label", "sub_job_label", "sub_job_label"]
        assert "16/20" in batch_node.label.plain


async def test_a_collapsed_job_has_no_sub_job_rows_until_expanded(still_app: JobDashApp) -> None:
    stop = WatchKey(ENDPOINT, PROJECT, STOP_ID)
    async with still_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        tree = still_app.dashboard.job_tree
        node = tree.job_node(stop)
        assert node is not None
        node.collapse()
        await pilot.pause()
        assert not node.children and node.allow_expand
        node.expand()
        await pilot.pause()
        assert [child.data for child in node.children] == [
            SubJobRow(stop, key) for key, _sub in keyed_sub_jobs(still_app.watchlist.job(stop))
        ]


async def test_the_tree_redraws_the_sub_jobs_the_update_names_and_no_others(
    sample_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The poller is the one change detector: a sub-job it does not name keeps its row as
    # drawn, even when its body differs (the tree compares nothing itself).
    app = quiet_app(sample_store)
    built = count_labels(monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        tree = app.dashboard.job_tree
        labels_before = {node.data: node.label for node in tree.iter_nodes()}
        built.clear()

        job = parse_job(finish_two_running_sub_jobs())
        named, unnamed = changed_keys(app.watchlist.job(BATCH), job)
        fetched = FROZEN + timedelta(seconds=1)
        app.poll_update_sink(
            PollUpdate(BATCH, fetched, job=job, changed=True, changed_sub_jobs=(named,))
        )
        await pilot.pause()

        relabelled = {
            node.data for node in tree.iter_nodes() if node.label != labels_before[node.data]
        }
        assert relabelled == {JobRow(BATCH), SubJobRow(BATCH, named)}
        assert sorted(built) == ["job_label", "sub_job_label"]
        assert SubJobRow(BATCH, unnamed) in labels_before

        # An answer that changed nothing redraws no row at all (the tick moves the times).
        built.clear()
        later = FROZEN + timedelta(seconds=2)
        app.poll_update_sink(PollUpdate(BATCH, later, job=job))
        await pilot.pause()
        assert built == []


async def test_cursor_and_expansion_survive_updates_by_key(sample_store: Store) -> None:
    app = quiet_app(sample_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        tree = app.dashboard.job_tree
        batch_node = tree.job_node(BATCH)
        assert batch_node is not None and batch_node.is_expanded
        await pilot.press("down", "down", "down")
        cursor = tree.cursor_node
        assert cursor is not None and isinstance(cursor.data, SubJobRow)
        rows_before = list(batch_node.children)

        job = parse_job(finish_two_running_sub_jobs())
        names = changed_keys(app.watchlist.job(BATCH), job)
        fetched = FROZEN + timedelta(seconds=1)
        app.poll_update_sink(
            PollUpdate(BATCH, fetched, job=job, changed=True, changed_sub_jobs=names)
        )
        await pilot.pause()

        assert batch_node.is_expanded
        assert list(batch_node.children) == rows_before  # the same rows, relabelled in place
        assert tree.cursor_node is cursor


async def test_the_details_are_not_drawn_again_for_an_update_that_changes_nothing_shown(
    sample_store: Store,
) -> None:
    app = quiet_app(sample_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        tree, details = app.dashboard.job_tree, app.dashboard.details
        await pilot.press("down")  # the batch's first sub-job
        await pilot.pause()
        shown = tree.selected
        assert isinstance(shown, SubJobRow) and details.shown == shown
        job = parse_job(finish_two_running_sub_jobs())
        names = changed_keys(app.watchlist.job(BATCH), job)
        assert shown.sub_key not in names
        body_draws, summary_draws = details.body_draws, details.summary_draws

        # Other sub-jobs of the same job changed: the sub-job shown did not.
        fetched = FROZEN + timedelta(seconds=1)
        update = PollUpdate(BATCH, fetched, job=job, changed=True, changed_sub_jobs=names)
        app.poll_update_sink(update)
        await pilot.pause(0.3)
        assert (details.body_draws, details.summary_draws) == (body_draws, summary_draws)

        # The job's own row: a fetch that changed nothing leaves its summary (and, until the
        # clock ticks, its head) as drawn; one that changed the job redraws both.
        await pilot.press("up")
        await pilot.pause()
        assert details.shown == JobRow(BATCH)
        body_draws, summary_draws = details.body_draws, details.summary_draws
        app.poll_update_sink(PollUpdate(BATCH, FROZEN + timedelta(seconds=2), job=job))
        await pilot.pause(0.3)
        assert (details.body_draws, details.summary_draws) == (body_draws, summary_draws)

        again = parse_job(batch_body())
        update = PollUpdate(
            BATCH,
            FROZEN + timedelta(seconds=3),
            job=again,
            changed=True,
            changed_sub_jobs=changed_keys(job, again),
        )
        app.poll_update_sink(update)
        await pilot.pause(0.3)
        assert details.summary_draws == summary_draws + 1
        assert details.body_draws == body_draws + 1

        # The clock moves the head only: the summary is not laid out again.
        app.dashboard.tick()
        assert details.body_draws == body_draws + 2
        assert details.summary_draws == summary_draws + 1
