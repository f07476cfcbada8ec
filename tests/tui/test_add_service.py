"""The add dialog's service choice: every service by title, the last one used first, a pasted
answer that names its service switches it, and the entries go to that service's endpoint."""

from __future__ import annotations

import json

from conftest import SIZE, shown
from textual.widgets import Input, Select, Static, TextArea
from tui_sample import ENDPOINT, PROJECT

from jobdash.services.registry import services
from jobdash.store.core import Store
from jobdash.tui.app import JobDashApp
from jobdash.tui.context import DashboardContext
from jobdash.tui.screens.add import AddJobsScreen
from jobdash.tui.still import StillPoller

RDS_JOB = "b0c4f5d2-6e1a-4f3b-8d27-9a5c3e1f7b60"
CCE_JOB = "7d2f0b6e-1c3a-11f0-9e41-0255ac10004a"


def _app(store: Store) -> JobDashApp:
    return JobDashApp(
        DashboardContext(
            store=store,
            poller_factory=lambda _update: StillPoller(),
            endpoint=ENDPOINT,
            project_id=PROJECT,
            bell_on_fail=False,
        )
    )


def _choice(app: JobDashApp) -> Select[str]:
    return app.screen.query_one("#add-service", Select)


async def test_choosing_rds_adds_an_rds_entry_at_the_rds_endpoint_and_is_remembered(
    sample_store: Store,
) -> None:
    before = {entry.key for entry in sample_store.entries()}
    app = _app(sample_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("a")
        assert isinstance(app.screen, AddJobsScreen)
        choice = _choice(app)
        assert choice.value == "ecs"
        # Every service, by title, in the registry's order.
        titles = [str(prompt) for prompt, _value in choice._options]
        assert titles == [found.title for found in services().values()]
        # Tab order: text, label, then the service choice.
        assert app.screen.focused is app.screen.query_one("#add-text", TextArea)
        await pilot.press("tab")
        assert app.screen.focused is app.screen.query_one("#add-label", Input)
        await pilot.press("tab")
        assert app.screen.focused is choice
        # Chosen with the keyboard: open the list, down to RDS, take it.
        await pilot.press("enter")
        for _ in range(list(services()).index("rds")):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert choice.value == "rds"
        app.screen.query_one("#add-text", TextArea).insert(RDS_JOB)
        await pilot.pause()
        feedback = shown(app.screen.query_one("#add-feedback", Static))
        # Not 32 hex, but RDS's ids are UUIDs: accepted under RDS.
        assert "1 RDS job id to add." in feedback, feedback
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, AddJobsScreen)
        added = [entry.key for entry in sample_store.entries() if entry.key not in before]
        assert [(k.job_id, k.service, k.endpoint) for k in added] == [
            (RDS_JOB, "rds", "https://rds.eu-de.otc.t-systems.com")
        ]
        assert added[0].project_id == PROJECT
        await app.action_quit()
    assert sample_store.preference("add_service") == "rds"
    # The next start's dialog begins with RDS.
    again = _app(sample_store)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("a")
        assert isinstance(again.screen, AddJobsScreen)
        assert _choice(again).value == "rds"


async def test_pasting_a_cce_answer_switches_to_cce_and_a_choice_made_after_stands(
    sample_store: Store,
) -> None:
    before = {entry.key for entry in sample_store.entries()}
    app = _app(sample_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("a")
        choice = _choice(app)
        assert choice.value == "ecs"
        node = {"kind": "Node", "metadata": {"name": "pool-a"}, "status": {"jobID": CCE_JOB}}
        text = app.screen.query_one("#add-text", TextArea)
        text.insert(json.dumps(node))
        await pilot.pause()
        assert choice.value == "cce"
        feedback = shown(app.screen.query_one("#add-feedback", Static))
        assert "Answer recognised: CCE." in feedback and "1 CCE job id to add." in feedback
        # The user's own choice is kept while the text says the same.
        choice.value = "ecs"
        await pilot.pause()
        text.insert(" ")
        await pilot.pause()
        assert choice.value == "ecs"
        # ECS finds no job id in a CCE answer.
        assert "0 job ids to add." in shown(app.screen.query_one("#add-feedback", Static))
        choice.value = "cce"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, AddJobsScreen)
        added = [entry.key for entry in sample_store.entries() if entry.key not in before]
        assert [(k.job_id, k.service, k.endpoint) for k in added] == [
            (CCE_JOB, "cce", "https://cce.eu-de.otc.t-systems.com")
        ]


async def test_ecs_ids_are_still_checked_as_32_hex(sample_store: Store) -> None:
    app = _app(sample_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("a")
        app.screen.query_one("#add-text", TextArea).insert(RDS_JOB)
        await pilot.pause()
        feedback = shown(app.screen.query_one("#add-feedback", Static))
        assert "0 job ids to add." in feedback and "is not 32 hexadecimal" in feedback
        _choice(app).value = "evs"
        await pilot.pause()
        assert "1 EVS job id to add." in shown(app.screen.query_one("#add-feedback", Static))
