"""The dashboard says what is going on: empty watchlist, a filter hiding everything, raw mode."""

from __future__ import annotations

from conftest import SIZE, record_toasts, shown
from tui_sample import ENDPOINT, FROZEN, PROJECT

from jobdash.store.core import Store
from jobdash.tui.app import JobDashApp
from jobdash.tui.context import DashboardContext
from jobdash.tui.still import StillPoller


def empty_app(store: Store) -> JobDashApp:
    return JobDashApp(
        DashboardContext(
            store=store,
            poller_factory=lambda _on_update: StillPoller(),
            clock=lambda: FROZEN,
            endpoint=ENDPOINT,
            project_id=PROJECT,
        )
    )


async def test_an_empty_watchlist_says_how_to_add_jobs(store: Store) -> None:
    app = empty_app(store)
    toasts = record_toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = " ".join(shown(app.dashboard.details.body).split())
        assert "No jobs watched yet." in text
        assert "jobdash add" in text
        await pilot.press("d")
        await pilot.press("x")
        assert [t.message for t in toasts] == ["No jobs watched yet: press a to add job ids."] * 2


async def test_a_filter_that_hides_everything_says_how_to_undo_it(still_app: JobDashApp) -> None:
    toasts = record_toasts(still_app)
    async with still_app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"no-such-thing", "enter")
        await pilot.pause()
        assert not still_app.dashboard.job_tree.root.children
        assert str(still_app.dashboard.job_tree.border_title).startswith("Jobs (0 of 7) · matching")
        assert "No job matches the filter." in shown(still_app.dashboard.details.body)
        await pilot.press("l")
        assert toasts[-1].message == "No job matches the filter: f or / changes it."


async def test_the_details_title_says_when_raw_json_is_on(still_app: JobDashApp) -> None:
    async with still_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert still_app.dashboard.details.border_title == "Details"
        await pilot.press("j")
        assert still_app.dashboard.details.border_title == "Raw JSON · j for fields"
        await pilot.press("down")
        assert still_app.dashboard.details.border_title == "Raw JSON · j for fields"
        await pilot.press("j")
        assert still_app.dashboard.details.border_title == "Details"
