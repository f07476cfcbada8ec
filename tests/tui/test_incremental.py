"""An update costs what it changed: one job's update touches that job's rows only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from conftest import SIZE
from tui_sample import BATCH_ID, ENDPOINT, FROZEN, PROJECT, STOP_ID, api_time, batch_body

from jobdash.api.ids import keyed_sub_jobs
from jobdash.api.model import parse_job
from jobdash.store import Store
from jobdash.tui.app import JobDashApp
from jobdash.tui.context import DashboardContext
from jobdash.tui.still import StillPoller
from jobdash.tui.view import JobRow, SubJobRow
from jobdash.tui.widgets import job_tree
from jobdash.watch.values import PollUpdate, WatchKey


def finish_two_running_sub_jobs() -> dict:
    body = batch_body()
    running = [sub for sub in body["entities"]["sub_jobs"] if sub["status"] == "RUNNING"]
    for sub in running[:2]:
        sub["status"] = "SUCCESS"
        sub["end_time"] = api_time(FROZEN)
    return body


async def test_an_update_relabels_only_its_own_job_rows(
    sample_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No clock tick during the test: every label built is the update's doing.
    still_app = JobDashApp(
        DashboardContext(
            store=sample_store,
            poller_factory=lambda _on_update: StillPoller(),
            clock=lambda: FROZEN,
            tick_interval=3600,
        )
    )
    batch = WatchKey(ENDPOINT, PROJECT, BATCH_ID)
    built: list[str] = []
    for name in ("job_label", "sub_job_label"):
        original = getattr(job_tree, name)

        def counting(*args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
            built.append(_name)
            return _original(*args, **kw)

        monkeypatch.setattr(job_tree, name, counting)
    async with still_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        tree = still_app.dashboard.job_tree
        batch_node = tree.job_node(batch)
        assert batch_node is not None and batch_node.is_expanded and batch_node.children
        labels_before = {id(node): node.label for node in tree.iter_nodes()}
        relabelled_before = tree.relabelled
        built.clear()

        job = parse_job(finish_two_running_sub_jobs())
        fetched = FROZEN + timedelta(seconds=1)
        still_app.poll_update_sink(PollUpdate(batch, fetched, job=job, changed=True))
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
