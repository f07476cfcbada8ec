"""`--os-cloud de --project-id <another project>`: the job is fetched where the catalog of
the token scoped to that project says, not at the cloud's region's default host.

IAM here is a loopback relay in front of the simulator's: it logs in there and rewrites
each token's catalog, as a cloud whose projects live in different regions would answer.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cli_helpers import run_cli

from jobdash.simulator import Simulator
from jobdash.store.core import Store

#: A project of the same account in another region than the cloud's (eu-de).
OTHER = "eu-nl_team"
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def sim(simulator_factory: Any) -> Simulator:
    return simulator_factory(extra_projects=(OTHER,), fail_rate=0.0)


@pytest.fixture
def relay(sim: Simulator) -> Iterator[str]:
    """IAM whose tokens for OTHER list ECS (at the simulator) in eu-nl only, and whose
    tokens for the cloud's own project list an ECS that does not answer."""
    other_id = sim.accounts[0].projects[OTHER]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            upstream = httpx.post(
                sim.auth_url.rstrip("/") + "/auth/tokens",
                content=body,
                headers={"Content-Type": "application/json"},
            )
            data = upstream.json()
            token = data.get("token") or {}
            for service in token.get("catalog") or []:
                for endpoint in service["endpoints"]:
                    if token["project"]["id"] == other_id:
                        endpoint["region"] = endpoint["region_id"] = "eu-nl"
                    else:
                        endpoint["url"] = NOWHERE
            out = json.dumps(data).encode()
            self.send_response(upstream.status_code)
            self.send_header("X-Subject-Token", upstream.headers.get("X-Subject-Token", ""))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v3"
    finally:
        server.shutdown()
        server.server_close()


def write_de_cloud(sim: Simulator, auth_url: str) -> None:
    creds = sim.credentials
    cloud = {
        "region_name": "eu-de",
        "auth": {
            "auth_url": auth_url,
            "username": creds.username,
            "password": creds.password,
            "user_domain_name": creds.user_domain_name,
            "project_name": creds.project_name,
        },
    }
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "openstack" / "clouds.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"clouds": {"de": cloud}}))


def test_status_with_another_project_uses_that_projects_catalog(
    sim: Simulator, relay: str, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_de_cloud(sim, relay)
    other_id = sim.accounts[0].projects[OTHER]
    job = sim.create_servers(1, fail_count=0)
    flags = ["--os-cloud", "de", "--project-id", other_id]
    result = run_cli(["status", *flags, "--json", job], capsys, monkeypatch)
    assert result.code == 0, result.out + result.err
    (fetched,) = result.json()
    assert fetched["job_id"] == job
    assert fetched["project_id"] == other_id
    assert sim.stats()["tokens_issued_by_project"] == {other_id: 1}


def test_add_with_another_project_stores_that_projects_endpoint(
    sim: Simulator, relay: str, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_de_cloud(sim, relay)
    other_id = sim.accounts[0].projects[OTHER]
    job = sim.create_servers(1, fail_count=0)
    flags = ["--os-cloud", "de", "--project-id", other_id]
    assert run_cli(["add", *flags, job], capsys, monkeypatch).code == 0
    with Store() as store:
        (entry,) = store.entries()
    assert entry.key.endpoint == sim.url
    result = run_cli(["status", "--json"], capsys, monkeypatch)
    assert result.code == 0, result.out + result.err
    assert [j["job_id"] for j in result.json()] == [job]
