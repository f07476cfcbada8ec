"""What `status` and non-interactive `status --watch` print: changes only, whole lines,
an empty watchlist refused, a credential error said once. Simulator over loopback."""

from __future__ import annotations

import re

from cli_helpers import connection_flags, fast_simulator, run_cli

from jobdash.simulator import Simulator

STAMPED = re.compile(r"^\d\d:\d\d:\d\d  ")


def test_non_tty_watch_prints_changes_only_and_whole_lines(capsys, monkeypatch) -> None:
    sim = fast_simulator(speed=1.0)
    try:
        jobs = [sim.create_servers(1, fail_count=0, duration=(3600, 3600)) for _ in range(4)]
        sim.advance(60)  # past INIT: from here on nothing changes
        label = "web tier, second batch of the morning"  # the line is over 80 columns
        added = run_cli(
            ["add", *connection_flags(sim), "--label", label, *jobs], capsys, monkeypatch, sim=sim
        )
        assert added.code == 0, added.err
        result = run_cli(
            ["status", *connection_flags(sim), "--watch", "--interval", "0.2", "--timeout", "2"],
            capsys,
            monkeypatch,
            sim=sim,
            columns=80,
        )
        requests = sum(sim.request_count(job) for job in jobs)
    finally:
        sim.stop()
    assert result.code == 8, result.err
    assert requests >= 12  # polled many times over...
    logged = [line for line in result.out.splitlines() if STAMPED.match(line)]
    # ...but each unchanged job is reported once, on one line, label whole.
    assert len(logged) == len(jobs), logged
    for job, line in zip(jobs, logged, strict=True):
        assert job in line and f"«{label}»" in line and "RUNNING" in line
        assert len(line) > 80
    # The final tree, too, has one whole line per job.
    final = [line for line in result.out.splitlines() if not STAMPED.match(line)]
    for job in jobs:
        assert any(job in line and f"«{label}»" in line for line in final), final


def test_watch_and_exit_status_on_an_empty_watchlist_are_refused(
    simulator: Simulator, capsys, monkeypatch
) -> None:
    flags = connection_flags(simulator)
    for extra in (["--watch", "--exit-status"], ["--exit-status"], ["--watch"]):
        result = run_cli(["status", *flags, *extra], capsys, monkeypatch, sim=simulator)
        assert result.code == 2, extra
        assert "nothing to watch" in result.err
    # Only looking is fine.
    looked = run_cli(["status", *flags, "--json"], capsys, monkeypatch, sim=simulator)
    assert (looked.code, looked.json()) == (0, [])
    assert "the watchlist is empty" in looked.err


def test_a_rejected_token_is_said_once_with_the_count(
    simulator: Simulator, capsys, monkeypatch
) -> None:
    jobs = [simulator.create_servers(1, fail_count=0) for _ in range(3)]
    monkeypatch.setenv("OS_AUTH_TOKEN", "not-the-token")
    result = run_cli(["status", *connection_flags(simulator), *jobs], capsys, monkeypatch)
    assert result.code == 3
    assert result.out.count("not authorized") == 1
    assert "unauthorized for 3 jobs: not authorized" in result.out
    for job in jobs:
        assert job in result.out


def test_a_rejected_token_while_watching_is_logged_once(
    simulator: Simulator, capsys, monkeypatch
) -> None:
    jobs = [simulator.create_servers(1, fail_count=0) for _ in range(3)]
    monkeypatch.setenv("OS_AUTH_TOKEN", "not-the-token")
    flags = connection_flags(simulator)
    added = run_cli(["add", *flags, *jobs], capsys, monkeypatch)
    assert added.code == 0, added.err
    result = run_cli(
        ["status", *flags, "--watch", "--interval", "0.2", "--timeout", "20"], capsys, monkeypatch
    )
    assert result.code == 3
    assert result.out.count("not authorized") == 2  # the log line, then the summary
    assert "unauthorized for 3 jobs" in result.out
