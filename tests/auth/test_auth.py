"""Unit tests of the auth classes over httpx.MockTransport: no sockets, a fake IAM."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobdash.api.client import JobsClient
from jobdash.api.errors import (
    BadResponseError,
    ConfigError,
    NetworkError,
    ServerError,
    UnauthorizedError,
)
from jobdash.auth.methods import PasswordAuth, TokenAuth
from jobdash.auth.service_catalog import endpoint_from_catalog, service_origin
from jobdash.config import paths

PROJECT_ID = "0123456789abcdef0123456789abcdef"
JOB_ID = "ff80808288d41e1b018b3b7e1e6b0f4c"
PASSWORD = "pa55-w0rd-SECRET"
AUTH_URL = "https://iam.example.test/v3"
START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class FakeCloud:
    """IAM plus one job route. Tokens live `ttl`; `now` is shared with the auth's clock."""

    def __init__(self) -> None:
        self.now = START
        self.ttl = timedelta(hours=24)
        self.tokens: dict[str, datetime] = {}
        self.logins: list[dict[str, Any]] = []
        self.api_calls: list[str | None] = []
        self.iam_status = 201
        self.reject_all_tokens = False

    def clock(self) -> datetime:
        return self.now

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/auth/tokens":
            return self.login(request)
        token = request.headers.get("X-Auth-Token")
        self.api_calls.append(token)
        expiry = self.tokens.get(token or "")
        if self.reject_all_tokens or expiry is None or expiry <= self.now:
            return httpx.Response(401, json={"error": {"code": 401, "message": "expired"}})
        return httpx.Response(
            200, json={"job_id": JOB_ID, "status": "RUNNING", "job_type": "createServer"}
        )

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        # Let other tasks run mid-request, as a real network would.
        for _ in range(3):
            await asyncio.sleep(0)
        return self.handler(request)

    def login(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.logins.append(body)
        if self.iam_status != 201:
            return httpx.Response(
                self.iam_status,
                json={"error": {"code": self.iam_status, "message": "The request you have made"}},
            )
        token = f"tok-{len(self.logins)}"
        expires = self.now + self.ttl
        self.tokens[token] = expires
        catalog = [
            {
                "type": "ecs",
                "endpoints": [
                    {"interface": "internal", "region": "eu-de", "url": "https://int.x/v1/p"},
                    {
                        "interface": "public",
                        "region": "eu-de",
                        "url": f"https://ecs.eu-de.example.test/v1/{PROJECT_ID}",
                    },
                ],
            }
        ]
        payload = {
            "token": {
                "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "project": {"id": PROJECT_ID, "name": "eu-de_demo"},
                "catalog": catalog,
            }
        }
        return httpx.Response(201, json=payload, headers={"X-Subject-Token": token})


@pytest.fixture
def cloud() -> FakeCloud:
    return FakeCloud()


def make_auth(cloud: FakeCloud, **kwargs: Any) -> PasswordAuth:
    options: dict[str, Any] = {"project_name": "eu-de_demo", "clock": cloud.clock}
    options.update(kwargs)
    return PasswordAuth(AUTH_URL, "alice", PASSWORD, "OTC-DOMAIN", **options)


def make_http(cloud: FakeCloud, auth: httpx.Auth) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(cloud.async_handler), auth=auth)


@pytest.fixture
def capture_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG):
        yield caplog


async def fetch(http: httpx.AsyncClient) -> httpx.Response:
    return await http.get(f"https://ecs.eu-de.example.test/v1/{PROJECT_ID}/jobs/{JOB_ID}")


# -- token auth ------------------------------------------------------------------------


async def test_token_auth_sends_the_token_and_hides_it() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("X-Auth-Token"))
        return httpx.Response(200, json={"job_id": JOB_ID, "status": "SUCCESS"})

    auth = TokenAuth("static-SECRET-token")
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=auth) as http:
        job = await JobsClient(http, "https://ecs.x", PROJECT_ID).get_job(JOB_ID)
    assert job.status == "SUCCESS"
    assert seen == ["static-SECRET-token"]
    assert "SECRET" not in repr(auth) and "SECRET" not in str(auth)


def test_empty_token_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        TokenAuth("")


# -- password login ---------------------------------------------------------------------


