"""One dashboard over two clouds (IAM password and AK/SK) against the simulator: each job
fetched with its own cloud's credentials, `a` adding to the selected job's cloud, the
filter matching cloud names, and an entry whose cloud is gone shown as such."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SIZE, shown, wait_until
from textual.widgets import TextArea

from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.tui import launch
from jobdash.tui.app import JobDashApp
from jobdash.watch.values import WatchEntry, WatchKey


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    return simulator_factory(extra_accounts=1)


def write_clouds(sim: Simulator, *, with_team: bool = True) -> None:
    creds, team = sim.credentials, sim.accounts[1]
    clouds: dict[str, Any] = {
        "prod": {
            "region_name": "eu-de",
            "auth": {
                "auth_url": sim.auth_url,
                "username": creds.username,
                "password": creds.password,
                "user_domain_name": creds.user_domain_name,
                "project_name": creds.project_name,
            },
        }
    }
    if with_team:
        clouds["team"] = {
            "ak": team.credentials.access_key,
            "sk": team.credentials.secret_key,
            "region_name": "eu-nl",
            "ecs_endpoint": sim.url,
            "auth": {"project_id": team.project_id},
        }
    directory = Path(os.environ["XDG_CONFIG_HOME"]) / "openstack"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "clouds.yaml").write_text(yaml.safe_dump({"clouds": clouds}))


def watch_both(sim: Simulator) -> tuple[str, str]:
    prod_job = sim.create_servers(1, fail_count=0)
    team_job = sim.create_servers(2, fail_count=0)
    with Store() as store:
        store.add(
            [
                WatchEntry(
                    WatchKey(sim.url, sim.project_id, prod_job),
                    profile="prod",
                    auth_method="password",
                    region="eu-de",
                    project_name=sim.credentials.project_name,
                ),
                WatchEntry(
                    WatchKey(sim.url, sim.accounts[1].project_id, team_job),
                    profile="team",
                    auth_method="aksk",
                    region="eu-nl",
                ),
            ]
        )
    return prod_job, team_job


def ui_args() -> argparse.Namespace:
    from jobdash.cli import build_parser

    return build_parser().parse_args(["ui"])


def run_dashboard(
    monkeypatch: pytest.MonkeyPatch, script: Callable[[JobDashApp, Any], Any]
) -> JobDashApp:
    seen: list[JobDashApp] = []

    async def run(app: JobDashApp) -> int:
        seen.append(app)
        async with app.run_test(size=SIZE) as pilot:
            await script(app, pilot)
            await pilot.press("q")
        return 0

    monkeypatch.setattr(launch, "_run_app", run)
    assert launch.run_dashboard(ui_args(), []) == 0
    return seen[0]


def fetched(app: JobDashApp, key: WatchKey) -> bool:
    snapshot = app.watchlist.snapshots.get(key)
    return snapshot is not None and snapshot.job is not None and snapshot.error_kind is None


def test_one_dashboard_over_two_clouds(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    write_clouds(sim)
    prod_job, team_job = watch_both(sim)
    new_job = sim.create_servers(1, fail_count=0)
    found: dict[str, Any] = {}

    async def script(app: JobDashApp, pilot: Any) -> None:
        keys = list(app.watchlist.entries)
        await wait_until(pilot, lambda: all(fetched(app, k) for k in keys), "both clouds")
        await pilot.pause()  # the tree draws the updates with the next batch (coalesced)
        app.dashboard.refresh_header()
        found["states"] = shown(app.dashboard.header)
        tree = app.dashboard.job_tree
        # A row per connection, its jobs under it, with the counts per status.
        found["groups"] = [node.label.plain for node in tree.root.children]
        found["grouped"] = [
            [child.data.key.job_id for child in node.children] for node in tree.root.children
        ]
        # Collapsible: its jobs leave the screen, and come back.
        first = tree.root.children[0]
        first.collapse()
        await pilot.pause()
        found["collapsed_lines"] = tree.last_line + 1
        first.expand()
        await pilot.pause()
        found["expanded_lines"] = tree.last_line + 1
        # `a` on the AK/SK cloud's job adds to that cloud, and says so.
        tree = app.dashboard.job_tree
        tree.focus()
        while tree.selected is None or tree.selected.key.job_id != team_job:
            await pilot.press("down")
        await pilot.press("a")
        await pilot.pause()
        found["title"] = str(app.screen.query_one("#add-dialog").border_title)
        app.screen.query_one("#add-text", TextArea).insert(new_job)
        await pilot.press("ctrl+s")
        await wait_until(
            pilot, lambda: any(k.job_id == new_job for k in app.watchlist.entries), "the add"
        )
        new_key = next(k for k in app.watchlist.entries if k.job_id == new_job)
        await wait_until(pilot, lambda: fetched(app, new_key), "the added job")
        found["new"] = app.watchlist.entries[new_key]
        # On a connection's row, `a` adds to that connection.
        tree.move_cursor(tree.root.children[0])
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        found["group_title"] = str(app.screen.query_one("#add-dialog").border_title)
        await pilot.press("escape")
        await pilot.pause()
        # The filter matches cloud names.
        await pilot.press("slash")
        for char in "team":
            await pilot.press(char)
        await pilot.pause()
        found["filtered"] = [key.job_id for key in tree.shown_jobs]
        found["header"] = shown(app.dashboard.header)

    run_dashboard(monkeypatch, script)
    assert "team · eu-nl" in found["title"]
    assert "prod · eu-de" in found["group_title"]
    # The header says each connection's state.
    assert f"prod · eu-de · {sim.credentials.project_name} ● ok" in found["states"]
    assert f"team · eu-nl · {sim.accounts[1].project_id} ● ok" in found["states"]
    # No cloud is named for the command itself, but nothing watched needs it: no alarm.
    assert "⚠" not in found["states"]
    new = found["new"]
    assert (new.profile, new.auth_method, new.key.project_id) == (
        "team",
        "aksk",
        sim.accounts[1].project_id,
    )
    assert sorted(found["filtered"]) == sorted([team_job, new_job])
    assert found["grouped"] == [[prod_job], [team_job]]
    prod_row, team_row = found["groups"]
    assert prod_row.startswith(f"prod · eu-de · {sim.credentials.project_name}")
    assert team_row.startswith(f"team · eu-nl · {sim.accounts[1].project_id}")
    assert prod_row.endswith("○ 1 init") and team_row.endswith("○ 1 init")
    assert found["collapsed_lines"] < found["expanded_lines"]
    assert sim.request_count(prod_job) >= 1 and sim.request_count(team_job) >= 1


def test_a_removed_cloud_shows_no_credentials_and_is_not_fetched(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_clouds(sim, with_team=False)
    prod_job, team_job = watch_both(sim)
    monkeypatch.setenv("OS_AUTH_TOKEN", sim.credentials.token)  # must not stand in
    found: dict[str, Any] = {}

    async def script(app: JobDashApp, pilot: Any) -> None:
        team_key = next(k for k in app.watchlist.entries if k.job_id == team_job)
        prod_key = next(k for k in app.watchlist.entries if k.job_id == prod_job)

        def settled() -> bool:
            snapshot = app.watchlist.snapshots.get(team_key)
            return fetched(app, prod_key) and snapshot is not None and bool(snapshot.error_kind)

        await wait_until(pilot, settled, "the prod job and the team error")
        await pilot.pause()
        found["snapshot"] = app.watchlist.snapshots[team_key]
        found["header"] = shown(app.dashboard.header)
        tree = app.dashboard.job_tree
        found["tree"] = [node.label.plain for node in tree.iter_nodes()]
        found["groups"] = [node.label.plain for node in tree.root.children]

    run_dashboard(monkeypatch, script)
    assert found["snapshot"].error_kind == "no_credentials"
    assert "no credentials for team" in (found["snapshot"].error_message or "")
    assert any("no_credentials" in label for label in found["tree"]), found["tree"]
    assert found["groups"][1].startswith("team · eu-nl") and "1 unreachable" in found["groups"][1]
    assert "no credentials" in found["header"], found["header"]
    assert "team · eu-nl" in found["header"] and "● no credentials" in found["header"]
    assert sim.request_count(team_job) == 0
