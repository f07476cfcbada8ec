"""`jobdash ui` and `jobdash demo` start-up: what they build and inject, and what they leave."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path
from typing import Any

import pytest
from conftest import SIZE, record_toasts, shown, wait_until

from jobdash.api.errors import ConfigError
from jobdash.config.paths import config_file
from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.tui import launch
from jobdash.tui.app import JobDashApp
from jobdash.tui.options import add_demo_arguments


class Seen:
    """Runs the app headless in place of the terminal and keeps what the test needs."""

    def __init__(self) -> None:
        self.app: JobDashApp | None = None
        self.entries: list[Any] = []
        self.header = ""
        self.tree_labels: list[str] = []
        self.toasts: list[Any] = []

    async def run(self, app: JobDashApp) -> int:
        self.app = app
        self.toasts = record_toasts(app)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(
                pilot,
                lambda: (
                    (
                        bool(app.watchlist.entries)
                        and all(
                            (s := app.watchlist.snapshots.get(k)) is not None and s.job is not None
                            for k in app.watchlist.entries
                        )
                    )
                    or app.poller is None
                ),
                "the first snapshots",
            )
            await pilot.pause()
            self.entries = list(app.watchlist.entries.values())
            self.header = shown(app.dashboard.header)
            self.tree_labels = [node.label.plain for node in app.dashboard.job_tree.root.children]
            await pilot.press("q")
        return app.return_code or 0


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Seen:
    recorder = Seen()
    monkeypatch.setattr(launch, "_run_app", recorder.run)
    return recorder


def ui_args(*argv: str) -> argparse.Namespace:
    """Arguments exactly as `jobdash ui ARGV` parses them."""
    from jobdash.cli import build_parser

    return build_parser().parse_args(["ui", *argv])


def test_ui_adds_the_ids_and_watches_them(
    seen: Seen, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OS_AUTH_TOKEN", simulator.credentials.token)
    job_id = simulator.create_servers(2, fail_count=0)
    args = ui_args(
        "--endpoint", simulator.url, "--project-id", simulator.project_id, "--label", "cli"
    )
    assert launch.run_dashboard(args, [job_id, "bad/id"]) == 0
    assert seen.app is not None and seen.app.poller is not None
    assert [(e.key.job_id, e.label) for e in seen.entries] == [(job_id, "cli")]
    assert seen.tree_labels[0].startswith(("○ createServer", "● createServer"))
    assert any("bad/id" in n.message for n in seen.toasts)
    with Store() as store:  # the user's own watchlist got the id
        assert [e.key.job_id for e in store.entries()] == [job_id]


def test_ui_without_settings_opens_on_the_saved_snapshots(seen: Seen) -> None:
    assert launch.run_dashboard(ui_args(), []) == 0
    assert seen.app is not None and seen.app.poller is None
    assert "not polling" in seen.header
    assert "⚠" in seen.header  # the configuration problem, said once in the header


def test_ui_with_ids_but_no_settings_is_a_configuration_error(seen: Seen) -> None:
    with pytest.raises(ConfigError):
        launch.run_dashboard(ui_args(), ["0123456789abcdef0123456789abcdef"])
    assert seen.app is None


def test_ui_preferences_come_from_config_toml() -> None:
    assert launch.ui_preferences() == {"notify": True, "bell": True}
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[ui]\nnotify = false\nbell = false\n", encoding="utf-8")
    assert launch.ui_preferences() == {"notify": False, "bell": False}


def test_demo_runs_on_its_own_simulator_and_leaves_nothing(
    seen: Seen, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    made: list[Path] = []
    real_store = launch.Store

    def recording_store(path: Path | None = None) -> Store:
        assert path is not None, "the demo must not open the user's watchlist"
        made.append(path)
        return real_store(path)

    monkeypatch.setattr(launch, "Store", recording_store)
    parser = argparse.ArgumentParser()
    add_demo_arguments(parser)
    assert launch.run_demo(parser.parse_args(["--speed", "1"])) == 0
    assert seen.app is not None
    labels = [entry.label for entry in seen.entries]
    assert labels == [
        "web tier x20",
        "stop workers",
        "delete old workers",
        "bastion",
        "db restore",
        "web data volumes x20",
        "web base image",
        "web node pool x3",
        "orders database",
        "app tier x4",
        "start app",
    ]
    # The fleet's volumes, image, node pool and database come from their own services.
    assert [e.key.service for e in seen.entries if e.key.service != "ecs"] == [
        "evs",
        "ims",
        "cce",
        "rds",
    ]
    # Two projects in two regions, each at its own endpoint.
    places = {(e.region, e.key.project_id, e.key.endpoint) for e in seen.entries}
    assert {region for region, _, _ in places} == {"eu-de", "eu-nl"} and len(places) == 2
    assert len({endpoint for _, _, endpoint in places}) == 2
    assert "demo · eu-de · eu-de_demo ● ok" in seen.header
    assert "demo · eu-nl · eu-nl_demo ● ok" in seen.header
    assert "demo · project eu-de_demo (eu-de) · simulator http://127.0.0.1:" in seen.header
    port = int(seen.app.context.endpoint.rsplit(":", 1)[1])  # type: ignore[union-attr]
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), 2):
        pass
    assert made and not made[0].exists() and not made[0].parent.exists()
    with Store() as store:
        assert store.entries() == []
