"""JobsClient: one GET of a job, turned into a `Job` or a typed `ApiError`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from jobdash.api.errors import (
    ApiError,
    BadResponseError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    ServerError,
    ThrottledError,
    UnauthorizedError,
)
from jobdash.api.http1 import DeadlineExceeded, UnusableAnswer, send_with_auth
from jobdash.api.ids import validate_id
from jobdash.api.model import Job, ResponseShapeError, decode_body, parse_job
from jobdash.api.server import Server, parse_server, resource_as_server
from jobdash.services.base import JobService
from jobdash.services.ecs import SERVICE as ECS
from jobdash.services.resources import resource_api
from jobdash.text.safe import without_surrogates

#: Codes the cloud uses for "no such job" and for flow control, whatever the HTTP status.
NOT_FOUND_CODES = frozenset(
    {
        "Common.0011",  # ECS, EVS and the others on the v1 job path
        "Ecs.0114",
        "DBS.200543",  # RDS
        "BackupService.6500",  # CBR
        "SFS.TURBO.0019",  # SFS Turbo
        "CCE.01404001",  # CCE
    }
)
THROTTLE_CODES = frozenset({"Common.1503", "Common.0024", "APIGW.0308"})
REQUEST_ID_HEADERS = ("X-Request-Id", "X-Openstack-Request-Id", "X-Compute-Request-Id")
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MAX_MESSAGE_LENGTH = 300
#: httpx's base Auth sends requests as they are.
_NO_AUTH = httpx.Auth()


@dataclass(frozen=True, slots=True)
class ErrorBody:
    code: str | None
    message: str | None


def _looks_like_code(value: str) -> bool:
    """`Ecs.0319`, `Common.0011`, `APIGW.0101`: a word, a dot, digits; no spaces."""
    head, dot, tail = value.partition(".")
    return bool(dot) and head.isalnum() and tail.isdigit()


def parse_error_body(data: Any) -> ErrorBody:
    """Read code and message from any of the error shapes the cloud sends.

    Shapes: `{"error": {"code", "message"}}`, `{"code", "message"}`,
    `{"error_code", "error_msg"}`, and `{"badRequest": {"message", "code"}}`-style
    wrappers. One published example swaps code and message; when the "message"
    looks like a code and the "code" does not, they are swapped back.
    """
    if not isinstance(data, Mapping):
        return ErrorBody(None, None)
    inner: Mapping[str, Any] = data
    error = data.get("error")
    if isinstance(error, Mapping):
        inner = error
    elif len(data) == 1:
        (only,) = data.values()
        if isinstance(only, Mapping):
            inner = only
    code = _first(inner, "code", "error_code", "errorCode", "errCode")
    message = _first(inner, "message", "error_msg", "errorMessage", "errMsg")
    code_text = None if code is None else without_surrogates(str(code))
    message_text = None if message is None else without_surrogates(str(message))
    if (
        code_text is not None
        and message_text is not None
        and _looks_like_code(message_text)
        and not _looks_like_code(code_text)
    ):
        code_text, message_text = message_text, code_text
    return ErrorBody(code_text or None, message_text or None)


def _first(data: Mapping[str, Any], *names: str) -> Any:
    """The first of `names` that `data` holds (services name their error fields each
    their own way: `code`, `error_code`, CCE's `errorCode`, SFS Turbo's `errCode`)."""
    for name in names:
        if name in data:
            return data[name]
    return None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds or seconds < 0:  # NaN or in the past
        return 0.0
    return min(seconds, 3600.0)


def parse_server_date(value: str | None) -> datetime | None:
    """The server's clock from a `Date` header, or None when it is missing or unreadable.

    An HTTP date has whole seconds and is cut, not rounded: the middle of that second is
    the best guess of the server's time when it answered.
    """
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC) + timedelta(milliseconds=500)


def _request_id(response: httpx.Response) -> str | None:
    for header in REQUEST_ID_HEADERS:
        value = response.headers.get(header)
        if value:
            return value[:128]
    return None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE_LENGTH else text[: MAX_MESSAGE_LENGTH - 3] + "..."


#: What decoding a body that is not JSON (or absurdly nested) raises.
DECODE_ERRORS = (ValueError, UnicodeDecodeError, RecursionError)


def decoded(response: httpx.Response) -> Any:
    """The response's JSON value; None when it is not JSON."""
    try:
        return decode_body(response.content)
    except DECODE_ERRORS:
        return None


