"""`C` / `Y`: every failed server of the selected job, one a line, for a script."""

from __future__ import annotations

from conftest import SIZE, record_toasts
from tui_sample import DELETE_ID, batch_body

from jobdash.tui.app import JobDashApp
from jobdash.tui.view import JobRow


def _failed_server_ids() -> list[str]:
    subs = batch_body()["entities"]["sub_jobs"]
    return [s["entities"]["server_id"] for s in subs if s["status"] == "FAIL"]


async def test_copies_every_failed_server_of_the_job(still_app: JobDashApp) -> None:
    toasts = record_toasts(still_app)
    async with still_app.run_test(size=SIZE) as pilot:
        await pilot.pause()  # the cursor starts on the batch, which has two failures
        await pilot.press("C")
        assert still_app.clipboard == "\n".join(_failed_server_ids()) + "\n"
        assert "2 failed server ids" in toasts[-1].message
        # Names where known: web-0004 has one; the other is gone, so its id stands in.
        await pilot.press("Y")
        assert still_app.clipboard == f"web-0004\n{_failed_server_ids()[1]}\n"
        assert "1 names not known yet" in toasts[-1].message
        # The same from a failed sub-job's row: it acts on the whole job.
        await pilot.press("n", "C")
        assert still_app.clipboard.count("\n") == 2
        # A job without failures says so and copies nothing.
        before = still_app.clipboard
        delete = next(k for k in still_app.watchlist.entries if k.job_id == DELETE_ID)
        still_app.dashboard.job_tree.go_to(JobRow(delete))
        await pilot.pause()
        await pilot.press("C")
        assert still_app.clipboard == before
        assert "no failed servers" in toasts[-1].message
