"""Opening the SQLite file and running transactions on it, with errors a user can act on.

Every `sqlite3.Error` leaving this package is turned into a `StoreError` that names the
file and says what to do. Nothing here ever deletes, truncates or recreates the file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from jobdash.api.errors import JobdashError

T = TypeVar("T")

# Primary result codes (the low byte of an extended code).
_SQLITE_PERM = 3
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26

_FIRST_RETRY_DELAY = 0.002
_MAX_RETRY_DELAY = 0.05


class StoreError(JobdashError):
    """The watchlist database cannot be used. The message names the file and what to do."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


class RecordError(StoreError):
    """One update could not be written (a value the database refuses); others can be.

    Unlike other `StoreError`s this says nothing about the file: the caller skips the
    record and goes on.
    """


def primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_busy(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = primary_code(exc)
    if code is not None:
        return code in (_SQLITE_BUSY, _SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def locked_error(path: Path, timeout: float) -> StoreError:
    return StoreError(
        f"the watchlist database {path} is locked: another process kept it busy for more than "
        f"{timeout:g}s; close other jobdash instances using it (or wait) and try again",
        path=path,
    )


def translate(exc: sqlite3.Error, path: Path, timeout: float) -> StoreError:
    """A `StoreError` for `exc`, worded for someone who has never heard of SQLite."""
    code = primary_code(exc)
    if is_busy(exc):
        return locked_error(path, timeout)
    detail = str(exc)
    if isinstance(exc, sqlite3.InterfaceError | sqlite3.DataError):
        return RecordError(f"a value cannot be stored in {path} ({detail})", path=path)
    if (
        code in (_SQLITE_NOTADB, _SQLITE_CORRUPT)
        or "not a database" in detail
        or "malformed" in detail
    ):
        return StoreError(
            f"the watchlist database {path} is unreadable or corrupt ({detail}); "
            "jobdash leaves it untouched: move it aside (e.g. rename it) and run again "
            "to start a new, empty watchlist",
            path=path,
        )
    if code in (_SQLITE_CANTOPEN, _SQLITE_PERM, _SQLITE_READONLY):
        return StoreError(
            f"cannot open or write the watchlist database {path} ({detail}); "
            "check that the file and its directory exist and are readable and writable by you",
            path=path,
        )
    if code == _SQLITE_FULL:
        return StoreError(
            f"cannot write the watchlist database {path}: the disk is full; free some space and try again",
            path=path,
        )
    if code == _SQLITE_IOERR:
        return StoreError(
            f"input/output error on the watchlist database {path} ({detail}); "
            "check the disk, then try again",
            path=path,
        )
    return StoreError(f"the watchlist database {path} cannot be used ({detail})", path=path)


def ensure_directory(path: Path) -> None:
    """Create the database's directory, private to the user, when it is missing."""
    directory = path.parent
    if directory.is_dir():
        return
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir(mode=0o700)
        # mkdir's mode is filtered by the umask; make sure it ends up exactly 0700.
        os.chmod(directory, 0o700)
    except FileExistsError:
        pass  # another process created it at the same moment
    except OSError as exc:
        raise StoreError(
            f"cannot create the directory {directory} for the watchlist database ({exc.strerror}); "
            "check its permissions or set XDG_STATE_HOME to a writable place",
            path=path,
        ) from exc


def connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with a busy timeout.

    It may be used from several threads; the caller serialises access.
    """
    try:
        return sqlite3.connect(
            str(path),
            timeout=busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise translate(exc, path, busy_timeout) from exc


class Transactions:
    """Runs callables inside a transaction, retrying while the database is busy.

    The SQLite busy handler already waits for most locks. A few conditions (WAL recovery,
    a stale read snapshot) report SQLITE_BUSY at once, so the whole transaction is retried
    until the busy timeout has run out; after that a `StoreError` says the file is locked.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path, busy_timeout: float) -> None:
        self.connection = connection
        self.path = path
        self.busy_timeout = busy_timeout

    def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front."""
        return self._run("BEGIN IMMEDIATE", work)

    def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in a read transaction, so that it sees one consistent state."""
        return self._run("BEGIN", work)

    def plain(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` outside any transaction (pragmas that must not run inside one)."""
        return self._run(None, work)

    def _run(self, begin: str | None, work: Callable[[sqlite3.Connection], T]) -> T:
        deadline = time.monotonic() + self.busy_timeout
        delay = _FIRST_RETRY_DELAY
        wait_limited = False
        try:
            while True:
                try:
                    return self._attempt(begin, work)
                except sqlite3.Error as exc:
                    remaining = deadline - time.monotonic()
                    if not is_busy(exc) or remaining <= 0:
                        raise translate(exc, self.path, self.busy_timeout) from exc
                    time.sleep(min(delay, remaining))
                    delay = min(delay * 2, _MAX_RETRY_DELAY)
                    # The next attempt's busy handler may only wait for what is left.
                    remaining_ms = max(1, int((deadline - time.monotonic()) * 1000))
                    self._set_busy_timeout(remaining_ms)
                    wait_limited = True
        finally:
            if wait_limited:
                self._set_busy_timeout(int(self.busy_timeout * 1000))

    def _attempt(self, begin: str | None, work: Callable[[sqlite3.Connection], T]) -> T:
        connection = self.connection
        if begin is not None:
            connection.execute(begin)
        try:
            result = work(connection)
            if begin is not None:
                connection.execute("COMMIT")
            return result
        except BaseException:
            self._rollback()
            raise

    def _set_busy_timeout(self, milliseconds: int) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.connection.execute(f"PRAGMA busy_timeout = {milliseconds}")

    def _rollback(self) -> None:
        if self.connection.in_transaction:
            # If SQLite already rolled the transaction back itself, there is nothing to undo.
            with contextlib.suppress(sqlite3.Error):
                self.connection.execute("ROLLBACK")
