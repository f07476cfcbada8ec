"""The header's polling note: how this dashboard gets its updates, beside the poller's state."""

from __future__ import annotations

from conftest import SIZE, shown

from jobdash.tui.app import JobDashApp


def _status_line(app: JobDashApp) -> str:
    return shown(app.dashboard.header, width=SIZE[0]).splitlines()[0]


async def test_a_polling_note_shows_on_the_status_line_until_cleared(
    still_app: JobDashApp,
) -> None:
    async with still_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        header = still_app.dashboard.header
        assert "following" not in _status_line(still_app)
        header.polling_note = "following host:1234"
        still_app.dashboard.refresh_header()
        line = _status_line(still_app)
        # Beside the poller's state, which it does not replace.
        assert "following host:1234" in line and "live" in line, line
        assert line.index("following host:1234") < line.index("live")
        header.polling_note = None
        still_app.dashboard.refresh_header()
        assert "following" not in _status_line(still_app)


async def test_the_polling_note_stays_on_one_line_beside_discovery(still_app: JobDashApp) -> None:
    async with still_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        header = still_app.dashboard.header
        header.polling_note = "polling for\nthis watchlist"
        header.discovery = "discovering every 5 min"
        still_app.dashboard.refresh_header()
        line = _status_line(still_app)
        assert "polling for this watchlist" in line, line
        assert "discovering every 5 min" in line, line
