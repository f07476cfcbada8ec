"""Stall alarms: a warning the first time a running job looks stalled by its history (it
ran past the 95th percentile of its kind, or its sub-jobs stopped making progress)."""

from __future__ import annotations

from datetime import datetime

from jobdash.text.safe import one_line
from jobdash.watch.values import CloudClocks, WatchKey
from jobdash.watch.watchlist import Watchlist

#: Seconds between two looks at every running job's estimate.
CHECK_INTERVAL = 5.0


class StallAlarm:
    """Remembers which jobs it has warned about, so each stall is said once."""

    def __init__(self) -> None:
        self.warned: set[WatchKey] = set()

    def stalled_now(
        self, watchlist: Watchlist, clocks: CloudClocks, now: datetime
    ) -> list[tuple[WatchKey, str]]:
        """Jobs that look stalled and were not warned about yet, with the reason."""
        found = []
        for key in watchlist.entries:
            estimate = watchlist.estimate(key, clocks.now(key.endpoint, now))
            if estimate is None or not estimate.stalled:
                continue
            if key not in self.warned:
                self.warned.add(key)
                found.append((key, estimate.reason or "no progress"))
        return found

    def warnings(self, watchlist: Watchlist, clocks: CloudClocks, now: datetime) -> list[str]:
        """One line for each job newly stalled: its name, short id and why."""
        lines = []
        for key, reason in self.stalled_now(watchlist, clocks, now):
            entry = watchlist.entries[key]
            job = watchlist.job(key)
            name = one_line(entry.label or (job.job_type if job else None) or "job", 40)
            lines.append(f"{name} {watchlist.short_id(key)}: {one_line(reason, 120)}")
        return lines
