"""End to end: two clouds of one clouds.yaml in one dashboard, in a real terminal (tmux).

The simulator runs two accounts over loopback. A clouds.yaml names them as two clouds,
one logging in with an IAM password, the other signing with an access key pair. Jobs are
added to each with `jobdash --os-cloud NAME add`, then `jobdash` runs in tmux with
isolated directories and reads both: a row per connection, each job with the status its
own cloud's credentials fetched.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tmux_helpers import Tmux, tmux_server

from jobdash.simulator import Simulator

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

WIDTH, HEIGHT = 160, 40


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    with tmux_server(tmp_path) as session:
        yield session


def clouds_yaml(sim: Simulator) -> dict[str, Any]:
    main, team = sim.accounts
    return {
        "clouds": {
            "prod": {
                "region_name": "eu-de",
                "auth": {
                    "auth_url": sim.auth_url,
                    "username": main.credentials.username,
                    "password": main.credentials.password,
                    "user_domain_name": main.credentials.user_domain_name,
                    "project_name": main.credentials.project_name,
                },
            },
            "team": {
                "ak": team.credentials.access_key,
                "sk": team.credentials.secret_key,
                "region_name": "eu-de",
                "ecs_endpoint": sim.url,
                "auth": {"project_id": team.project_id},
            },
        }
    }


def jobdash(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobdash", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_two_clouds_in_one_dashboard(
    tmux: Tmux,
    simulator_factory: Callable[..., Simulator],
    subprocess_env: dict[str, str],
    tmp_path: Path,
) -> None:
    sim = simulator_factory(extra_accounts=1)
    config_file = tmp_path / "clouds.yaml"
    config_file.write_text(yaml.safe_dump(clouds_yaml(sim)))
    env = {**subprocess_env, "OS_CLIENT_CONFIG_FILE": str(config_file)}
    # prod: one batch that succeeds, one still running; team: a batch with one failure.
    prod_done = sim.create_servers(2, fail_count=0, duration=(5, 5))
    prod_running = sim.create_servers(1, duration=(1e6, 1e6))
    team_failed = sim.create_servers(3, fail_count=1, duration=(5, 5))
    sim.advance(60)
    for cloud, label, ids in (
        ("prod", "prod-web", [prod_done, prod_running]),
        ("team", "team-db", [team_failed]),
    ):
        added = jobdash(["--os-cloud", cloud, "add", "--label", label, *ids], env)
        assert added.returncode == 0, added.stderr
    team_project = sim.accounts[1].project_id
    fetched_before = {job: sim.request_count(job) for job in (prod_done, prod_running, team_failed)}

    exit_file = tmp_path / "exit-code"
    env_args = " ".join(
        shlex.quote(f"{k}={v}")
        for k, v in env.items()
        if k.startswith(("XDG_", "HOME", "OS_", "PATH"))
    )
    # Textual draws on stderr: it stays the terminal's.
    command = (
        f"env -u COLUMNS -u LINES {env_args} TERM=xterm-256color "
        f"{shlex.quote(sys.executable)} -m jobdash --interval 0.5; echo $? > {exit_file}"
    )
    tmux.start(command, WIDTH, HEIGHT)

    prod_row = f"prod · eu-de · {sim.credentials.project_name}"
    team_row = f"team · eu-de · {team_project}"
    # Each connection's row with its jobs' counts, each job with the status its own
    # cloud's credentials fetched: the batch that succeeded, the one still running, and
    # the other account's batch with its failure.
    rows = [
        f"▼ {prod_row}  ● 1 running  ✓ 1 ok",
        f"✓ createServer {prod_done[:8]} 2/2",
        f"● createServer {prod_running[:8]} 0/1",
        f"▼ {team_row}  ✗ 1 failed",
        f"✗ createServer {team_failed[:8]} 3/3  ✓2 ✗1",
    ]
    screen = tmux.wait_for(
        lambda s: all(row in s for row in rows), "both connections' rows and jobs"
    )
    lines = screen.splitlines()
    where = [next(i for i, line in enumerate(lines) if row in line) for row in rows]
    assert where == sorted(where), screen  # each job under its own connection
    assert all("«prod-web»" in lines[i] for i in where[1:3]), screen
    assert "«team-db»" in lines[where[4]], screen
    # The header: live, and each connection's state, none of them refused.
    header = "\n".join(lines[:3])
    assert "● live" in header, screen
    assert f"{prod_row} ● ok" in header and f"{team_row} ● ok" in header, screen
    for refused in ("not authorized", "unauthorized", "no credentials", "offline"):
        assert refused not in header, screen
    # The dashboard fetched every job itself; the password cloud logged in for its
    # project, the key pair signed its requests (no token for its project).
    assert all(sim.request_count(job) > fetched_before[job] for job in fetched_before)
    tokens = sim.stats()["tokens_issued_by_project"]
    assert tokens.get(sim.project_id, 0) >= 1 and team_project not in tokens, tokens

    tmux.keys("q")
    deadline = time.monotonic() + 20
    while not exit_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert exit_file.read_text().strip() == "0"
