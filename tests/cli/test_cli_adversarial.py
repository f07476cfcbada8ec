"""`jobdash` used the hard way: locked databases, hostile API text, messy input."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable

import httpx
import pytest
from cli_helpers import connection_flags, run_cli

import jobdash.store.core
from jobdash.config.paths import config_file, database_file
from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.watch.values import PollUpdate


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    return simulator_factory(seed=23, fail_rate=0.0)


class CountingStore(Store):
    """The real store with a short busy timeout, counting the writes `status` attempts."""

    attempts = 0

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("busy_timeout", 0.2)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def record_many(self, updates: Iterable[PollUpdate]):  # type: ignore[no-untyped-def]
        type(self).attempts += 1
        return super().record_many(updates)


def test_status_on_a_locked_database_tries_the_store_once_not_per_job(
    sim: Simulator, capsys, monkeypatch, caplog
) -> None:
    jobs = [sim.create_servers(1, fail_count=0, duration=(5, 5)) for _ in range(6)]
    sim.advance(60)
    added = run_cli(["add", *connection_flags(sim), *jobs], capsys, monkeypatch, sim=sim)
    assert added.code == 0, added.err
    monkeypatch.setattr(jobdash.store.core, "Store", CountingStore)
    holder = sqlite3.connect(database_file(), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = run_cli(["status", *connection_flags(sim)], capsys, monkeypatch, sim=sim)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.code == 0, result.err
    assert "6 jobs:  ✓6 succeeded" in result.out
    # Each write to a locked file waits the whole busy timeout: after the first failure
    # the others wait in memory instead of costing one timeout per job.
    assert CountingStore.attempts == 1
    assert any("is locked" in message for message in caplog.messages)
    # The operator sees it once, as jobdash's own warning, not as a bare log line.
    warnings = [line for line in result.err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, result.err
    assert "could not record an update in the store" in warnings[0]
    assert "is locked" in warnings[0]


@pytest.mark.parametrize(
    "flags",
    [
        ["--interval", "nan"],
        ["--interval", "inf"],
        ["--interval", "-1"],
        ["--timeout", "nan"],
        ["--timeout", "-5"],
        ["--timeout", "soon"],
    ],
)
def test_odd_interval_and_timeout_are_usage_errors(
    sim: Simulator, capsys, monkeypatch, flags: list[str]
) -> None:
    job = sim.create_servers(1, fail_count=0, duration=(5, 5))
    with pytest.raises(SystemExit) as exited:
        run_cli(["status", *connection_flags(sim), "--watch", *flags, job], capsys, monkeypatch)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert flags[0] in err and "Traceback" not in err


@pytest.mark.parametrize(
    "line", ["interval = nan", "max_interval = inf", "max_in_flight = inf", "max_rps = inf"]
)
def test_non_finite_poller_settings_in_config_toml_are_configuration_errors(
    sim: Simulator, capsys, monkeypatch, line: str
) -> None:
    config = config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f"[poller]\n{line}\n")
    job = sim.create_servers(1, fail_count=0, duration=(5, 5))
    result = run_cli(["status", *connection_flags(sim), job], capsys, monkeypatch, sim=sim)
    assert result.code == 2
    assert "config.toml" in result.err and line.split()[0] in result.err


def test_a_password_inside_a_url_is_refused_and_never_shown_or_stored(
    sim: Simulator, capsys, monkeypatch
) -> None:
    job = sim.create_servers(1, fail_count=0, duration=(5, 5))
    secret = "hunter2-in-the-url"
    leaky = sim.url.replace("http://", f"http://operator:{secret}@")
    monkeypatch.setenv("JOBDASH_ENDPOINT", leaky)
    monkeypatch.setenv("OS_PROJECT_ID", sim.project_id)
    added = run_cli(["add", job], capsys, monkeypatch, sim=sim)
    assert added.code == 2
    assert "endpoint URL must not contain a user name or password" in added.err
    assert secret not in added.out + added.err
    assert not database_file().exists() or secret.encode() not in database_file().read_bytes()

    monkeypatch.delenv("JOBDASH_ENDPOINT")
    monkeypatch.setenv("OS_AUTH_URL", leaky + "/v3")
    monkeypatch.setenv("OS_USERNAME", sim.credentials.username)
    monkeypatch.setenv("OS_PASSWORD", sim.credentials.password)
    monkeypatch.setenv("OS_USER_DOMAIN_NAME", sim.credentials.user_domain_name)
    monkeypatch.delenv("OS_AUTH_TOKEN")
    status = run_cli(["status", "--endpoint", sim.url, job], capsys, monkeypatch)
    assert status.code == 2
    assert "auth URL must not contain" in status.err
    assert secret not in status.out + status.err


def test_adding_an_api_error_answer_says_so(sim: Simulator, capsys, monkeypatch) -> None:
    # What `curl ... | jobdash add -` pipes in when the create call failed.
    answer = httpx.get(
        f"{sim.url}/v1/{sim.project_id}/jobs/0123456789abcdef0123456789abcdef",
        headers={"X-Auth-Token": sim.credentials.token},
    )
    assert answer.status_code >= 400
    result = run_cli(["add", *connection_flags(sim), "-"], capsys, monkeypatch, stdin=answer.text)
    assert result.code == 2
    assert "the input is an API error, not a job: Common.0011" in result.err
    junk = run_cli(["add", *connection_flags(sim), "-"], capsys, monkeypatch, stdin='{"id": 5}')
    assert junk.code == 2
    assert "found no job id in the 9 bytes of input" in junk.err
