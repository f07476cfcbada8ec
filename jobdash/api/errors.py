"""Typed errors shared by the core. None of them ever carries a secret."""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    NOT_FOUND = "not_found"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    THROTTLED = "throttled"
    SERVER = "server"
    BAD_RESPONSE = "bad_response"
    NETWORK = "network"
    INVALID_ID = "invalid_id"
    NO_CREDENTIALS = "no_credentials"


class JobdashError(Exception):
    """Base of every error jobdash raises on purpose."""


class ConfigError(JobdashError):
    """Settings are missing or contradictory. The message says what and how to fix it."""


class ApiError(JobdashError):
    """A job could not be fetched. `kind` says why in one of a fixed set of words."""

    kind: ErrorKind = ErrorKind.SERVER

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.code = code
        self.request_id = request_id
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, http_status={self.http_status!r}, "
            f"code={self.code!r})"
        )

    def as_dict(self) -> dict[str, object]:
        """The shape `status --json` prints under `error`."""
        return {
            "kind": str(self.kind),
            "message": self.message,
            "http_status": self.http_status,
            "code": self.code,
        }


class NotFoundError(ApiError):
    kind = ErrorKind.NOT_FOUND


class UnauthorizedError(ApiError):
    kind = ErrorKind.UNAUTHORIZED


class ForbiddenError(ApiError):
    kind = ErrorKind.FORBIDDEN


class ThrottledError(ApiError):
    kind = ErrorKind.THROTTLED


class ServerError(ApiError):
    kind = ErrorKind.SERVER


class BadResponseError(ApiError):
    kind = ErrorKind.BAD_RESPONSE


class NetworkError(ApiError):
    kind = ErrorKind.NETWORK


class InvalidIdError(ApiError):
    kind = ErrorKind.INVALID_ID


class NoCredentialsError(ApiError):
    """The entry's own connection cannot be rebuilt now: nothing was sent, on purpose."""

    kind = ErrorKind.NO_CREDENTIALS


ERROR_CLASSES: dict[ErrorKind, type[ApiError]] = {
    cls.kind: cls
    for cls in (
        NotFoundError,
        UnauthorizedError,
        ForbiddenError,
        ThrottledError,
        ServerError,
        BadResponseError,
        NetworkError,
        InvalidIdError,
        NoCredentialsError,
    )
}
