"""The dialogs and the keys around them, as a hurried or careless user meets them: odd text in
every dialog never ends the app, keys typed fast after Tab land where focus went, skipped
ids are all listed, the footer always shows the main keys, the credentials banner is a
readable list, and `c` copies what the row shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SIZE, SimDashboard, record_toasts, shown, wait_until
from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea
from textual.widgets._footer import FooterKey
from tui_sample import BATCH_ID, ENDPOINT, FROZEN, PROJECT, batch_body, fill_store

from jobdash.api.errors import ConfigError
from jobdash.config.settings import Settings, require_complete
from jobdash.store.core import Store
from jobdash.tui.app import JobDashApp
from jobdash.tui.context import DashboardContext
from jobdash.tui.screens.add import AddJobsScreen
from jobdash.tui.screens.confirm import ConfirmScreen
from jobdash.tui.screens.export import ExportScreen
from jobdash.tui.screens.label import LabelScreen
from jobdash.tui.still import StillPoller
from jobdash.tui.view import JobRow, SubJobRow
from jobdash.watch.history import Estimate, remaining_text
from jobdash.watch.values import WatchKey

SMALL = (80, 24)
BATCH = WatchKey(ENDPOINT, PROJECT, BATCH_ID)
#: Text no dialog may choke on: an unknown user's home, NUL and other controls, markup,
#: a bidi override, and far more than any field wants.
ODD_TEXTS = (
    "~nosuchuser",
    "~nosuchuser/failures.csv",
    "~\x00",
    "a\x00b",
    "[red]x[/red] [bold",
    "\x1b[2J\u202etxt.exe",
    "w" * 5000,
)


def still_running(app: App[object]) -> bool:
    return app.is_running and app._exit_renderables == []


async def type_text(pilot: Pilot[object], text: str) -> None:
    """Type `text` key by key (what a user does), for the characters a key can send."""
    await pilot.press(*[ch for ch in text if ch.isprintable()])


# -- 11: nothing typed in a dialog ends the app ------------------------------------------------


async def test_typing_an_unknown_users_home_in_the_export_dialog_is_said_not_fatal(
    still_app: JobDashApp,
) -> None:
    toasts = record_toasts(still_app)
    async with still_app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        still_app.dashboard.job_tree.go_to(JobRow(BATCH))
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        screen = still_app.screen
        assert isinstance(screen, ExportScreen)
        path_input = screen.query_one("#export-path", Input)
        path_input.value = ""
        await pilot.press("~", "n")
        await pilot.pause()
        assert still_running(still_app)
        target = shown(screen.query_one("#export-target", Static))
        assert "no user 'n'" in target, target
        await pilot.press("enter")
        await pilot.pause()
        # Refused with the reason; the dialog stays open to fix the name.
        assert still_app.screen is screen
        assert any("no user 'n'" in toast.message for toast in toasts), toasts
        assert still_app.dashboard.last_export is None


async def test_odd_text_in_the_export_dialog_is_refused_or_written_never_fatal(
    still_app: JobDashApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with still_app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        for odd in ODD_TEXTS:
            still_app.dashboard.job_tree.go_to(JobRow(BATCH))
            await pilot.pause()
            await pilot.press("x")
            await pilot.pause()
            screen = still_app.screen
            assert isinstance(screen, ExportScreen), odd
            path_input = screen.query_one("#export-path", Input)
            path_input.value = ""
            await type_text(pilot, odd[:12])
            path_input.value = odd
            await pilot.pause()
            assert still_running(still_app), odd
            target = shown(screen.query_one("#export-target", Static))
            assert "\x00" not in target and "\x1b" not in target, repr(target)
            await pilot.press("enter")
            await pilot.pause()
            assert still_running(still_app), odd
            if still_app.screen is screen:
                await pilot.press("escape")
                await pilot.pause()
        assert still_app.screen is still_app.dashboard


async def test_odd_text_in_the_add_label_confirm_dialogs_and_filter_is_never_fatal(
    still_app: JobDashApp,
) -> None:
    async with still_app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        dashboard = still_app.dashboard
        for odd in ODD_TEXTS:
            # The add dialog: in the ids box and in the label.
            await pilot.press("a")
            await pilot.pause()
            add = still_app.screen
            assert isinstance(add, AddJobsScreen), odd
            await type_text(pilot, odd[:12])
            add.query_one("#add-text", TextArea).text = odd
            add.query_one("#add-label", Input).value = odd
            await pilot.pause()
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert still_running(still_app), odd
            assert still_app.screen is add  # nothing valid to add: it says so and stays
            await pilot.press("escape")
            await pilot.pause()
            # The label dialog, saved.
            dashboard.job_tree.go_to(JobRow(BATCH))
            await pilot.press("l")
            await pilot.pause()
            label = still_app.screen
            assert isinstance(label, LabelScreen), odd
            field = label.query_one(Input)
            field.value = ""
            await type_text(pilot, odd[:12])
            field.value = odd
            await pilot.press("enter")
            await pilot.pause()
            assert still_running(still_app), odd
            # The confirm dialog: stray keys, then no.
            await pilot.press("d")
            await pilot.pause()
            assert isinstance(still_app.screen, ConfirmScreen), odd
            await type_text(pilot, "[]~x1\\")
            await pilot.press("n")
            await pilot.pause()
            assert still_running(still_app), odd
            assert still_app.screen is dashboard
            # The filter bar.
            await pilot.press("slash")
            await type_text(pilot, odd[:12])
            dashboard.filter_input.value = odd
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            assert still_running(still_app), odd
            await pilot.press("escape")
            await pilot.pause()
        assert BATCH in still_app.watchlist.entries


# -- 15: the add dialog: keys after Tab, every skipped id listed ----------------------------

NEW_ID = "0123456789abcdef0123456789abcdef"


async def test_a_label_typed_quickly_after_tab_goes_to_the_label(still_app: JobDashApp) -> None:
    async with still_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        screen = still_app.screen
        assert isinstance(screen, AddJobsScreen)
        screen.query_one("#add-text", TextArea).text = NEW_ID
        await pilot.pause()
        # A terminal hands over what was typed in one burst: every key is queued before
        # the first is handled.
        driver = still_app._driver
        assert driver is not None
        for key in ("tab", *"nightly"):
            driver.send_message(events.Key(key, None if key == "tab" else key))
        await pilot.pause(0.2)
        assert screen.query_one("#add-text", TextArea).text == NEW_ID
        assert screen.query_one("#add-label", Input).value == "nightly"
        await pilot.press("ctrl+s")
        await pilot.pause()
    added = [entry for entry in still_app.watchlist.entries.values() if entry.key.job_id == NEW_ID]
    assert [entry.label for entry in added] == ["nightly"]


async def test_every_bad_id_is_listed_whole_and_junk_beside_an_id_is_not_dropped(
    still_app: JobDashApp,
) -> None:
    async with still_app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        screen = still_app.screen
        assert isinstance(screen, AddJobsScreen)
        screen.query_one(
            "#add-text", TextArea
        ).text = f"zzz-bad-first-one yyy-bad-second-one\n{NEW_ID} 12345"
        await pilot.pause()
        feedback = screen.query_one("#add-feedback", Static)
        text = shown(feedback, width=feedback.content_region.width)
        assert "1 job id to add" in text
        assert "Skipped 3:" in text, text
        lines = text.splitlines()
        # One line each, every value whole, each line within the dialog's width.
        for value in ("'zzz-bad-first-one'", "'yyy-bad-second-one'", "'12345'"):
            assert any(line.strip().startswith(value) for line in lines), (value, text)
        dialog = screen.query_one("#add-dialog")
        assert dialog.content_region.contains_region(feedback.region)
        await pilot.press("ctrl+s")
        await pilot.pause()
    added = [key for key in still_app.watchlist.entries if key.job_id == NEW_ID]
    assert len(added) == 1


# -- 16: the footer shows the main keys from the first frame -------------------------------


def footer_keys(app: JobDashApp) -> list[str]:
    return [key.description for key in app.screen.query(FooterKey)]


@pytest.mark.parametrize("watched", ["empty", "sample"])
async def test_the_footer_shows_the_main_keys_from_the_first_frame(
    watched: str, store: Store
) -> None:
    if watched == "sample":
        fill_store(store)
    app = JobDashApp(
        DashboardContext(
            store=store,
            poller_factory=lambda _on_update: StillPoller(),
            connection_description="test",
            clock=lambda: FROZEN,
            endpoint=ENDPOINT,
            project_id=PROJECT,
            bell_on_fail=False,
        )
    )
    async with app.run_test(size=SMALL) as pilot:
        seen = [footer_keys(app)]
        for _ in range(5):
            await pilot.pause()
            seen.append(footer_keys(app))
        for keys in seen:
            if keys:  # before its first layout the footer may still be empty
                assert "Add" in keys and "Quit" in keys, seen
                assert "Clear filter" not in keys, seen
        assert seen[-1]
        # The filter bar, once opened and closed again, gives the keys back.
        await pilot.press("slash")
        await pilot.pause()
        assert "Clear filter" in footer_keys(app)
        await pilot.press("escape")
        await pilot.pause()
        assert "Add" in footer_keys(app) and "Clear filter" not in footer_keys(app)


# -- 20: `c` copies what the row shows; the words for not found and under a minute ---------


async def test_c_on_a_sub_job_row_copies_its_server_and_says_so(still_app: JobDashApp) -> None:
    toasts = record_toasts(still_app)
    subs = batch_body()["entities"]["sub_jobs"]
    async with still_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("c")  # the cursor starts on the batch job
        assert still_app.clipboard == BATCH_ID
        assert "job id" in toasts[-1].message
        await pilot.press("n")  # its first failed sub-job
        await pilot.pause()
        row = still_app.dashboard.job_tree.selected
        assert isinstance(row, SubJobRow)
        sub = still_app.dashboard.job_tree.sub_job(row)
        assert sub is not None and sub.job_id
        await pilot.press("c")
        server_id = sub.entities["server_id"]
        assert server_id in [s["entities"]["server_id"] for s in subs]
        assert still_app.clipboard == server_id  # what the row shows, not the sub-job id
        assert "server id" in toasts[-1].message and server_id in toasts[-1].message


async def test_a_job_the_cloud_does_not_know_is_counted_as_not_found(dash: SimDashboard) -> None:
    dash.watch("feedfacefeedfacefeedfacefeedface", "typo")
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        header = app.dashboard.header
        await wait_until(pilot, lambda: "not found" in shown(header), "the not-found count")
        assert "! 1 not found" in shown(header)
        assert "unreachable" not in shown(header)


def test_under_a_minute_left_is_said_in_words() -> None:
    assert remaining_text(Estimate(12, 25.0)) == "under 1m left"
    assert remaining_text(Estimate(12, 200.0)) == "~4m left"
    assert "<" not in remaining_text(Estimate(12, 0.0))


# -- 18: the "no credentials found" banner is a readable list that fits ---------------------


def no_credentials_message() -> str:
    with pytest.raises(ConfigError) as caught:
        require_complete(Settings())
    return str(caught.value)


@pytest.mark.parametrize("size", [SMALL, SIZE])
async def test_no_credentials_banner_lists_every_way_and_fits(
    store: Store, size: tuple[int, int]
) -> None:
    message = no_credentials_message()
    assert message.count("\n  - ") == 3  # the list the banner must keep
    app = JobDashApp(
        DashboardContext(store=store, connection_description="not connected", alert=message)
    )
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        header = shown(app.dashboard.header, width=size[0])
        assert "no credentials found" in header and "…" not in header, header
        banner = app.dashboard.alert_banner
        width = banner.content_region.width
        lines = shown(banner, width=width).rstrip("\n").splitlines()
        # One bullet per way, each starting its own line, in the order given.
        starts = [line.strip() for line in lines if line.strip().startswith("•")]
        assert [start.split(":")[0] for start in starts] == [
            "• a token",
            "• an IAM password login",
            "• an access key pair",
        ], lines
        # Whole: every word of the message is on screen, nothing cut, all inside the banner.
        # (A path wider than the line is folded, so words are looked for in the text as a
        # whole, spaces and line ends left out.)
        flat = "".join("".join(lines + header.splitlines()).split())
        for word in message.split():
            if word != "-":
                assert word in flat, (word, lines)
        assert len(lines) <= banner.content_region.height
        assert app.screen.region.contains_region(banner.region)
        assert app.dashboard.job_tree.region.height >= 3  # the jobs still have room
