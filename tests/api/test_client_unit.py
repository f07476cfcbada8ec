"""Narrow unit tests of JobsClient's response handling, with httpx.MockTransport."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from jobdash.api.client import JobsClient, parse_error_body, parse_retry_after
from jobdash.api.errors import ErrorKind

PROJECT = "0" * 32
JOB = "2c9eb2c5544cbf6101544f0602af2b4f"


def client_for(handler: Callable[[httpx.Request], httpx.Response]) -> JobsClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return JobsClient(http, "https://ecs.example.test/", PROJECT)


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            {"error": {"code": "Ecs.0023", "message": "project mismatch"}},
            "Ecs.0023",
            "project mismatch",
        ),
        ({"code": "Common.0011", "message": "job not found"}, "Common.0011", "job not found"),
        (
            {"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication"},
            "APIGW.0301",
            "Incorrect IAM authentication",
        ),
        # The published example that swaps the two fields.
        (
            {"error": {"code": "request throttled", "message": "Common.1503"}},
            "Common.1503",
            "request throttled",
        ),
        ({"badRequest": {"message": "Invalid input", "code": 400}}, "400", "Invalid input"),
        ({"error": {"message": "", "code": ""}}, None, None),
        ([1, 2], None, None),
        (None, None, None),
    ],
)
def test_error_body_shapes(body: object, code: str | None, message: str | None) -> None:
    parsed = parse_error_body(body)
    assert (parsed.code, parsed.message) == (code, message)


def test_retry_after_forms() -> None:
    now = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Sun, 29 Nov 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Sun, 29 Nov 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("999999") == 3600.0


async def test_success_builds_url_and_parses() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"job_id": JOB, "status": "RUNNING"})

    job = await client_for(handler).get_job(JOB)
    assert job.status == "RUNNING"
    assert seen == [f"https://ecs.example.test/v1/{PROJECT}/jobs/{JOB}"]


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "code"),
    [
        (
            404,
            {"error": {"code": "Common.0011", "message": "no such job"}},
            {},
            ErrorKind.NOT_FOUND,
            "Common.0011",
        ),
        (
            400,
            {"code": "Common.0011", "message": "job not found"},
            {},
            ErrorKind.NOT_FOUND,
            "Common.0011",
        ),
        (401, {"error": {"code": 401, "message": "auth"}}, {}, ErrorKind.UNAUTHORIZED, "401"),
        (
            403,
            {"error": {"code": "Ecs.0023", "message": "mismatch"}},
            {},
            ErrorKind.FORBIDDEN,
            "Ecs.0023",
        ),
        (
            429,
            {"error": {"code": "Common.1503", "message": "slow down"}},
            {"Retry-After": "3"},
            ErrorKind.THROTTLED,
            "Common.1503",
        ),
        (
            202,
            {"error": {"code": "Common.0024", "message": "flow control"}},
            {},
            ErrorKind.THROTTLED,
            "Common.0024",
        ),
        (503, {"error_code": "SYS.0503", "error_msg": "down"}, {}, ErrorKind.SERVER, "SYS.0503"),
        (400, {"error": {"code": "Ecs.0005", "message": "bad"}}, {}, ErrorKind.SERVER, "Ecs.0005"),
    ],
)
async def test_error_statuses_become_typed_errors(
    status: int, body: object, headers: dict[str, str], kind: ErrorKind, code: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers={"X-Request-Id": "req-123", **headers})

    with pytest.raises(Exception) as caught:
        await client_for(handler).get_job(JOB)
    error = caught.value
    assert getattr(error, "kind", None) == kind
    assert error.http_status == status  # type: ignore[attr-defined]
    assert error.code == code  # type: ignore[attr-defined]
    assert error.request_id == "req-123"  # type: ignore[attr-defined]
    if kind == ErrorKind.THROTTLED:
        assert error.retry_after == (3.0 if status == 429 else None)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("content", "content_type", "fragment"),
    [
        (b"<html><body>Gateway</body></html>", "text/html", "not valid JSON"),
        (b'{"status": "RUN', "application/json", "not valid JSON"),
        (b"[1, 2, 3]", "application/json", "got list"),
        (b'{"unrelated": true}', "application/json", "neither job_id nor status"),
        (b"\xff\xfe\x00", "application/json", "not valid JSON"),
    ],
)
async def test_bad_bodies_are_bad_response(
    content: bytes, content_type: str, fragment: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=content, headers={"Content-Type": content_type})

    with pytest.raises(Exception) as caught:
        await client_for(handler).get_job(JOB)
    assert getattr(caught.value, "kind", None) == ErrorKind.BAD_RESPONSE
    assert fragment in str(caught.value)


async def test_transport_errors_are_network_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(Exception) as caught:
        await client_for(handler).get_job(JOB)
    assert getattr(caught.value, "kind", None) == ErrorKind.NETWORK

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out")

    with pytest.raises(Exception) as caught:
        await client_for(slow).get_job(JOB)
    assert getattr(caught.value, "kind", None) == ErrorKind.NETWORK
    assert "timed out" in str(caught.value)


@pytest.mark.parametrize("bad", ["../admin", "a/b", "x y", "j\x00", "q" * 65])
async def test_invalid_ids_send_nothing(bad: str) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"status": "SUCCESS"})

    client = client_for(handler)
    with pytest.raises(Exception) as caught:
        await client.get_job(bad)
    assert getattr(caught.value, "kind", None) == ErrorKind.INVALID_ID
    with pytest.raises(Exception) as caught_project:
        await client.get_job(JOB, project_id=bad)
    assert getattr(caught_project.value, "kind", None) == ErrorKind.INVALID_ID
    assert "project id" in str(caught_project.value)
    assert calls == []


async def test_an_answer_identical_to_the_previous_comes_back_as_the_previous_job() -> None:
    bodies = [
        b'{"job_id": "%s", "status": "RUNNING"}' % JOB.encode(),
        b'{"job_id": "%s", "status": "RUNNING"}' % JOB.encode(),
        b'{"job_id": "%s", "status": "SUCCESS"}' % JOB.encode(),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bodies.pop(0))

    client = client_for(handler)
    first = await client.get_job(JOB)
    assert first.body == b'{"job_id": "%s", "status": "RUNNING"}' % JOB.encode()
    assert await client.get_job(JOB, previous=first) is first
    third = await client.get_job(JOB, previous=first)
    assert third is not first and third.status == "SUCCESS"


async def test_an_error_answer_equal_to_nothing_before_is_still_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"code": "Common.0011", "message": "job not found"})

    client = client_for(handler)
    previous = await client_for(
        lambda request: httpx.Response(200, json={"job_id": JOB, "status": "RUNNING"})
    ).get_job(JOB)
    with pytest.raises(Exception) as raised:
        await client.get_job(JOB, previous=previous)
    assert getattr(raised.value, "kind", None) == ErrorKind.NOT_FOUND
