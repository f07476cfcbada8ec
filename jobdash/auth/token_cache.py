"""IAM tokens kept between runs: one 0600 JSON file per identity in a 0700 directory.

The file name is a hash of auth URL, user, domain and project scope (never the
password). Anything odd about a file (unreadable, not JSON, another identity's,
owned by someone else, readable by others) makes it count as absent; the next
successful login overwrites it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


@dataclass(frozen=True)
class TokenInfo:
    """An IAM token and what came with it. The token itself never shows in repr()."""

    token: str = field(repr=False)
    expires_at: datetime
    project_id: str | None = None
    project_name: str | None = None
    catalog: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def valid_at(self, now: datetime, margin_seconds: float) -> bool:
        return (self.expires_at - now).total_seconds() > margin_seconds


def identity_key(
    auth_url: str,
    username: str,
    user_domain_name: str,
    project_id: str | None,
    project_name: str | None,
    *,
    user_domain_id: str | None = None,
) -> str:
    parts: tuple[str, ...] = (
        auth_url.rstrip("/"),
        username,
        user_domain_name,
        project_id or "",
        project_name or "",
    )
    if user_domain_id:  # appended only when set, so keys of name-only logins stay as they were
        parts += (f"domain-id:{user_domain_id}",)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def parse_iam_time(value: object) -> datetime | None:
    """`2024-05-01T10:00:00.000000Z` and friends -> aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


class TokenCache:
    """Reads and writes the cached token of one identity."""

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.key = key

    @property
    def path(self) -> Path:
        return self.directory / f"{self.key[:40]}.json"

    def load(self) -> TokenInfo | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        if stat.st_uid != os.getuid() or stat.st_mode & 0o077:
            log.info("ignoring token cache file with unsafe owner or permissions")
            return None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return None
        return self._decode(data)

    def _decode(self, data: Any) -> TokenInfo | None:
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            return None
        if data.get("key") != self.key:
            return None
        token = data.get("token")
        expires_at = parse_iam_time(data.get("expires_at"))
        catalog = data.get("catalog")
        if not isinstance(token, str) or not token or expires_at is None:
            return None
        if not isinstance(catalog, list):
            catalog = []
        project_id = data.get("project_id")
        project_name = data.get("project_name")
        return TokenInfo(
            token=token,
            expires_at=expires_at,
            project_id=project_id if isinstance(project_id, str) else None,
            project_name=project_name if isinstance(project_name, str) else None,
            catalog=[entry for entry in catalog if isinstance(entry, dict)],
        )

    def save(self, info: TokenInfo) -> None:
        """Write atomically with mode 0600; a cache that cannot be written is only logged."""
        payload = {
            "version": FORMAT_VERSION,
            "key": self.key,
            "token": info.token,
            "expires_at": info.expires_at.isoformat(),
            "project_id": info.project_id,
            "project_name": info.project_name,
            "catalog": info.catalog,
        }
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.directory, 0o700)
            handle, temp_name = tempfile.mkstemp(dir=self.directory, prefix=".token-")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    os.fchmod(stream.fileno(), 0o600)
                    json.dump(payload, stream)
                os.replace(temp_name, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp_name)
                raise
        except OSError as exc:
            log.warning("cannot write the token cache in %s: %s", self.directory, exc.strerror)

    def clear(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
