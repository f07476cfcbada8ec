"""The stall toast: said once per job when its history says it looks stalled."""

from __future__ import annotations

from datetime import timedelta

from conftest import SIZE, record_toasts
from tui_sample import FROZEN, HISTORY_MINUTES

from jobdash.store.core import Store
from jobdash.tui.app import JobDashApp
from jobdash.tui.context import DashboardContext
from jobdash.tui.still import StillPoller


async def test_a_stalled_job_is_toasted_once(sample_store: Store) -> None:
    now = [FROZEN]
    app = JobDashApp(
        DashboardContext(
            store=sample_store, poller_factory=lambda _u: StillPoller(), clock=lambda: now[0]
        )
    )
    toasts = record_toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        batch = app.dashboard.job_tree.root.children[0]
        app.check_stalls()
        assert not [t for t in toasts if t.title == "Stalled?"]  # 12 minutes in: ~4m left
        # Past the slowest of the sample's earlier batches (18 minutes): stalled.
        now[0] = FROZEN + timedelta(minutes=max(HISTORY_MINUTES) - 12 + 1)
        app.check_stalls()
        app.check_stalls()
        stalled = [t for t in toasts if t.title == "Stalled?"]
        assert len(stalled) == 1 and stalled[0].severity == "warning"
        assert "web tier" in stalled[0].message and "95%" in stalled[0].message
        app.dashboard.tick()
        assert "stalled?" in batch.label.plain
