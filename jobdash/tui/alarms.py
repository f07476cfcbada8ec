"""Stall alarms: a toast the first time a running job looks stalled by its history (it ran
past the 95th percentile of its kind, or its sub-jobs stopped making progress)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from jobdash.text.safe import one_line
from jobdash.watch.values import WatchKey

if TYPE_CHECKING:
    from jobdash.tui.app import JobDashApp

#: Seconds between two looks at every running job's estimate.
CHECK_INTERVAL = 5.0


class StallAlarm:
    """Remembers which jobs it has warned about, so each stall is said once."""

    def __init__(self) -> None:
        self.warned: set[WatchKey] = set()

    def stalled_now(self, app: JobDashApp, now: datetime) -> list[tuple[WatchKey, str]]:
        """Jobs that look stalled and were not warned about yet, with the reason."""
        found = []
        clocks = app.dashboard.cloud_clocks
        for key in app.watchlist.entries:
            estimate = app.watchlist.estimate(key, clocks.now(key.endpoint, now))
            if estimate is None or not estimate.stalled:
                continue
            if key not in self.warned:
                self.warned.add(key)
                found.append((key, estimate.reason or "no progress"))
        return found

    def check(self, app: JobDashApp) -> None:
        for key, reason in self.stalled_now(app, app.clock()):
            entry = app.watchlist.entries[key]
            job = app.watchlist.job(key)
            name = one_line(entry.label or (job.job_type if job else None) or "job", 40)
            app.notify(
                f"{name} {app.watchlist.short_id(key)}: {one_line(reason, 120)}",
                title="Stalled?",
                severity="warning",
                timeout=10,
                markup=False,
            )
