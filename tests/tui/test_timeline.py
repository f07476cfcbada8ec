"""The timeline (`t`): rendering on a fixed clock, a snapshot, and running bars growing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conftest import SIZE, shown, wait_until
from textual.pilot import Pilot
from tui_sample import BATCH_ID, FROZEN, batch_body, sample_servers, stop_body

from jobdash.api.model import parse_job
from jobdash.store.core import Store
from jobdash.tui.app import JobDashApp
from jobdash.tui.context import DashboardContext
from jobdash.tui.render_timeline import BAR, NAME_WIDTH, timeline
from jobdash.tui.screens.timeline import TimelineScreen
from jobdash.tui.still import StillPoller

WIDE = (120, 40)


def _bars(text: str) -> list[str]:
    return [line for line in text.splitlines()[2:]]


def test_bars_on_one_axis() -> None:
    job = parse_job(stop_body())
    lines = _bars(timeline(job, FROZEN, 80).plain)
    assert len(lines) == 3
    # All three began together; the failure ended first, the last success last.
    starts = [line.index(BAR) for line in lines]
    ends = [line.rindex(BAR) for line in lines]
    assert len(set(starts)) == 1 and starts[0] == NAME_WIDTH + 1
    assert ends[1] < ends[0] < ends[2]
    assert lines[1].rstrip().endswith("30s") and lines[2].rstrip().endswith("1m18s")
    assert all(len(line) <= 80 for line in timeline(job, FROZEN, 80).plain.splitlines())


def test_server_names_label_the_bars_and_running_bars_reach_now() -> None:
    job = parse_job(batch_body())
    infos = {info.server_id: info for info in sample_servers()}
    chart = timeline(job, FROZEN, 100, server_for=lambda sub: infos.get(sub.server_id or ""))
    lines = _bars(chart.plain)
    assert lines[3].startswith("web-0004")
    running = [line for line, sub in zip(lines, job.sub_jobs, strict=True) if not sub.end_time]
    # The axis ends now: running bars run to its end, ended ones stop before.
    assert all(line[: 100 - 8].rstrip().endswith(BAR) for line in running)
    columns = 100 - NAME_WIDTH - 8 - 2
    assert all(
        len(line[: NAME_WIDTH + 1 + columns].rstrip()) == NAME_WIDTH + 1 + columns
        for line in running
    )
    assert timeline(parse_job({"job_id": "x", "status": "INIT"}), FROZEN, 80).plain.startswith(
        "This job has no sub-jobs"
    )


async def _open_batch_timeline(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.press("t")  # the batch is the first job, under the cursor
    await pilot.pause()


def test_timeline_snapshot(still_app: JobDashApp, snap_compare: Any) -> None:
    assert snap_compare(still_app, terminal_size=WIDE, run_before=_open_batch_timeline)


async def test_running_bars_grow_with_the_clock(sample_store: Store) -> None:
    now = [FROZEN]
    app = JobDashApp(
        DashboardContext(
            store=sample_store,
            poller_factory=lambda _u: StillPoller(),
            clock=lambda: now[0],
            tick_interval=0.05,
        )
    )
    async with app.run_test(size=SIZE) as pilot:
        await _open_batch_timeline(pilot)
        screen = app.screen
        assert isinstance(screen, TimelineScreen) and screen.key.job_id == BATCH_ID

        def finished_width() -> int:
            chart = shown(screen.chart)
            bars = [line for line in chart.splitlines() if BAR in line]
            return max(line.rindex(BAR) - line.index(BAR) for line in bars[:14])

        await wait_until(pilot, lambda: BAR in shown(screen.chart), "the chart")
        before = finished_width()
        now[0] = FROZEN + timedelta(minutes=12)  # twice as long since the batch began
        await wait_until(pilot, lambda: finished_width() < before, "the bars to rescale")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TimelineScreen)
