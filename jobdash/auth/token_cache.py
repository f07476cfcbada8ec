"""IAM tokens kept between runs: one 0600 JSON file per identity in a 0700 directory.

The file name is a hash of auth URL, user, domain and project scope (never the
password). The file also holds a salted, slow hash of the password the token was
obtained with: a token is only reused by the same credentials, so a changed (or
mistyped) password logs in again instead of riding on the old token. Anything odd
about a file (unreadable, not JSON, another identity's or other credentials',
owned by someone else, readable by others) makes it count as absent; the next
successful login overwrites it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
#: PBKDF2 rounds for the credential hash: slow enough to make guessing the password from
#: a leaked cache file costly, fast enough for one check per start (about 25 ms).
CREDENTIAL_HASH_ROUNDS = 50_000
#: The refresh margin is at most this share of a token's lifetime (see `refresh_margin`).
MARGIN_SHARE = 0.1


@dataclass(frozen=True)
class TokenInfo:
    """An IAM token and what came with it. The token itself never shows in repr()."""

    token: str = field(repr=False)
    expires_at: datetime
    project_id: str | None = None
    project_name: str | None = None
    catalog: list[dict[str, Any]] = field(default_factory=list, repr=False)

    #: When IAM issued it (or, when IAM does not say, when it arrived).
    issued_at: datetime | None = None

    def valid_at(self, now: datetime, margin_seconds: float) -> bool:
        return (self.expires_at - now).total_seconds() > margin_seconds

    def refresh_margin(self, most: float) -> float:
        """How long before expiry to replace the token: `most`, but never more than a
        tenth of its lifetime, so a token living 120 s is used for 108 s, not never."""
        if self.issued_at is None:
            return most
        lifetime = (self.expires_at - self.issued_at).total_seconds()
        return max(0.0, min(most, lifetime * MARGIN_SHARE))

    def usable_at(self, now: datetime, most_margin: float) -> bool:
        return self.valid_at(now, self.refresh_margin(most_margin))


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


@functools.lru_cache(maxsize=8)
def credential_hash(secret: str, salt: bytes) -> str:
    """A salted, slow hash of a password: what the cache keeps instead of the secret.

    Remembered per (secret, salt) for the process: each check would otherwise cost
    the whole hash again.
    """
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8"), salt, CREDENTIAL_HASH_ROUNDS)
    return digest.hex()


class TokenCache:
    """Reads and writes the cached token of one identity, for one set of credentials."""

    def __init__(self, directory: Path, key: str, *, secret: str = "") -> None:
        self.directory = directory
        self.key = key
        #: The password the token goes with; it only ever enters `credential_hash`.
        self._secret = secret

    def __repr__(self) -> str:
        return f"TokenCache({str(self.directory)!r}, {self.key[:12]!r}...)"

    def _hash(self, salt: bytes) -> str:
        return credential_hash(self._secret, salt)

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
        try:
            salt = bytes.fromhex(str(data.get("salt")))
        except ValueError:
            return None
        stored = data.get("credential_hash")
        if not salt or not isinstance(stored, str):
            return None
        if not hmac.compare_digest(stored, self._hash(salt)):
            log.info("ignoring a cached token obtained with other credentials")
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
            issued_at=parse_iam_time(data.get("issued_at")),
            project_id=project_id if isinstance(project_id, str) else None,
            project_name=project_name if isinstance(project_name, str) else None,
            catalog=[entry for entry in catalog if isinstance(entry, dict)],
        )

    def save(self, info: TokenInfo) -> None:
        """Write atomically with mode 0600; a cache that cannot be written is only logged."""
        salt = os.urandom(16)
        payload = {
            "version": FORMAT_VERSION,
            "key": self.key,
            "salt": salt.hex(),
            "credential_hash": self._hash(salt),
            "token": info.token,
            "expires_at": info.expires_at.isoformat(),
            "issued_at": info.issued_at.isoformat() if info.issued_at else None,
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
