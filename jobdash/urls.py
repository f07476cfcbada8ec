"""URLs from the user's settings: parsed without tracebacks, checked, never echoed with
a password in them."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

from jobdash.api.errors import ConfigError

_REGION = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def default_endpoint(region: str) -> str:
    """The ECS endpoint of an Open Telekom Cloud region."""
    if not _REGION.match(region):
        raise ConfigError(f"the region {region!r} is not a region name like 'eu-de'")
    return f"https://ecs.{region}.otc.t-systems.com"


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
