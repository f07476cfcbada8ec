"""`jobdash add`, `rm` and `ls`, including stdin parsing and several processes at once."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import cli_command, connection_flags, run_cli, run_process, subprocess_env_for

from jobdash.simulator import Simulator
from jobdash.store.core import Store

A = "a" * 32
B = "b" * 32
C = "c" * 32


@pytest.fixture
def sim(simulator_factory: Callable[..., Simulator]) -> Simulator:
    return simulator_factory(seed=5, fail_rate=0.0)


def listed(capsys, monkeypatch) -> list[dict]:
    result = run_cli(["ls", "--json"], capsys, monkeypatch)
    assert result.code == 0
    return result.json()


def test_add_ls_rm_roundtrip(sim: Simulator, capsys, monkeypatch) -> None:
    flags = connection_flags(sim)
    result = run_cli(["add", *flags, A, B, "--label", "batch 1"], capsys, monkeypatch, sim=sim)
    assert result.code == 0
    assert result.out.split() == [A, B]
    assert "added 2 jobs" in result.err
    again = run_cli(["add", *flags, B, C], capsys, monkeypatch, sim=sim)
    assert again.code == 0
    assert again.out.split() == [C]
    assert "ignored 1 duplicate" in again.err
    entries = listed(capsys, monkeypatch)
    assert [e["job_id"] for e in entries] == [A, B, C]
    assert entries[0]["label"] == "batch 1" and entries[2]["label"] is None
    assert {e["endpoint"] for e in entries} == {sim.url}
    assert {e["project_id"] for e in entries} == {sim.project_id}
    assert all(e["status"] is None for e in entries)
    table = run_cli(["ls"], capsys, monkeypatch)  # into a pipe: tab-separated lines
    assert table.out.splitlines()[1].split("\t")[:5] == [A, "unknown", "ecs", "-", "batch 1"]
    removed = run_cli(["rm", A, "ffff"], capsys, monkeypatch)
    assert removed.code == 2  # one id was not in the watchlist
    assert removed.out.split() == [A]
    assert "not in the watchlist: ffff" in removed.err
    assert [e["job_id"] for e in listed(capsys, monkeypatch)] == [B, C]


# How `ls` fits a narrow terminal and prints into a pipe: tests/cli/test_cli_ls_layout.py.


def test_add_reads_json_and_text_from_stdin(sim: Simulator, capsys, monkeypatch) -> None:
    flags = connection_flags(sim)
    body = json.dumps({"job_id": A, "serverIds": ["s1", "s2"]})
    result = run_cli(["add", *flags, "-"], capsys, monkeypatch, sim=sim, stdin=body)
    assert result.code == 0 and result.out.split() == [A]
    text = f"batch one: {B}\nbatch two: {C}\nand {A} again\n"
    piped = run_cli(["add", *flags], capsys, monkeypatch, sim=sim, stdin=text)
    assert piped.code == 0
    assert piped.out.split() == [B, C]
    assert "ignored 1 duplicate" in piped.err
    assert [e["job_id"] for e in listed(capsys, monkeypatch)] == [A, B, C]


def test_invalid_ids_are_listed_and_valid_ones_still_added(
    sim: Simulator, capsys, monkeypatch
) -> None:
    lines = f"{A}\n../etc/passwd\n{'x' * 70}\nfine-id\n"
    result = run_cli(
        ["add", *connection_flags(sim), "--any-id", "-"],
        capsys,
        monkeypatch,
        sim=sim,
        stdin=lines,
    )
    assert result.code == 2
    assert result.out.split() == [A, "fine-id"]
    assert "skipped 2 invalid ids" in result.err
    assert "'../etc/passwd': contains a slash" in result.err
    assert "is 70 characters long" in result.err
    assert [e["job_id"] for e in listed(capsys, monkeypatch)] == [A, "fine-id"]


@pytest.mark.parametrize("value", ["12345", "deadbeef", "bogus-id-42", "g" * 32, "a" * 33])
def test_ids_that_are_not_32_hex_are_refused_unless_any_id(
    sim: Simulator, capsys, monkeypatch, value: str
) -> None:
    flags = connection_flags(sim)
    refused = run_cli(["add", *flags, value, A], capsys, monkeypatch, sim=sim)
    assert refused.code == 2
    assert f"'{value}': is not 32 hexadecimal characters" in refused.err
    assert "--any-id" in refused.err
    assert [e["job_id"] for e in listed(capsys, monkeypatch)] == [A]
    accepted = run_cli(["add", *flags, "--any-id", value], capsys, monkeypatch, sim=sim)
    assert accepted.code == 0, accepted.err
    assert [e["job_id"] for e in listed(capsys, monkeypatch)] == [A, value]


def test_add_without_ids_is_a_usage_error(sim: Simulator, capsys, monkeypatch) -> None:
    result = run_cli(["add", *connection_flags(sim)], capsys, monkeypatch, sim=sim)
    assert result.code == 2
    assert "no job ids given" in result.err


def test_rm_finished(sim: Simulator, capsys, monkeypatch) -> None:
    flags = connection_flags(sim)
    done = sim.create_servers(1, fail_count=0, duration=(5, 5))
    failed = sim.create_servers(1, fail_count=1, duration=(5, 5))
    running = sim.create_servers(1, fail_count=0, duration=(900, 900))
    run_cli(["add", *flags, done, failed, running], capsys, monkeypatch, sim=sim)
    sim.advance(60)
    assert run_cli(["status", *flags], capsys, monkeypatch, sim=sim).code == 0
    result = run_cli(["rm", "--finished"], capsys, monkeypatch)
    assert result.code == 0
    assert sorted(result.out.split()) == sorted([done, failed])
    assert [e["job_id"] for e in listed(capsys, monkeypatch)] == [running]


def test_eight_parallel_adders_lose_nothing(sim: Simulator, subprocess_env: dict[str, str]) -> None:
    env = subprocess_env_for(sim, subprocess_env)
    flags = connection_flags(sim)
    batches = [[f"{worker:02d}{n:030d}" for n in range(25)] for worker in range(8)]
    procs = [
        subprocess.Popen(
            [*cli_command(), "add", *flags, "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in batches
    ]
    for proc, batch in zip(procs, batches, strict=True):
        assert proc.stdin is not None
        proc.stdin.write("\n".join(batch))
        proc.stdin.close()
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    listing = run_process(["ls", "--json"], env)
    ids = [e["job_id"] for e in json.loads(listing.out)]
    assert sorted(ids) == sorted(i for batch in batches for i in batch)


def test_ctrl_c_ends_watch_with_130_and_keeps_the_store(
    sim: Simulator, subprocess_env: dict[str, str], isolated_dirs: Path
) -> None:
    env = subprocess_env_for(sim, subprocess_env)
    flags = connection_flags(sim)
    job = sim.create_servers(2, fail_count=0, duration=(3600, 3600))
    assert run_process(["add", *flags, job], env).code == 0
    proc = subprocess.Popen(
        [*cli_command(), "status", *flags, "--watch", "--interval", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # A shell running the tests in the background passes SIGINT on as ignored; undo that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 30
    while sim.request_count(job) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sim.request_count(job) >= 2
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    with Store() as store:
        (entry,) = store.entries()
        snapshot = store.snapshot(entry.key)
    assert entry.key.job_id == job
    assert snapshot is not None and snapshot.job is not None
    assert snapshot.job.status in ("INIT", "RUNNING")


def test_add_needs_no_login_when_endpoint_and_project_are_given(capsys, monkeypatch) -> None:
    flags = ["--endpoint", "https://ecs.eu-de.otc.t-systems.com", "--project-id", "f" * 32]
    result = run_cli(["add", *flags, A], capsys, monkeypatch)
    assert result.code == 0, result.err
    (entry,) = listed(capsys, monkeypatch)
    assert entry["endpoint"] == "https://ecs.eu-de.otc.t-systems.com"
    assert entry["project_id"] == "f" * 32
    region = run_cli(["add", "--region", "eu-nl", "--project-id", "f" * 32, B], capsys, monkeypatch)
    assert region.code == 0, region.err
    assert listed(capsys, monkeypatch)[1]["endpoint"] == "https://ecs.eu-nl.otc.t-systems.com"
    # Without a project id only a login could tell where the job lives.
    unknown = run_cli(["add", "--region", "eu-de", C], capsys, monkeypatch)
    assert unknown.code == 2
    assert len(listed(capsys, monkeypatch)) == 2
