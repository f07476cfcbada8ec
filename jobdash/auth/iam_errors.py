"""What IAM's refusal of a login means, worded for the operator who has to fix it."""

from __future__ import annotations

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
