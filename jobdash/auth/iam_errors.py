"""What IAM's refusal of a login means, worded for the operator who has to fix it."""

from __future__ import annotations

import socket
import ssl
from typing import Any

import httpx

from jobdash.api.client import parse_error_body
from jobdash.api.errors import (
    ApiError,
    ForbiddenError,
    ServerError,
    ThrottledError,
    UnauthorizedError,
)


def login_error(response: httpx.Response, auth_url: str, who: str, scope: str) -> ApiError:
    """The typed error for a failed `POST {auth_url}/auth/tokens` by `who` for `scope`."""
    try:
        body = parse_error_body(response.json())
    except (ValueError, UnicodeDecodeError):
        body = parse_error_body(None)
    status = response.status_code
    detail = " ".join((body.message or "").split())[:200]
    suffix = f" (HTTP {status}{': ' + detail if detail else ''})"
    common: dict[str, Any] = {"http_status": status, "code": body.code}
    if status == 401:
        return UnauthorizedError(
            f"IAM at {auth_url} refused the login of {who}: check user name, "
            f"password and user domain{suffix}",
            **common,
        )
    if status == 403:
        return ForbiddenError(
            f"IAM at {auth_url} refused a token for project {scope!r} to {who}{suffix}",
            **common,
        )
    if status == 404:
        return ServerError(
            f"no IAM token service at {auth_url}/auth/tokens: check the auth URL "
            f"(it usually ends with /v3){suffix}",
            **common,
        )
    if status == 429:
        return ThrottledError(f"IAM at {auth_url} is throttling logins{suffix}", **common)
    return ServerError(f"IAM at {auth_url} could not issue a token{suffix}", **common)


def unreachable_cause(exc: BaseException) -> str:
    """Why a request reached no server, in words an operator acts on: connection refused,
    a host name that does not resolve, a timeout, a TLS failure; else the error's own text.

    The transports raise their own error types `from None`, so the OS error that says why
    is found along `__context__`."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            break
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused (nothing listens there)"
        if isinstance(seen, socket.gaierror):
            return f"the host name does not resolve (DNS: {seen.strerror or seen})"
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"the TLS certificate is not trusted ({seen.verify_message or seen})"
        if isinstance(seen, ssl.SSLError):
            return f"TLS failed ({seen.reason or seen})"
        if isinstance(seen, TimeoutError | httpx.TimeoutException):
            return "timed out"
        if isinstance(seen, ConnectionResetError):
            return "the connection was reset"
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror.lower()
        seen = seen.__cause__ or seen.__context__
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
