"""jobdash's log file: what the core logs (warnings and up, plus the reason for each),
kept in the platformdirs log directory, rotated, private to the user.

Nothing jobdash logs carries a secret (messages are worded that way throughout); as a
second guard, control characters are escaped so a hostile API string cannot rewrite
the terminal of whoever reads the log.
"""

from __future__ import annotations

import logging
import os
from io import TextIOWrapper
from logging.handlers import RotatingFileHandler
from pathlib import Path

from jobdash.config import paths
from jobdash.text.safe import printable

#: Rotated at this size, keeping this many old files: at most 4 MB in all.
MAX_BYTES = 1_000_000
BACKUP_COUNT = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _PrivateRotatingFile(RotatingFileHandler):
    """A RotatingFileHandler whose files are created 0600."""

    def _open(self) -> TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return open(fd, self.mode, encoding=self.encoding, errors="backslashreplace")


class _SafeFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), keep_newlines=True)


def open_log_handler(path: Path | None = None) -> logging.Handler | None:
    """A handler writing to the log file (INFO and up), or None when it cannot be opened:
    a read-only home must not stop jobdash."""
    path = path or paths.log_file()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handler = _PrivateRotatingFile(
            path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8", delay=True
        )
        handler._open().close()  # fail now, not at the first record, if it is not writable
    except OSError:
        return None
    handler.setLevel(logging.INFO)
    handler.setFormatter(_SafeFormatter(FORMAT))
    return handler


def is_log_handler(handler: logging.Handler) -> bool:
    return isinstance(handler, _PrivateRotatingFile)