async def test_login_body_scopes_by_project_name(cloud: FakeCloud) -> None:
    auth = make_auth(cloud)
    async with make_http(cloud, auth) as http:
        info = await auth.ensure_token(http)
    body = cloud.logins[0]["auth"]
    user = body["identity"]["password"]["user"]
    assert body["identity"]["methods"] == ["password"]
    assert user == {"name": "alice", "password": PASSWORD, "domain": {"name": "OTC-DOMAIN"}}
    assert body["scope"]["project"]["name"] == "eu-de_demo"
    assert info.token == "tok-1"
    assert info.project_id == PROJECT_ID
    assert info.project_name == "eu-de_demo"
    assert info.expires_at == START + timedelta(hours=24)


async def test_login_body_scopes_by_project_id_and_bare_auth_url_gets_v3(
    cloud: FakeCloud,
) -> None:
    auth = PasswordAuth(
        "https://iam.example.test", "alice", PASSWORD, "OTC-DOMAIN", project_id=PROJECT_ID
    )
    assert auth.auth_url == AUTH_URL
    async with make_http(cloud, auth) as http:
        await auth.ensure_token(http)
    assert cloud.logins[0]["auth"]["scope"] == {"project": {"id": PROJECT_ID}}


def test_password_auth_needs_a_project() -> None:
    with pytest.raises(ConfigError, match="project"):
        PasswordAuth(AUTH_URL, "alice", PASSWORD, "OTC-DOMAIN")


async def test_token_is_cached_in_a_private_file(cloud: FakeCloud) -> None:
    auth = make_auth(cloud)
    async with make_http(cloud, auth) as http:
        response = await fetch(http)
    assert response.status_code == 200
    directory = paths.token_cache_dir()
    files = list(directory.iterdir())
    assert len(files) == 1
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    content = files[0].read_text()
    assert "tok-1" in content
    assert PASSWORD not in content
    assert "alice" not in files[0].name and PASSWORD not in files[0].name


async def test_token_is_reused_in_memory_and_across_instances(cloud: FakeCloud) -> None:
    auth = make_auth(cloud)
    async with make_http(cloud, auth) as http:
        for _ in range(3):
            assert (await fetch(http)).status_code == 200
    second = make_auth(cloud)
    async with make_http(cloud, second) as http:
        assert (await fetch(http)).status_code == 200
    assert len(cloud.logins) == 1
    assert cloud.api_calls == ["tok-1"] * 4
    assert second.logins == 0


async def test_different_identities_do_not_share_a_cache(cloud: FakeCloud) -> None:
    async with make_http(cloud, make_auth(cloud)) as http:
        await fetch(http)
    other = make_auth(cloud, project_name=None, project_id=PROJECT_ID)
    async with make_http(cloud, other) as http:
        await fetch(http)
    assert len(cloud.logins) == 2
    assert len(list(paths.token_cache_dir().iterdir())) == 2


async def test_token_is_refreshed_shortly_before_it_expires(cloud: FakeCloud) -> None:
    auth = make_auth(cloud)
    async with make_http(cloud, auth) as http:
        await fetch(http)
        cloud.now = START + timedelta(hours=23, minutes=50)  # 10 min left: still fine
        await fetch(http)
        assert len(cloud.logins) == 1
        cloud.now = START + timedelta(hours=23, minutes=57)  # 3 min left: refresh first
        await fetch(http)
    assert len(cloud.logins) == 2
    assert cloud.api_calls == ["tok-1", "tok-1", "tok-2"]


async def test_a_401_logs_in_again_and_retries_once(cloud: FakeCloud) -> None:
    auth = make_auth(cloud)
    async with make_http(cloud, auth) as http:
        await fetch(http)
        cloud.tokens.clear()  # IAM revoked everything before the expiry it announced
        response = await fetch(http)
    assert response.status_code == 200
    assert len(cloud.logins) == 2
    assert cloud.api_calls == ["tok-1", "tok-1", "tok-2"]


async def test_a_second_401_is_not_retried_again(cloud: FakeCloud) -> None:
    auth = make_auth(cloud)
    async with make_http(cloud, auth) as http:
        cloud.reject_all_tokens = True
        client = JobsClient(http, "https://ecs.eu-de.example.test", PROJECT_ID)
        with pytest.raises(UnauthorizedError):
            await client.get_job(JOB_ID)
    assert len(cloud.logins) == 2
    assert cloud.api_calls == ["tok-1", "tok-2"]


