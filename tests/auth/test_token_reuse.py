"""When a cached IAM token is reused: only by the credentials that obtained it, and long
enough even when IAM hands out short-lived tokens. Simulator over loopback."""

from __future__ import annotations

from pathlib import Path

import httpx
from cli_helpers import run_cli

from jobdash.api.client import JobsClient
from jobdash.auth.methods import PasswordAuth
from jobdash.config import paths
from jobdash.simulator import Simulator


def password_env(sim: Simulator, monkeypatch, password: str) -> None:  # type: ignore[no-untyped-def]
    creds = sim.credentials
    monkeypatch.setenv("OS_AUTH_URL", sim.auth_url)
    monkeypatch.setenv("OS_USERNAME", creds.username)
    monkeypatch.setenv("OS_PASSWORD", password)
    monkeypatch.setenv("OS_USER_DOMAIN_NAME", creds.user_domain_name)
    monkeypatch.setenv("OS_PROJECT_ID", sim.project_id)
    monkeypatch.setenv("JOBDASH_ENDPOINT", sim.url)


def test_a_changed_password_does_not_reuse_the_cached_token(
    simulator: Simulator, capsys, monkeypatch
) -> None:
    job = simulator.create_servers(1, fail_count=0)
    password_env(simulator, monkeypatch, simulator.credentials.password)
    first = run_cli(["status", job], capsys, monkeypatch)
    assert first.code == 0, first.err
    cached = list(paths.token_cache_dir().glob("*.json"))
    assert len(cached) == 1
    assert simulator.credentials.password not in cached[0].read_text()
    password_env(simulator, monkeypatch, "a-wrong-password")
    second = run_cli(["status", job], capsys, monkeypatch)
    assert second.code == 3
    assert "refused the login" in second.err
    # The right password still finds its token: no second login needed.
    password_env(simulator, monkeypatch, simulator.credentials.password)
    issued = simulator.stats()["tokens_issued"]
    third = run_cli(["status", job], capsys, monkeypatch)
    assert third.code == 0, third.err
    assert simulator.stats()["tokens_issued"] == issued == 1


async def test_a_short_lived_token_is_used_for_most_of_its_life(
    simulator_factory, tmp_path: Path
) -> None:
    sim = simulator_factory(token_ttl=120.0)
    job = sim.create_servers(1, fail_count=0)
    creds = sim.credentials
    auth = PasswordAuth(
        sim.auth_url,
        creds.username,
        creds.password,
        creds.user_domain_name,
        project_id=sim.project_id,
        cache_dir=tmp_path,
        clock=sim.now,
    )
    async with httpx.AsyncClient(auth=auth) as http:
        client = JobsClient(http, sim.url, sim.project_id)
        for _ in range(27):
            await client.get_job(job)
            sim.advance(3)  # 81 s in all: within the 108 s the token is trusted
        assert auth.logins == 1
        sim.advance(40)  # now 121 s: past expiry minus a tenth of the lifetime
        await client.get_job(job)
        assert auth.logins == 2
