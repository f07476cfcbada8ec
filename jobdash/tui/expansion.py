"""When a job in the tree opens or closes by itself. Pure decisions, no widgets.

- A job opens when it first has sub-jobs to show, and when it first shows a failure; a
  job that first ends well closes (unless the user asked to keep finished jobs open).
- Each of these happens once per job, so whatever the user did afterwards stays.
- Only while the tree stays short: past `AUTO_EXPAND_ROWS` sub-job rows, jobs wait for
  the user (enter, n) instead of burying the list under a 500-server batch.
- A job hidden by a filter comes back as open or closed as it was.
"""

from __future__ import annotations

from enum import Enum

from jobdash.api.model import Job
from jobdash.tui.view import finished_ok, has_failures
from jobdash.watch.values import WatchKey

AUTO_EXPAND_ROWS = 300


class Move(Enum):
    OPEN = "open"
    CLOSE = "close"


class ExpansionPolicy:
    def __init__(self, budget: int = AUTO_EXPAND_ROWS) -> None:
        self.budget = budget
        self.collapse_done = True
        self._decided: set[WatchKey] = set()
        self._failure_seen: set[WatchKey] = set()
        self._done_seen: set[WatchKey] = set()
        self._remembered: dict[WatchKey, bool] = {}

    def first(self, key: WatchKey, job: Job | None, rows_open: int) -> bool | None:
        """Open a job that has just got sub-jobs to show? None once already decided."""
        if job is None or not job.sub_job_count or key in self._decided:
            return None
        self._decided.add(key)
        remembered = self._remembered.pop(key, None)
        if remembered is not None:
            return remembered
        fits = rows_open + job.sub_job_count <= self.budget
        if has_failures(job):
            self._failure_seen.add(key)
            return fits
        if finished_ok(job):
            self._done_seen.add(key)
            return not self.collapse_done and fits
        return fits

    def decided(self, key: WatchKey) -> bool:
        return key in self._decided

    def after_update(
        self, key: WatchKey, job: Job | None, *, is_open: bool, rows_open: int
    ) -> Move | None:
        """Open on the first failure, close on the first good end; otherwise leave it."""
        if job is None or not job.sub_job_count:
            return None
        if has_failures(job) and key not in self._failure_seen:
            self._failure_seen.add(key)
            if not is_open and rows_open + job.sub_job_count <= self.budget:
                return Move.OPEN
        elif finished_ok(job) and key not in self._done_seen:
            self._done_seen.add(key)
            if self.collapse_done and is_open:
                return Move.CLOSE
        return None

    def hidden(self, key: WatchKey, *, was_open: bool) -> None:
        """A filter hid the job: remember how it was, to show it so again."""
        self._decided.discard(key)
        self._remembered[key] = was_open

    def finished_ok_seen(self, key: WatchKey) -> None:
        self._done_seen.add(key)
