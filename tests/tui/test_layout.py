"""How the dashboard fits the terminal: ids stay whole, words stay when there is room."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from conftest import wait_until
from rich.console import Console, RenderableType
from textual.widgets import Static
from tui_sample import BATCH_ID, ENDPOINT, FROZEN, PROJECT, batch_body

from jobdash.api.catalog import lookup
from jobdash.api.model import parse_job
from jobdash.tui.app import JobDashApp
from jobdash.tui.keys import COMMANDS
from jobdash.tui.render import counts_text
from jobdash.tui.render_details import job_details, sub_job_details
from jobdash.tui.view import SubJobRow
from jobdash.watch.values import Snapshot, WatchEntry, WatchKey

KEY = WatchKey(ENDPOINT, PROJECT, BATCH_ID)
ENTRY = WatchEntry(KEY, "web tier")


def lines(renderable: RenderableType, width: int) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, force_terminal=False).print(renderable)
    return [line.rstrip() for line in out.getvalue().splitlines()]


def failed_sub() -> object:
    job = parse_job(batch_body())
    return job.failed_sub_jobs[0]


def ids_of(sub: object) -> list[str]:
    return [sub.job_id, sub.server_id, BATCH_ID]  # type: ignore[attr-defined]


def whole_on_a_line(value: str, shown: list[str]) -> bool:
    return any(value in line for line in shown)


@pytest.mark.parametrize("width", [36, 40, 44, 50, 56, 70, 100])
def test_sub_job_ids_are_never_cut_when_a_line_can_hold_them(width: int) -> None:
    sub = failed_sub()
    shown = lines(sub_job_details(ENTRY, sub, FROZEN, lookup=lookup, width=width), width)  # type: ignore[arg-type]
    for value in ids_of(sub):
        assert whole_on_a_line(value, shown), f"{value} cut at width {width}:\n" + "\n".join(shown)
    assert all(len(line) <= width for line in shown)


def test_a_32_character_id_fits_the_narrowest_panel() -> None:
    sub = failed_sub()
    shown = lines(sub_job_details(ENTRY, sub, FROZEN, lookup=lookup, width=33), 33)  # type: ignore[arg-type]
    assert whole_on_a_line(sub.job_id, shown)  # type: ignore[attr-defined]
    assert whole_on_a_line(BATCH_ID, shown)


def test_ids_stay_next_to_their_name_when_they_fit() -> None:
    sub = failed_sub()
    shown = lines(sub_job_details(ENTRY, sub, FROZEN, lookup=lookup, width=60), 60)  # type: ignore[arg-type]
    assert any(line.startswith("server_id") and sub.server_id in line for line in shown)  # type: ignore[attr-defined]
    assert any(line.startswith("job_id") and sub.job_id in line for line in shown)  # type: ignore[attr-defined]


def test_an_id_too_long_for_its_column_gets_a_line_of_its_own() -> None:
    sub = failed_sub()
    shown = lines(sub_job_details(ENTRY, sub, FROZEN, lookup=lookup, width=45), 45)  # type: ignore[arg-type]
    index = shown.index("server_id")
    assert shown[index + 1].strip() == sub.server_id  # type: ignore[attr-defined]


def test_narrow_lists_put_a_time_that_does_not_fit_on_the_next_line() -> None:
    snapshot = Snapshot(KEY, parse_job(batch_body()), FROZEN)
    shown = lines(job_details(ENTRY, snapshot, FROZEN, width=30), 30)
    index = shown.index("begin_time:")
    assert shown[index + 1].strip() == "2026-03-02 09:33:00.000Z"


def test_without_a_width_the_fields_are_a_folding_grid() -> None:
    sub = failed_sub()
    shown = lines(sub_job_details(ENTRY, sub, FROZEN, lookup=lookup), 160)  # type: ignore[arg-type]
    assert any(line.startswith("server_id") and sub.server_id in line for line in shown)  # type: ignore[attr-defined]


def panel_lines(app: JobDashApp) -> list[str]:
    body = app.dashboard.details.body
    assert isinstance(body, Static)
    return lines(body.content, body.size.width)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40), (200, 60)])
async def test_failed_sub_job_ids_are_whole_in_the_panel(
    still_app: JobDashApp, size: tuple[int, int]
) -> None:
    async with still_app.run_test(size=size) as pilot:
        await pilot.press("n")
        await pilot.pause()
        selected = still_app.dashboard.job_tree.selected
        sub = still_app.dashboard.job_tree.sub_job(selected)
        assert isinstance(selected, SubJobRow)
        shown = panel_lines(still_app)
        assert whole_on_a_line(sub.job_id, shown), "\n".join(shown)
        assert whole_on_a_line(BATCH_ID, shown), "\n".join(shown)
        if size[0] >= 100:
            assert whole_on_a_line(sub.server_id, shown), "\n".join(shown)  # type: ignore[arg-type]


async def test_the_panel_relays_its_fields_when_the_terminal_is_resized(
    still_app: JobDashApp,
) -> None:
    async with still_app.run_test(size=(200, 40)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        selected = still_app.dashboard.job_tree.selected
        sub = still_app.dashboard.job_tree.sub_job(selected)
        assert isinstance(selected, SubJobRow)
        await pilot.resize_terminal(100, 40)
        await pilot.pause()
        shown = panel_lines(still_app)
        assert whole_on_a_line(sub.server_id, shown), "\n".join(shown)  # type: ignore[arg-type]


async def test_header_counts_keep_their_words_when_they_fit(still_app: JobDashApp) -> None:
    async with still_app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        header = lines(still_app.dashboard.header.content, still_app.dashboard.header.size.width)  # type: ignore[arg-type]
        assert "running" in header[1], header


def test_counts_drop_their_words_only_when_even_the_tight_form_is_too_wide() -> None:
    counts = Counter({"RUNNING": 2, "FAIL": 1, "SUCCESS": 5})
    assert counts_text(counts, width=80).plain == "● 2 running  ✗ 1 failed  ✓ 5 ok"
    assert counts_text(counts, width=28).plain == "●2 running ✗1 failed ✓5 ok"
    assert counts_text(counts, width=12).plain == "●2 ✗1 ✓5"


async def test_the_dashboard_explains_error_codes_from_the_catalogue(
    still_app: JobDashApp,
) -> None:
    async with still_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        selected = still_app.dashboard.job_tree.selected
        sub = still_app.dashboard.job_tree.sub_job(selected)
        assert isinstance(selected, SubJobRow)
        info = lookup(sub.error_code)
        assert info is not None
        shown = " ".join(" ".join(panel_lines(still_app)).split())
        assert f"Error code {info.code}" in shown
        assert f"Hint: {' '.join(info.hint.split())}" in shown


@pytest.mark.parametrize(("width", "palette_hint"), [(80, False), (100, True), (120, True)])
async def test_the_footer_fits_every_shown_key(
    still_app: JobDashApp, width: int, palette_hint: bool
) -> None:
    shown_keys = [c for c in COMMANDS if c.show]
    async with still_app.run_test(size=(width, 24)) as pilot:
        footer = still_app.dashboard.footer
        # The footer rebuilds its keys after a resize: wait for that, however busy the machine.
        await wait_until(
            pilot,
            lambda: len(footer.children) == len(shown_keys) + palette_hint,
            "the footer's keys",
        )
        assert footer.show_command_palette is palette_hint
        assert footer.virtual_size.width <= footer.size.width
        await pilot.resize_terminal(120 if width < 100 else 80, 24)
        await wait_until(
            pilot,
            lambda: len(footer.children) == len(shown_keys) + (not palette_hint),
            "the footer's keys after the resize",
        )
        assert footer.show_command_palette is not palette_hint
        await pilot.pause()
        assert footer.virtual_size.width <= footer.size.width
