"""The poller's path to the store: a failing store slows nothing and loses nothing.

A locked database or a full disk must not stop the polling, so every call here
catches the failure, keeps a message for the caller to show, and logs it. Updates
that could not be written wait in memory (one per job, folded together) and are written
on a later update or at close, once `STORE_RETRY_AFTER` has passed. What waits is written
in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Protocol, TypeVar

from jobdash.api.errors import JobdashError
from jobdash.store.sqlite import RecordError
from jobdash.watch.values import PollUpdate, Snapshot, WatchEntry, WatchKey

log = logging.getLogger("jobdash.poll.poller")

#: After a failed write, updates are only kept in memory for this many seconds:
#: each write to a locked database blocks the loop for the store's whole busy timeout.
STORE_RETRY_AFTER = 30.0

T = TypeVar("T")


class SnapshotStore(Protocol):
    """What the poller needs from `jobdash.store.Store`."""

    def record_many(self, updates: Iterable[PollUpdate]) -> None: ...
    def snapshots(self) -> dict[WatchKey, Snapshot]: ...
    def entries(self) -> list[WatchEntry]: ...


class StoreWriter:
    """Wraps a `SnapshotStore` so that its failures are reported, never raised."""

    def __init__(
        self,
        store: SnapshotStore,
        clock: Callable[[], float],
        *,
        retry_after: float = STORE_RETRY_AFTER,
    ) -> None:
        self._store = store
        self._clock = clock
        self._retry_after = retry_after
        #: The last failure, worded for the operator; None once a call succeeds again.
        self.error: str | None = None
        self._unsaved: dict[WatchKey, PollUpdate] = {}
        #: Updates dropped because the store could not write them (each one logged).
        self.skipped = 0
        self._retry_at: float | None = None

    def snapshots(self) -> dict[WatchKey, Snapshot] | None:
        return self._call("read snapshots from", self._store.snapshots)[1]

    def entries(self) -> list[WatchEntry] | None:
        return self._call("read the watchlist from", self._store.entries)[1]

    def record(self, update: PollUpdate) -> None:
        """Write `update` now, or keep it for later when the store is failing."""
        self.keep(update)
        self.flush()

    def keep(self, update: PollUpdate) -> None:
        """Hold `update` for the next `flush`, folded into any update of its job waiting."""
        waiting = self._unsaved.get(update.key)
        if waiting is not None and update.same_answer and waiting.job is not None:
            # The waiting answer's body has not been written yet: this one (the same bytes)
            # must write it, and keep what the waiting one learnt.
            update = replace(
                update, same_answer=False, transitions=waiting.transitions + update.transitions
            )
        self._unsaved[update.key] = update

    def forget(self, key: WatchKey) -> None:
        """Drop a waiting update for a job no longer watched."""
        self._unsaved.pop(key, None)

    @property
    def waiting(self) -> int:
        """Updates kept in memory because the store could not take them yet."""
        return len(self._unsaved)

    def flush(self) -> None:
        """Write the waiting updates in one transaction, unless a write failed less than a
        retry period ago."""
        if not self._unsaved:
            return
        if self._retry_at is not None and self._clock() < self._retry_at:
            return
        self._retry_at = None
        batch = dict(self._unsaved)
        try:
            saved, _ = self._call(
                "record an update in", lambda: self._store.record_many(batch.values())
            )
        except RecordError as exc:
            # Some update is unwritable (the store wrote the others): trying it again would
            # block every later one. Say so, drop it, go on.
            self.skipped += 1
            log.warning("skipped an update the store cannot save: %s", exc)
            saved = True
        if not saved:
            self._retry_at = self._clock() + self._retry_after
            return
        for key, update in batch.items():
            if self._unsaved.get(key) is update:
                del self._unsaved[key]

    def _call(self, what: str, call: Callable[[], T]) -> tuple[bool, T | None]:
        """Run `call`; a failure is kept and logged, except a `RecordError`, which is raised."""
        try:
            result = call()
        except RecordError:
            raise
        except Exception as exc:
            # The store's own errors are already worded for people; others get their type.
            detail = str(exc) if isinstance(exc, JobdashError) else f"{type(exc).__name__}: {exc}"
            self.error = f"could not {what} the store: {detail}"
            log.warning("%s", self.error)
            return False, None
        self.error = None
        return True, result