def error_from_response(response: httpx.Response, job_id: str, data: Any = None) -> ApiError | None:
    """The typed error a response stands for, or None if it carries a job. `data` is the
    body's decoded value (None when it is not JSON); errors are read from it."""
    status = response.status_code
    if status < 300 and _is_job_body(data):
        # A failed job's own `error_code` (e.g. Ecs.0114 from a delete) is not a request error.
        return None
    body = parse_error_body(data)
    code = body.code
    detail = _short(body.message) if body.message else None
    common = {
        "http_status": status,
        "code": code,
        "request_id": _request_id(response),
    }

    def explain(default: str) -> str:
        if code and detail:
            return f"{default} ({code}: {detail})"
        if code or detail:
            return f"{default} ({code or detail})"
        return default

    if status == 429 or code in THROTTLE_CODES:
        return ThrottledError(
            explain(f"throttled by the API (HTTP {status})"),
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            **common,
        )
    if status == 404 or code in NOT_FOUND_CODES:
        return NotFoundError(explain(f"job {job_id} not found"), **common)
    if status == 401:
        return UnauthorizedError(
            explain(
                "not authorized: the credentials were rejected"
                " (token missing, invalid or expired, or a wrong AK/SK)"
            ),
            **common,
        )
    if status == 403:
        return ForbiddenError(explain("forbidden: the credentials may not read this job"), **common)
    if status >= 500:
        return ServerError(explain(f"server error (HTTP {status})"), **common)
    if status >= 400:
        return ServerError(explain(f"request rejected (HTTP {status})"), **common)
    if status >= 300:
        return BadResponseError(explain(f"unexpected redirect (HTTP {status})"), **common)
    return None


def _is_job_body(data: Any) -> bool:
    """A job object: it has a status and no request-level `code` or `error` object."""
    return (
        isinstance(data, Mapping)
        and "status" in data
        and not data.get("code")
        and not isinstance(data.get("error"), Mapping)
    )