async def test_concurrent_requests_share_one_login(cloud: FakeCloud) -> None:
    auth = make_auth(cloud)
    async with make_http(cloud, auth) as http:
        responses = await asyncio.gather(*(fetch(http) for _ in range(10)))
    assert [r.status_code for r in responses] == [200] * 10
    assert len(cloud.logins) == 1


async def test_concurrent_401s_share_one_refresh(cloud: FakeCloud) -> None:
    auth = make_auth(cloud)
    async with make_http(cloud, auth) as http:
        await fetch(http)
        cloud.tokens.clear()
        responses = await asyncio.gather(*(fetch(http) for _ in range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    assert len(cloud.logins) == 2


# -- the cache file is never trusted blindly ----------------------------------------------


async def _cache_file(cloud: FakeCloud) -> Path:
    async with make_http(cloud, make_auth(cloud)) as http:
        await fetch(http)
    (path,) = paths.token_cache_dir().iterdir()
    return path


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b"\xff\xfe\x00", b"[]", b'{"version": 1}', b'{"version": 99}'],
)
async def test_corrupt_cache_file_is_ignored_and_replaced(cloud: FakeCloud, content: bytes) -> None:
    path = await _cache_file(cloud)
    path.write_bytes(content)
    auth = make_auth(cloud)
    async with make_http(cloud, auth) as http:
        assert (await fetch(http)).status_code == 200
    assert auth.logins == 1
    assert json.loads(path.read_text())["token"] == "tok-2"


async def test_foreign_cache_file_is_ignored(cloud: FakeCloud) -> None:
    path = await _cache_file(cloud)
    data = json.loads(path.read_text())
    data["key"] = "0" * 64  # another identity's token copied over this one
    path.write_text(json.dumps(data))
    auth = make_auth(cloud)
    async with make_http(cloud, auth) as http:
        await fetch(http)
    assert auth.logins == 1


async def test_cache_file_readable_by_others_is_ignored(cloud: FakeCloud) -> None:
    path = await _cache_file(cloud)
    os.chmod(path, 0o644)
    auth = make_auth(cloud)
    async with make_http(cloud, auth) as http:
        await fetch(http)
    assert auth.logins == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_unwritable_cache_dir_only_costs_the_cache(
    cloud: FakeCloud, tmp_path: Path, capture_logs: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the directory should be")
    auth = make_auth(cloud, cache_dir=blocker / "tokens")
    async with make_http(cloud, auth) as http:
        assert (await fetch(http)).status_code == 200
        assert (await fetch(http)).status_code == 200
    assert len(cloud.logins) == 1
    assert any("token cache" in r.getMessage() for r in capture_logs.records)


# -- IAM errors --------------------------------------------------------------------------


async def test_wrong_password_is_unauthorized_without_the_password(cloud: FakeCloud) -> None:
    cloud.iam_status = 401
    auth = make_auth(cloud)
    async with make_http(cloud, auth) as http:
        with pytest.raises(UnauthorizedError) as caught:
            await auth.ensure_token(http)
    message = str(caught.value)
    assert "alice" in message and "OTC-DOMAIN" in message and AUTH_URL in message
    assert PASSWORD not in message and PASSWORD not in repr(caught.value)


async def test_iam_refusal_during_a_request_raises_the_iam_error(cloud: FakeCloud) -> None:
    cloud.iam_status = 401
    async with make_http(cloud, make_auth(cloud)) as http:
        client = JobsClient(http, "https://ecs.eu-de.example.test", PROJECT_ID)
        with pytest.raises(UnauthorizedError, match="refused the login"):
            await client.get_job(JOB_ID)
    assert cloud.api_calls == []


async def test_wrong_auth_url_says_so(cloud: FakeCloud) -> None:
    cloud.iam_status = 404
    auth = make_auth(cloud)
    async with make_http(cloud, auth) as http:
        with pytest.raises(ServerError, match="check the auth URL"):
            await auth.ensure_token(http)


async def test_login_answer_without_token_is_a_bad_response() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"token": {}})

    auth = PasswordAuth(AUTH_URL, "alice", PASSWORD, "D", project_id=PROJECT_ID)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=auth) as http:
        with pytest.raises(BadResponseError, match="without a token"):
            await auth.ensure_token(http)


