"""Checks of what the user configured: URLs parsed without tracebacks, credentials fit
to send. No message ever repeats a secret."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from jobdash.api.errors import ConfigError


def _shown_url(url: str) -> str:
    """The URL for a message, unless it may carry a password."""
    return "(not shown: it may hold a password)" if "@" in url else repr(url)


def split_url(url: str, what: str) -> SplitResult:
    """`url` parsed, or a ConfigError saying what is wrong with it (never a traceback).

    Catches what urlsplit and the port lookup raise: an unclosed `[` of an IPv6 host,
    a port that is not a number or not within 1..65535.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        reason = (
            "its IPv6 address lacks a closing ']'"
            if "IPv6" in str(exc)
            else "its port must be a number from 1 to 65535"
        )
        raise ConfigError(f"the {what} {_shown_url(text)} is not a valid URL: {reason}") from None
    if port == 0:
        raise ConfigError(
            f"the {what} {_shown_url(text)} is not a valid URL: "
            "its port must be a number from 1 to 65535"
        )
    return parts


def reject_userinfo(url: str, what: str) -> None:
    """Refuse `user:password@` in a URL: it would end up in messages and the watchlist.

    The message does not repeat the URL, since what it carries may be a password.
    """
    if "@" in split_url(url, what).netloc:
        raise ConfigError(
            f"the {what} must not contain a user name or password ('user:password@host'); "
            "give credentials with OS_USERNAME / OS_PASSWORD, a token or an access key"
        )


def check_endpoint(url: str) -> str:
    """An endpoint must be an http(s) URL with a host; returns it without a trailing slash."""
    reject_userinfo(url, "endpoint URL")
    parts = split_url(url, "endpoint URL")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ConfigError(
            f"the endpoint {url!r} is not a URL like https://ecs.eu-de.otc.t-systems.com"
        )
    return url.strip().rstrip("/")


def check_auth_url(url: str) -> SplitResult:
    """The IAM URL must be an http(s) URL with a host and no credentials in it."""
    reject_userinfo(url, "auth URL")
    parts = split_url(url, "auth URL")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"the auth URL {url.strip()!r} is not an http(s) URL")
    return parts


#: Credentials that travel in an HTTP header or a signature, with where they are set.
_SECRET_SOURCES: dict[str, str] = {
    "token": "the token (OS_AUTH_TOKEN, or auth.token in clouds.yaml)",
    "access_key": "the access key (OS_ACCESS_KEY, or ak in clouds.yaml)",
    "secret_key": "the secret key (OS_SECRET_KEY, or sk in clouds.yaml / secure.yaml)",
}


def check_secret_values(settings: object) -> None:
    """Refuse a token or key that is not printable ASCII, without ever showing it.

    A line break pasted into a token would otherwise fail inside the HTTP library with
    the value in its message, and be stored and shown as a network error.
    """
    for name, source in _SECRET_SOURCES.items():
        value = getattr(settings, name, None)
        if not isinstance(value, str):
            continue
        if any(not " " < char < "\x7f" for char in value):
            problem = (
                "contains control characters (a line break?)"
                if any(char < " " or char == "\x7f" for char in value)
                else "contains spaces or characters outside ASCII"
            )
            raise ConfigError(
                f"{source} {problem}; it is not shown here. Set it again, without them."
            )