class JobsClient:
    """Fetches jobs from one service endpoint (`https://ecs.{region}...`) and project."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        endpoint: str,
        project_id: str,
        *,
        timeout: httpx.Timeout | float | None = None,
        auth: httpx.Auth | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        service: JobService = ECS,
    ) -> None:
        self.http = http
        #: Whose job API this is: its job URL and how its answers read.
        self.service = service
        #: The transport under `http`, when known: GETs then go straight to it, with
        #: `http`'s headers and auth, skipping the client's cookie and redirect handling
        #: (a third of the CPU time of a request; none of it applies to this API).
        self.transport = transport
        self.endpoint = endpoint.rstrip("/")
        self.project_id = validate_id(project_id, "project id")
        self.timeout = timeout if timeout is not None else DEFAULT_TIMEOUT
        self._timeout_extension = httpx.Timeout(self.timeout).as_dict()
        #: This client's own credentials, when the pool is shared by several connections
        #: (None: the pool's).
        self.auth = auth
        #: The server's clock (its `Date` header) at the last answer of `get_job`; None
        #: when that call got no answer or no readable date. The poller passes it on.
        self.server_time: datetime | None = None

    def job_url(self, job_id: str, project_id: str | None = None) -> str:
        """The URL for a job; ids are validated first so nothing odd reaches a path."""
        project = validate_id(project_id or self.project_id, "project id")
        job = validate_id(job_id, "job id")
        return self.endpoint + self.service.job_path(project, job)

    async def _get(self, url: str) -> httpx.Response:
        try:
            if self.transport is not None:
                request = httpx.Request(
                    "GET",
                    url,
                    headers=self.http.headers,
                    extensions={"timeout": self._timeout_extension},
                )
                auth = self.auth or self.http.auth or _NO_AUTH
                return await send_with_auth(self.transport, request, auth)
            if self.auth is None:
                return await self.http.get(url, timeout=self.timeout)
            return await self.http.get(url, timeout=self.timeout, auth=self.auth)
        except DeadlineExceeded as exc:
            raise NetworkError(f"timed out talking to {self.endpoint}: {exc}") from None
        except httpx.TimeoutException as exc:
            raise NetworkError(
                f"timed out talking to {self.endpoint} ({type(exc).__name__})"
            ) from None
        except UnusableAnswer as exc:
            # The server answered, but with something jobdash will not read.
            raise BadResponseError(f"refused the answer of {self.endpoint}: {exc}") from None
        except httpx.TransportError as exc:
            raise NetworkError(
                f"cannot reach {self.endpoint}: {type(exc).__name__}{_reason(exc)}"
            ) from None

    async def get_job(
        self, job_id: str, project_id: str | None = None, *, previous: Job | None = None
    ) -> Job:
        """The job as the API reports it now. When the answer's bytes equal `previous`'s,
        `previous` itself comes back: nothing is decoded for an answer seen before."""
        url = self.job_url(job_id, project_id)
        self.server_time = None
        response = await self._get(url)
        self.server_time = parse_server_date(response.headers.get("Date"))
        content = response.content
        if (
            previous is not None
            and response.status_code == 200
            and previous.body is not None
            and content == previous.body
        ):
            return previous
        try:
            data = decode_body(content)
        except DECODE_ERRORS as exc:
            data, problem = None, exc
        else:
            problem = None
        # The service's answer in the model's shape; errors are read from it as it came.
        adapted = self.service.read(data) if data is not None else None
        if response.status_code < 300 and _is_job_body(adapted):
            error = None
        else:
            error = error_from_response(response, job_id, data)
        if error is not None:
            raise error
        try:
            if problem is not None:
                raise problem
            job = parse_job(adapted, content)
        except (*DECODE_ERRORS, ResponseShapeError) as exc:
            content_type = response.headers.get("Content-Type", "no content type")
            raise BadResponseError(
                f"unreadable response for job {job_id} (HTTP {response.status_code}, "
                f"{content_type}): {_describe_decode_error(exc)}",
                http_status=response.status_code,
                request_id=_request_id(response),
            ) from None
        if job.job_id is None and job.status == "UNKNOWN":
            raise BadResponseError(
                f"response for job {job_id} has neither job_id nor status",
                http_status=response.status_code,
                request_id=_request_id(response),
            )
        return job

    async def get_resource(
        self, resource_id: str, project_id: str | None = None, parent: str | None = None
    ) -> Server | None:
        """The resource another service's job acts on (`jobdash.services.resources`), in the
        server's shape; None when it is gone (404, or a list that does not hold it). Other
        failures raise `ApiError`."""
        api = resource_api(self.service.name)
        if api is None:
            return await self.get_server(resource_id, project_id)
        project = validate_id(project_id or self.project_id, "project id")
        resource = validate_id(resource_id, "resource id")
        owner = validate_id(parent, "cluster id") if parent else None
        response = await self._get(self.endpoint + str(api.path(project, resource, owner)))
        data = decoded(response)
        if response.status_code == 200:
            found = api.read(data)
            if found is None:
                return None
            # What is read of the answer is kept, bounded: the store reads it again by its kind.
            return resource_as_server(
                resource_id, found.name, found.status, found.message, api.kept(data)
            )
        error = error_from_response(response, resource_id, data)
        if isinstance(error, NotFoundError) and not (error.code or "").startswith("APIGW."):
            return None
        raise error or BadResponseError(
            f"unexpected answer for {api.kind} {resource_id} (HTTP {response.status_code})",
            http_status=response.status_code,
            request_id=_request_id(response),
        )

    async def get_server(self, server_id: str, project_id: str | None = None) -> Server | None:
        """The server's details (`GET /v1/{project}/cloudservers/{id}`); None when it is gone
        (404 `itemNotFound`: rolled back or deleted). Other failures raise `ApiError`."""
        project = validate_id(project_id or self.project_id, "project id")
        server = validate_id(server_id, "server id")
        response = await self._get(f"{self.endpoint}/v1/{project}/cloudservers/{server}")
        data = decoded(response)
        if response.status_code == 200:
            if isinstance(data, Mapping) and isinstance(data.get("server"), Mapping):
                return parse_server(data, server_id)
            raise BadResponseError(
                f"unreadable response for server {server_id} (HTTP 200): no server object",
                http_status=200,
                request_id=_request_id(response),
            )
        error = error_from_response(response, server_id, data)
        if isinstance(error, NotFoundError) and not (error.code or "").startswith("APIGW."):
            return None
        raise error or BadResponseError(
            f"unexpected answer for server {server_id} (HTTP {response.status_code})",
            http_status=response.status_code,
            request_id=_request_id(response),
        )


def _describe_decode_error(exc: Exception) -> str:
    if isinstance(exc, ResponseShapeError):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "body is nested too deeply to read"
    return "body is not valid JSON"


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return f": {_short(text)}" if text else ""
