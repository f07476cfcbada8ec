"""Many clouds and projects in one watchlist, each entry fetched with its own credentials.

Against the simulator over loopback (two accounts: one logs in with a password and has
two projects, the other signs with an access key pair) and a real watchlist file.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_helpers import run_cli

from jobdash.api.errors import NoCredentialsError
from jobdash.connections.groups import add_target, connection_group, connection_label, selection
from jobdash.connections.registry import Connections
from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.store.schema import SCHEMA_VERSION
from jobdash.watch.values import WatchEntry, WatchKey

STAGING = "eu-de_staging"


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    return simulator_factory(extra_projects=(STAGING,), extra_accounts=1)


def write_clouds(clouds: dict[str, Any]) -> Path:
    directory = Path(os.environ["XDG_CONFIG_HOME"]) / "openstack"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "clouds.yaml"
    path.write_text(yaml.safe_dump({"clouds": clouds}))
    return path


def prod_cloud(sim: Simulator) -> dict[str, Any]:
    """The main account, IAM password login, its own project by name."""
    creds = sim.credentials
    return {
        "region_name": "eu-de",
        "auth": {
            "auth_url": sim.auth_url,
            "username": creds.username,
            "password": creds.password,
            "user_domain_name": creds.user_domain_name,
            "project_name": creds.project_name,
        },
    }


def team_cloud(sim: Simulator) -> dict[str, Any]:
    """The second account, access key pair, its project by id, the endpoint given."""
    account = sim.accounts[1]
    return {
        "ak": account.credentials.access_key,
        "sk": account.credentials.secret_key,
        "region_name": "eu-de",
        "ecs_endpoint": sim.url,
        "auth": {"project_id": account.project_id},
    }


def both_clouds(sim: Simulator) -> dict[str, Any]:
    return {"prod": prod_cloud(sim), "team": team_cloud(sim)}


def add(args: list[str], capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli(["add", *args], capsys, monkeypatch)
    assert result.code == 0, result.err


def test_two_clouds_password_and_aksk_in_one_status_and_ls(
    sim: Simulator, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_clouds(both_clouds(sim))
    prod_job = sim.create_servers(1, fail_count=0)
    team_job = sim.create_servers(2, fail_count=0)
    add(["--os-cloud", "prod", prod_job], capsys, monkeypatch)
    add(["--os-cloud", "team", team_job], capsys, monkeypatch)

    # No OS_CLOUD, no credentials in the environment: each entry brings its own.
    status = run_cli(["status", "--json"], capsys, monkeypatch)
    assert status.code == 0, status.out + status.err
    fetched = {job["job_id"]: job for job in status.json()}
    assert set(fetched) == {prod_job, team_job}
    assert all("error" not in job for job in fetched.values()), fetched
    assert fetched[prod_job]["project_id"] == sim.project_id
    assert fetched[team_job]["project_id"] == sim.accounts[1].project_id
    assert sim.request_count(prod_job) == 1 and sim.request_count(team_job) == 1

    listed = run_cli(["ls", "--json"], capsys, monkeypatch).json()
    assert [(e["cloud"], e["region"], e["auth_method"]) for e in listed] == [
        ("prod", "eu-de", "password"),
        ("team", "eu-de", "aksk"),
    ]
    assert listed[0]["project_name"] == sim.credentials.project_name
    assert {e["endpoint"] for e in listed} == {sim.url}
    table = run_cli(["ls"], capsys, monkeypatch)
    assert "cloud" in table.out and "team" in table.out and "prod" in table.out

    # --os-cloud limits status and ls to that cloud's entries, before or after the command.
    only_team = run_cli(["status", "--json", "--os-cloud", "team"], capsys, monkeypatch)
    assert [job["job_id"] for job in only_team.json()] == [team_job]
    assert sim.request_count(prod_job) == 1
    listed_prod = run_cli(["--os-cloud", "prod", "ls", "--json"], capsys, monkeypatch).json()
    assert [e["job_id"] for e in listed_prod] == [prod_job]
    by_project = run_cli(
        ["ls", "--json", "--project-id", sim.accounts[1].project_id], capsys, monkeypatch
    ).json()
    assert [e["job_id"] for e in by_project] == [team_job]


def test_one_user_two_projects_gets_one_token_per_project(
    sim: Simulator, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_clouds({"prod": prod_cloud(sim)})
    staging_id = sim.accounts[0].projects[STAGING]
    main_job = sim.create_servers(1, fail_count=0)
    staging_job = sim.create_servers(1, fail_count=0)
    add(["--os-cloud", "prod", main_job], capsys, monkeypatch)
    add(["--os-cloud", "prod", "--project-id", staging_id, staging_job], capsys, monkeypatch)

    status = run_cli(["status", "--json"], capsys, monkeypatch)
    assert status.code == 0, status.out + status.err
    assert {job["project_id"] for job in status.json()} == {sim.project_id, staging_id}
    # One login per project, each token cached for its project and reused afterwards.
    assert sim.stats()["tokens_issued_by_project"] == {sim.project_id: 1, staging_id: 1}
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "jobdash"
    token_files = [p for p in cache.rglob("*") if p.is_file()]
    assert len(token_files) == 2
    assert {p.stat().st_mode & 0o777 for p in token_files} == {0o600}
    listed = run_cli(["ls", "--json"], capsys, monkeypatch).json()
    assert [e["project_name"] for e in listed] == [sim.credentials.project_name, STAGING]


def test_an_entry_whose_cloud_was_removed_is_not_fetched_and_keeps_its_snapshot(
    sim: Simulator, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_clouds(both_clouds(sim))
    team_job = sim.create_servers(1, fail_count=0)
    add(["--os-cloud", "team", team_job], capsys, monkeypatch)
    assert run_cli(["status"], capsys, monkeypatch).code == 0
    assert sim.request_count(team_job) == 1

    write_clouds({"prod": prod_cloud(sim)})  # "team" is gone
    # The environment's credentials (another account's token) must not stand in for it.
    monkeypatch.setenv("OS_AUTH_TOKEN", sim.credentials.token)
    status = run_cli(["status", "--json"], capsys, monkeypatch)
    assert status.code == 3
    (result,) = status.json()
    assert result["error"]["kind"] == "no_credentials"
    assert "no credentials for team" in result["error"]["message"]
    assert "clouds.yaml" in result["error"]["message"]
    assert result["last_known"]["job_id"] == team_job  # the last snapshot stays
    assert sim.request_count(team_job) == 1  # nothing was sent
    assert sim.accounts[1].credentials.secret_key not in status.out + status.err

    listed = run_cli(["ls"], capsys, monkeypatch)
    assert "no_credentials" in listed.out
    text = run_cli(["status"], capsys, monkeypatch)
    assert "no credentials for team" in text.out


def test_an_entry_added_with_a_token_that_is_gone_is_not_fetched_with_a_key_pair(
    sim: Simulator, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = sim.create_servers(1, fail_count=0)
    flags = ["--endpoint", sim.url, "--project-id", sim.project_id]
    monkeypatch.setenv("OS_AUTH_TOKEN", sim.credentials.token)
    add([*flags, job], capsys, monkeypatch)
    monkeypatch.delenv("OS_AUTH_TOKEN")
    monkeypatch.setenv("OS_ACCESS_KEY", sim.credentials.access_key)
    monkeypatch.setenv("OS_SECRET_KEY", sim.credentials.secret_key)
    status = run_cli(["status", "--json"], capsys, monkeypatch)
    (result,) = status.json()
    assert result["error"]["kind"] == "no_credentials"
    assert "OS_AUTH_TOKEN" in result["error"]["message"]
    assert sim.request_count(job) == 0
    # With the token back, the same entry is fetched.
    monkeypatch.setenv("OS_AUTH_TOKEN", sim.credentials.token)
    assert run_cli(["status"], capsys, monkeypatch).code == 0
    assert sim.request_count(job) == 1


def test_rm_finished_is_limited_to_the_connection_given(
    sim: Simulator, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_clouds(both_clouds(sim))
    prod_job = sim.create_servers(1, fail_count=0, duration=(1, 1))
    team_job = sim.create_servers(1, fail_count=0, duration=(1, 1))
    add(["--os-cloud", "prod", prod_job], capsys, monkeypatch)
    add(["--os-cloud", "team", team_job], capsys, monkeypatch)
    sim.advance(120)
    assert run_cli(["status"], capsys, monkeypatch).code == 0
    removed = run_cli(["rm", "--finished", "--os-cloud", "team"], capsys, monkeypatch)
    assert removed.code == 0 and removed.out.split() == [team_job]
    with Store() as store:
        assert [e.key.job_id for e in store.entries()] == [prod_job]


# -- the registry itself ---------------------------------------------------------------


def test_one_pool_per_endpoint_and_connections_open_only_when_needed(sim: Simulator) -> None:
    write_clouds(both_clouds(sim))
    staging_id = sim.accounts[0].projects[STAGING]
    entries = {
        e.key: e
        for e in (
            WatchEntry(WatchKey(sim.url, sim.project_id, "a" * 32), profile="prod"),
            WatchEntry(WatchKey(sim.url, staging_id, "b" * 32), profile="prod"),
            WatchEntry(WatchKey(sim.url, sim.accounts[1].project_id, "c" * 32), profile="team"),
        )
    }

    async def run() -> None:
        connections = Connections(None, env={}, entry_for=entries.get)
        assert connections.pools == 0 and sim.stats()["tokens_issued"] == 0
        clients = [connections.client_for(key) for key in entries]
        assert connections.pools == 1
        assert len({id(c.auth) for c in clients}) == 3  # credentials per project
        assert sim.stats()["tokens_issued"] == 0  # logging in waits for the first fetch
        await connections.aclose()

    asyncio.run(run())


def test_a_cloud_entry_never_falls_back_to_the_current_connection(sim: Simulator) -> None:
    key = WatchKey(sim.url, sim.project_id, "a" * 32)
    entry = WatchEntry(key, profile="gone", region="eu-de")
    env = {"OS_AUTH_TOKEN": sim.credentials.token, "OS_PROJECT_ID": sim.project_id}
    connections = Connections(None, env=env, entry_for={key: entry}.get)
    with pytest.raises(NoCredentialsError) as raised:
        connections.client_for(key)
    assert "no credentials for gone · eu-de" in raised.value.message
    assert connections.pools == 0


def test_selection_and_labels() -> None:
    entry = WatchEntry(
        WatchKey("https://ecs.eu-nl.otc.t-systems.com", "p" * 32, "a" * 32), profile="stage"
    )
    assert connection_label(entry) == f"stage · eu-nl · {'p' * 32}"
    assert selection({}) is None
    assert selection({"os_cloud": "stage"})(entry)  # type: ignore[misc]
    assert not selection({"os_cloud": "prod"})(entry)  # type: ignore[misc]
    assert not selection({"project_id": "q" * 32})(entry)  # type: ignore[misc]
    other = WatchEntry(WatchKey("https://x", "q" * 32, "b" * 32), profile="prod")
    assert add_target(None, None, [entry]) == (entry, None)
    target, problem = add_target(None, None, [entry, other])
    assert target is None and problem is not None and "Select a job" in problem
    assert add_target(other, None, [entry, other]) == (other, None)
    group = connection_group(other)
    assert add_target(None, None, [entry, other], group=group) == (other, None)


def test_an_older_watchlist_file_gets_the_connection_columns(tmp_path: Path) -> None:
    import sqlite3

    from jobdash.store.schema import MIGRATIONS

    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    MIGRATIONS[0](raw)
    raw.execute("PRAGMA user_version = 1")
    raw.execute(
        "INSERT INTO entries (endpoint, project_id, job_id, profile, added_at)"
        " VALUES ('https://e', 'p', 'j', 'prod', '2026-01-01T00:00:00.000000+00:00')"
    )
    raw.commit()
    raw.close()
    with Store(path) as store:
        (entry,) = store.entries()
        assert entry.profile == "prod" and entry.auth_method is None
        store.add([WatchEntry(WatchKey("https://e", "p", "k"), auth_method="aksk", region="r")])
        assert store.entries()[1].auth_method == "aksk"
    with sqlite3.connect(path) as raw:
        assert (
            raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
        )  # connections, servers and history, answer bytes, services, resource kinds, lease


def test_the_watchlist_keeps_each_connections_counts_and_state(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from jobdash.api.errors import NoCredentialsError, ThrottledError
    from jobdash.api.model import parse_job
    from jobdash.watch.values import EndpointState, PollUpdate
    from jobdash.watch.watchlist import Watchlist

    prod = [WatchKey("https://ecs.eu-de.otc.t-systems.com", "p" * 32, c * 32) for c in "ab"]
    team = WatchKey("https://ecs.eu-nl.otc.t-systems.com", "q" * 32, "c" * 32)
    now = datetime(2026, 1, 1, tzinfo=UTC)

    async def run() -> None:
        with Store(tmp_path / "w.db") as store:
            store.add([WatchEntry(k, profile="prod") for k in prod])
            store.add([WatchEntry(team, profile="team")])
            watchlist = Watchlist.load(store)
            try:
                assert [s.state for s in watchlist.connection_states([])] == ["waiting"] * 2
                job = parse_job({"job_id": "a" * 32, "status": "RUNNING"})
                watchlist.apply(PollUpdate(prod[0], now, job=job))
                watchlist.apply(PollUpdate(team, now, error=NoCredentialsError("gone")))
                states = {s.label: s for s in watchlist.connection_states([])}
                assert states["prod · eu-de · " + "p" * 32].state == "ok"
                assert states["team · eu-nl · " + "q" * 32].state == "no credentials"
                assert sum(states["prod · eu-de · " + "p" * 32].counts.values()) == 2
                throttled = EndpointState(prod[0].endpoint, throttled=True)
                watchlist.apply(PollUpdate(prod[1], now, error=ThrottledError("slow")))
                by_label = {s.label: s.state for s in watchlist.connection_states([throttled])}
                assert by_label["prod · eu-de · " + "p" * 32] == "throttled"
                await watchlist.remove([team])
                assert list(watchlist.tally.group_labels.values()) == ["prod · eu-de · " + "p" * 32]
            finally:
                await watchlist.aclose()

    asyncio.run(run())


def test_simulate_prints_the_extra_projects_and_accounts(sim: Simulator) -> None:
    from jobdash.cli import build_parser
    from jobdash.simulator.cli import config_from_args, connection_lines

    args = build_parser().parse_args(
        ["simulate", "--extra-project", STAGING, "--extra-accounts", "1"]
    )
    config = config_from_args(args)
    assert config.extra_projects == (STAGING,) and config.extra_accounts == 1
    text = "\n".join(connection_lines(sim))
    assert f"project_name={STAGING} project_id={sim.accounts[0].projects[STAGING]}" in text
    assert f"ak={sim.accounts[1].credentials.access_key}" in text


def test_connection_flags_may_come_before_the_command() -> None:
    from jobdash.cli import _normalise_argv

    assert _normalise_argv(["--os-cloud", "prod", "ls", "--json"]) == [
        "ls",
        "--os-cloud",
        "prod",
        "--json",
    ]
    assert _normalise_argv(["--endpoint=https://e", "--insecure", "status", "x"]) == [
        "status",
        "--endpoint=https://e",
        "--insecure",
        "x",
    ]
    assert _normalise_argv(["--os-cloud", "prod"]) == ["ui", "--os-cloud", "prod"]
    assert _normalise_argv(["--os-cloud", "status"]) == ["ui", "--os-cloud", "status"]
