"""The first frame of a large watchlist shows every job's real counts without parsing the
sub-jobs of jobs nobody looks into; opening a job parses that job's sub-jobs only."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import SIZE
from tui_sample import ENDPOINT, FROZEN, PROJECT, api_time, at

from jobdash.api import model
from jobdash.api.model import SubJob, parse_job
from jobdash.store.core import Store
from jobdash.tui.app import JobDashApp
from jobdash.tui.context import DashboardContext
from jobdash.tui.still import StillPoller
from jobdash.tui.view import SubJobRow
from jobdash.watch.values import PollUpdate, WatchEntry, WatchKey

#: Above the auto-open budget (300 rows), so no job opens by itself.
SUBS = 400


def big_batch(index: int, done: int, failed: int) -> dict[str, Any]:
    job_id = f"ff8080818f{index:022x}"

    def status(n: int) -> str:
        return "FAIL" if n < failed else "SUCCESS" if n < done else "RUNNING"

    subs = [
        {
            "status": status(n),
            "job_id": f"{job_id[:20]}{n:012x}",
            "job_type": "createSingleServer",
            "begin_time": api_time(at(5)),
            "end_time": api_time(at(1)) if n < done else "",
            "entities": {"server_id": f"{n:08x}-5e4f-4a3b-9c2d-{index:012x}"},
            **({"error_code": "Ecs.0319"} if n < failed else {}),
        }
        for n in range(SUBS)
    ]
    return {
        "status": "RUNNING",
        "job_id": job_id,
        "job_type": "createServer",
        "begin_time": api_time(at(5)),
        "end_time": "",
        "entities": {"sub_jobs_total": SUBS, "sub_jobs": subs},
    }


async def test_the_first_frame_counts_every_job_and_parses_no_sub_job(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    progress = [(0, 0), (10, 0), (250, 3), (400, 0)]  # (finished, failed) per job
    keys = [WatchKey(ENDPOINT, PROJECT, f"ff8080818f{i:022x}") for i in range(len(progress))]
    store.add(WatchEntry(key, f"batch {i}") for i, key in enumerate(keys))
    for i, (key, (done, failed)) in enumerate(zip(keys, progress, strict=True)):
        store.record(PollUpdate(key, FROZEN, job=parse_job(big_batch(i, done, failed))))
    parsed: list[Any] = []
    original = model.parse_sub_job

    def counting(data: Any) -> SubJob:
        parsed.append(data)
        return original(data)

    monkeypatch.setattr(model, "parse_sub_job", counting)
    app = JobDashApp(
        DashboardContext(
            store=store,
            poller_factory=lambda _on_update: StillPoller(),
            clock=lambda: FROZEN,
            endpoint=ENDPOINT,
            project_id=PROJECT,
            bell_on_fail=False,
        )
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        tree = app.dashboard.job_tree
        labels = []
        for key in keys:
            node = tree.job_node(key)
            assert node is not None and node.allow_expand and not node.is_expanded
            labels.append(node.label.plain)
        assert "0/400" in labels[0]
        assert "10/400" in labels[1] and "✓10" in labels[1]
        assert "250/400" in labels[2] and "✓247" in labels[2] and "✗3" in labels[2]
        assert "400/400" in labels[3] and "✓400" in labels[3]
        # Counts, totals and failures come from the stored bodies; only the failed sub-jobs
        # (three, of one job) are parsed, to look up their servers.
        assert len(parsed) == 3
        assert {body["job_id"][:20] for body in parsed} == {keys[2].job_id[:20]}
        assert all(body["status"] == "FAIL" for body in parsed)
        parsed.clear()

        node = tree.job_node(keys[1])
        assert node is not None
        node.expand()
        await pilot.pause()
        assert len(node.children) == SUBS
        assert all(isinstance(child.data, SubJobRow) for child in node.children)
        # That job's sub-jobs, parsed once; no other job's.
        assert len(parsed) == SUBS
        assert {body["job_id"][:20] for body in parsed} == {keys[1].job_id[:20]}
        await pilot.press("q")