async def test_unreachable_iam_is_a_network_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    auth = PasswordAuth(AUTH_URL, "alice", PASSWORD, "D", project_id=PROJECT_ID)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=auth) as http:
        with pytest.raises(
            NetworkError, match=r"cannot reach IAM at https://iam\.example\.test/v3"
        ):
            await auth.ensure_token(http)


def test_auth_url_must_be_http() -> None:
    with pytest.raises(ConfigError, match="not an http"):
        PasswordAuth("iam.example.test/v3", "alice", PASSWORD, "D", project_id=PROJECT_ID)


# -- secrets -----------------------------------------------------------------------------


async def test_no_secret_in_repr_or_logs(
    cloud: FakeCloud, capture_logs: pytest.LogCaptureFixture
) -> None:
    auth = make_auth(cloud)
    async with make_http(cloud, auth) as http:
        info = await auth.ensure_token(http)
        await fetch(http)
    for text in (repr(auth), str(auth), repr(info), str(info)):
        assert PASSWORD not in text
        assert "tok-1" not in text
    logged = "\n".join(r.getMessage() for r in capture_logs.records)
    assert capture_logs.records  # the login was logged, so the check below means something
    assert PASSWORD not in logged and "tok-1" not in logged


# -- catalog -----------------------------------------------------------------------------


async def test_endpoint_comes_from_the_public_catalog_entry(cloud: FakeCloud) -> None:
    auth = make_auth(cloud)
    assert auth.endpoint_from_catalog() is None  # no token yet
    async with make_http(cloud, auth) as http:
        await auth.ensure_token(http)
    assert auth.endpoint_from_catalog("ecs", "eu-de") == "https://ecs.eu-de.example.test"
    # The catalog is the token's project's: a region it does not list (the connection's,
    # when the project given is another region's) still gets the host it names.
    assert auth.endpoint_from_catalog("ecs", "eu-nl") == "https://ecs.eu-de.example.test"
    assert auth.endpoint_from_catalog("evs") is None


def test_catalog_lookup_by_region_and_type() -> None:
    catalog = [
        {"type": "identity", "endpoints": [{"interface": "public", "url": "https://iam/v3"}]},
        {
            "type": "ecs",
            "endpoints": [
                {"interface": "public", "region_id": "eu-nl", "url": "https://ecs.nl/v2.1/p"},
                {"interface": "public", "region": "eu-de", "url": "https://ecs.de:8443/v1/p/"},
            ],
        },
    ]
    assert endpoint_from_catalog(catalog, "ecs", "eu-nl") == "https://ecs.nl"
    assert endpoint_from_catalog(catalog, "ecs", "eu-de") == "https://ecs.de:8443"
    assert endpoint_from_catalog(catalog, "ecs") == "https://ecs.nl"
    assert endpoint_from_catalog(catalog, "identity") == "https://iam"
    assert endpoint_from_catalog([{"type": "ecs", "endpoints": None}], "ecs") is None


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://ecs.eu-de.otc.t-systems.com/v1/0123abc", "https://ecs.eu-de.otc.t-systems.com"),
        (
            "https://ecs.eu-de.otc.t-systems.com/v2.1/0123abc/",
            "https://ecs.eu-de.otc.t-systems.com",
        ),
        ("https://evs.example.com/v2/$(tenant_id)s", "https://evs.example.com"),
        ("https://iam.example.com/v3", "https://iam.example.com"),
        ("https://ecs.example.com", "https://ecs.example.com"),
        ("https://proxy.example.com/ecs/v1/p", "https://proxy.example.com/ecs"),
        ("http://127.0.0.1:8080/v1/p", "http://127.0.0.1:8080"),
    ],
)
def test_service_origin(url: str, origin: str) -> None:
    assert service_origin(url) == origin


def test_one_auth_object_works_in_a_second_event_loop(cloud: FakeCloud) -> None:
    """The CLI may log in in one loop and poll in another; the lock must not be stale."""
    auth = make_auth(cloud)

    async def burst() -> list[int]:
        async with make_http(cloud, auth) as http:
            responses = await asyncio.gather(*(fetch(http) for _ in range(4)))
        return [r.status_code for r in responses]

    assert asyncio.run(burst()) == [200] * 4
    cloud.tokens.clear()
    assert asyncio.run(burst()) == [200] * 4
    assert len(cloud.logins) == 2
