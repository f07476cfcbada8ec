"""Every key binding, driven with the pilot against the simulator over a real socket."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from conftest import SIZE, SimDashboard, record_toasts, shown, wait_until
from textual.widgets import Input, OptionList, RadioButton, Static, TextArea

from jobdash.tui.app import JobDashApp
from jobdash.tui.keys import COMMANDS
from jobdash.tui.screens.add import AddJobsScreen
from jobdash.tui.screens.confirm import ConfirmScreen
from jobdash.tui.screens.export import ExportScreen
from jobdash.tui.screens.help import HelpScreen
from jobdash.tui.view import JobRow, SubJobRow
from jobdash.watch.values import WatchKey


def make_jobs(dash: SimDashboard) -> dict[str, WatchKey]:
    """A failed batch (2 of 4 fail), a successful pair, a long runner; all but one ended."""
    sim = dash.sim
    failed = sim.create_servers(4, "web", fail_count=2, duration=(10.0, 10.0))
    ok = sim.create_servers(2, "app", fail_count=0, duration=(10.0, 10.0))
    running = sim.create_servers(1, "db", fail_count=0, duration=(3600.0, 3600.0))
    sim.advance(30)
    return {
        "failed": dash.watch(failed, "web"),
        "ok": dash.watch(ok, "app"),
        "running": dash.watch(running, "db"),
    }


async def loaded(pilot, app: JobDashApp) -> None:  # type: ignore[no-untyped-def]
    await wait_until(
        pilot,
        lambda: (
            bool(app.watchlist.entries)
            and all(
                (s := app.watchlist.snapshots.get(k)) is not None and s.job is not None
                for k in app.watchlist.entries
            )
        ),
        "every watched job to have a snapshot",
    )
    # The views draw it in turn: the details at most 4 times a second.
    body = app.dashboard.details.query_one("#details-body", Static)
    await wait_until(
        pilot, lambda: "no snapshot yet" not in shown(body), "the details to show the job"
    )


PALETTE_FIRST = "Show failed only (f)\nShow only jobs with failures and their failed sub-jobs; again to show all."


def palette_entries(app: JobDashApp) -> list[str]:
    lists = app.screen.query(OptionList)
    if not lists:
        return []
    options = lists.first()
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def sub_keys_shown(app: JobDashApp, key: WatchKey) -> list[str]:
    node = app.dashboard.job_tree.job_node(key)
    assert node is not None
    return [child.data.sub_key for child in node.children]  # type: ignore[union-attr]


async def test_add_dialog_validates_reports_skipped_and_adds(dash: SimDashboard) -> None:
    job_id = dash.sim.create_servers(2, fail_count=0, duration=(5.0, 5.0))
    app = dash.app()
    toasts = record_toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        assert isinstance(app.screen, AddJobsScreen)
        pasted = json.dumps({"job_id": job_id}) + "\nnot/an id\n" + job_id
        app.screen.query_one("#add-text", TextArea).insert(pasted)
        await pilot.pause()
        feedback = shown(app.screen.query_one("#add-feedback", Static))
        assert "1 job id to add." in feedback
        assert "1 repeated id ignored." in feedback
        assert "Skipped 1:" in feedback and "'not/an id' has no job id" in feedback
        app.screen.query_one("#add-label", Input).value = "pasted"
        await pilot.press("ctrl+s")
        assert not isinstance(app.screen, AddJobsScreen)
        key = dash.key(job_id)
        assert [(e.key, e.label) for e in dash.store.entries()] == [(key, "pasted")]
        await loaded(pilot, app)
        node = app.dashboard.job_tree.job_node(key)
        assert node is not None and "createServer" in node.label.plain
        assert any("Added 1 job." in n.message for n in toasts)


async def test_remove_asks_first_and_then_forgets_the_job(dash: SimDashboard) -> None:
    keys = make_jobs(dash)
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        assert (
            app.dashboard.job_tree.selected is not None
            and app.dashboard.job_tree.selected.key == keys["failed"]
        )
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert keys["failed"] in app.watchlist.entries
        await pilot.press("d", "y")
        assert keys["failed"] not in {e.key for e in dash.store.entries()}
        assert app.dashboard.job_tree.job_node(keys["failed"]) is None
        assert dash.poller is not None and keys["failed"] not in dash.poller.watched()
        # The cursor moved to the neighbour rather than vanishing.
        assert (
            app.dashboard.job_tree.selected is not None
            and app.dashboard.job_tree.selected.key == keys["ok"]
        )


async def test_label_is_saved_and_shown(dash: SimDashboard) -> None:
    keys = make_jobs(dash)
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press("l")
        field = app.screen.query_one("#label-input", Input)
        assert field.value == "web"
        field.value = "web [tier]"
        await pilot.press("enter")
        assert [e.label for e in dash.store.entries() if e.key == keys["failed"]] == ["web [tier]"]
        node = app.dashboard.job_tree.job_node(keys["failed"])
        assert node is not None and "«web [tier]»" in node.label.plain


async def test_r_refreshes_the_selected_job_and_shift_r_all(dash: SimDashboard) -> None:
    keys = make_jobs(dash)
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        failed_id, ok_id = keys["failed"].job_id, keys["ok"].job_id
        before = dash.sim.request_count(failed_id)
        other_before = dash.sim.request_count(ok_id)
        await pilot.press("r")
        await wait_until(
            pilot, lambda: dash.sim.request_count(failed_id) > before, "a refresh of the job"
        )
        assert dash.sim.request_count(ok_id) == other_before  # finished, so not polled
        await pilot.press("R")
        await wait_until(
            pilot, lambda: dash.sim.request_count(ok_id) > other_before, "a refresh of all"
        )


async def test_p_pauses_and_resumes_polling(dash: SimDashboard) -> None:
    make_jobs(dash)
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press("p")
        assert dash.poller is not None and dash.poller.paused
        assert "paused" in shown(app.dashboard.header)
        await pilot.press("p")
        assert not dash.poller.paused
        assert "live" in shown(app.dashboard.header)


async def test_f_shows_failed_only_and_back(dash: SimDashboard) -> None:
    keys = make_jobs(dash)
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        all_subs = sub_keys_shown(app, keys["failed"])
        assert len(all_subs) == 4
        await pilot.press("f")
        assert [n.data.key for n in app.dashboard.job_tree.root.children] == [keys["failed"]]  # type: ignore[union-attr]
        failed_subs = sub_keys_shown(app, keys["failed"])
        assert len(failed_subs) == 2
        assert str(app.dashboard.job_tree.border_title) == "Jobs (1 of 3) · failed only"
        await pilot.press("f")
        assert str(app.dashboard.job_tree.border_title) == "Jobs (3)"
        assert [n.data.key for n in app.dashboard.job_tree.root.children] == list(keys.values())  # type: ignore[union-attr]
        assert sub_keys_shown(app, keys["failed"]) == all_subs


async def test_slash_filters_by_text_and_escape_clears(dash: SimDashboard) -> None:
    keys = make_jobs(dash)
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        job = app.watchlist.job(keys["ok"])
        assert job is not None
        server_id = job.sub_jobs[1].server_id
        assert server_id
        await pilot.press("slash")
        assert app.focused is app.dashboard.filter_input
        await pilot.press(*server_id[:10])
        assert [n.data.key for n in app.dashboard.job_tree.root.children] == [keys["ok"]]  # type: ignore[union-attr]
        assert sub_keys_shown(app, keys["ok"]) == [job.sub_jobs[1].job_id]
        assert str(app.dashboard.job_tree.border_title).startswith("Jobs (1 of 3) · matching")
        await pilot.press("escape")
        assert app.dashboard.filter_input.value == ""
        assert len(app.dashboard.job_tree.root.children) == 3
        assert app.focused is app.dashboard.job_tree


async def test_n_and_shift_n_move_between_failed_sub_jobs(dash: SimDashboard) -> None:
    keys = make_jobs(dash)
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        job = app.watchlist.job(keys["failed"])
        assert job is not None
        failed_ids = [sub.job_id for sub in job.sub_jobs if sub.failed]
        await pilot.press("n")
        selected = app.dashboard.job_tree.selected
        sub = app.dashboard.job_tree.sub_job(selected)
        assert isinstance(selected, SubJobRow) and sub.job_id == failed_ids[0]
        await pilot.press("n")
        assert (
            app.dashboard.job_tree.sub_job(app.dashboard.job_tree.selected).job_id == failed_ids[1]
        )  # type: ignore[union-attr]
        await pilot.press("n")  # wraps around
        assert (
            app.dashboard.job_tree.sub_job(app.dashboard.job_tree.selected).job_id == failed_ids[0]
        )  # type: ignore[union-attr]
        await pilot.press("N")
        assert (
            app.dashboard.job_tree.sub_job(app.dashboard.job_tree.selected).job_id == failed_ids[1]
        )  # type: ignore[union-attr]
        assert "Error code" in shown(app.dashboard.details.query_one("#details-body", Static))


async def test_c_copies_the_selected_id(dash: SimDashboard) -> None:
    keys = make_jobs(dash)
    app = dash.app()
    toasts = record_toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press("c")
        assert app.clipboard == keys["failed"].job_id
        # The toast shows the value too, for terminals that drop the clipboard sequence.
        assert keys["failed"].job_id in toasts[-1].message
        await pilot.press("down", "c")
        selected = app.dashboard.job_tree.selected
        sub = app.dashboard.job_tree.sub_job(selected)
        assert isinstance(selected, SubJobRow)
        # A sub-job row shows its server: that is what `c` copies, and the toast says so.
        server_id = sub.entities.get("server_id")
        assert isinstance(server_id, str) and server_id
        assert app.clipboard == server_id
        assert "server id" in toasts[-1].message and server_id in toasts[-1].message


async def test_x_exports_the_failed_sub_jobs(dash: SimDashboard, tmp_path: Path) -> None:
    keys = make_jobs(dash)
    app = dash.app(export_dir=tmp_path)
    toasts = record_toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press("x")
        assert isinstance(app.screen, ExportScreen)
        path_input = app.screen.query_one("#export-path", Input)
        assert path_input.value.endswith(".csv")
        app.screen.query_one("#fmt-json", RadioButton).value = True
        await pilot.pause()
        assert path_input.value.endswith(".json")
        path_input.focus()
        await pilot.press("enter")
        assert (
            app.dashboard.last_export is not None and app.dashboard.last_export.parent == tmp_path
        )
        document = json.loads(app.dashboard.last_export.read_text(encoding="utf-8"))
        assert document["job_id"] == keys["failed"].job_id
        assert len(document["failed_sub_jobs"]) == 2
        assert any(str(app.dashboard.last_export) in n.message for n in toasts)
        # A job without failures has nothing to export.
        app.dashboard.job_tree.go_to(JobRow(keys["ok"]))
        await pilot.press("x")
        assert not isinstance(app.screen, ExportScreen)


async def test_j_toggles_raw_json(dash: SimDashboard) -> None:
    keys = make_jobs(dash)
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        body = app.dashboard.details.query_one("#details-body", Static)
        assert "begin_time " in shown(body)
        await pilot.press("j")
        assert f'"job_id": "{keys["failed"].job_id}"' in shown(body)
        await pilot.press("j")
        assert "begin_time " in shown(body)


async def test_z_folds_finished_successful_jobs_and_enter_toggles(dash: SimDashboard) -> None:
    keys = make_jobs(dash)
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        ok, failed = (
            app.dashboard.job_tree.job_node(keys["ok"]),
            app.dashboard.job_tree.job_node(keys["failed"]),
        )
        assert ok is not None and failed is not None
        assert not ok.is_expanded and failed.is_expanded
        await pilot.press("z")
        assert ok.is_expanded
        await pilot.press("z")
        assert not ok.is_expanded and failed.is_expanded
        assert app.dashboard.job_tree.cursor_node is failed
        await pilot.press("enter")
        assert not failed.is_expanded
        await pilot.press("enter")
        assert failed.is_expanded


async def test_question_mark_lists_every_binding(dash: SimDashboard) -> None:
    make_jobs(dash)
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = shown(app.screen.query_one("#help-table", Static))
        for command in COMMANDS:
            assert command.title in table
            assert command.shown_key in table
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_every_binding_has_a_description_and_a_palette_entry(
    dash: SimDashboard,
) -> None:
    app = dash.app()
    async with app.run_test(size=SIZE) as pilot:
        bound = {binding.action for binding in app.dashboard.BINDINGS}  # type: ignore[union-attr]
        assert bound == {command.action for command in COMMANDS}
        assert all(binding.description for binding in app.dashboard.BINDINGS)  # type: ignore[union-attr]
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"failed")
        await wait_until(
            pilot,
            lambda: palette_entries(app)[:1] == [PALETTE_FIRST],
            "the palette to list the command",
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.dashboard.filter.failed_only, "the command to run")


def before_poller_closes(dash: SimDashboard, call: Callable[[], None]) -> None:
    """Run `call` when quitting closes the poller, before it closes."""
    poller = dash.poller
    assert poller is not None
    original = poller.aclose

    async def aclose() -> None:
        call()
        await original()

    poller.aclose = aclose  # type: ignore[method-assign]


async def test_q_quits_and_closes_the_poller(dash: SimDashboard) -> None:
    make_jobs(dash)
    app = dash.app()
    closed: list[bool] = []
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        before_poller_closes(dash, lambda: closed.append(True))
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert closed == [True]


async def test_no_store_check_starts_once_quitting_began(dash: SimDashboard) -> None:
    """The store check's timer can fire while `q` closes the poller and the store's thread:
    a check started then would submit to a closed thread and fail the app's exit."""
    make_jobs(dash)
    app = dash.app()
    started: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)

        def timer_fires_while_closing() -> None:
            before = set(app.workers)
            app.check_store()
            started.extend(w.name for w in set(app.workers) - before)

        before_poller_closes(dash, timer_fires_while_closing)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert started == []
