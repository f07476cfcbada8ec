"""How many watched jobs are in each state, overall and per connection, kept as snapshots
change (never by scanning the watchlist): the header and the connection rows read these
on every update."""

from __future__ import annotations

from collections import Counter

from jobdash.connections.groups import Group, connection_group, connection_label
from jobdash.text.statuses import display_status
from jobdash.watch.values import Snapshot, WatchEntry


class WatchTally:
    def __init__(self) -> None:
        #: Jobs per display status.
        self.counts: Counter[str] = Counter()
        #: The same per connection, with each connection's label, its error kinds and how
        #: many of its jobs have been fetched: a connection's state costs no scan.
        self.group_labels: dict[Group, str] = {}
        self.group_counts: dict[Group, Counter[str]] = {}
        self.group_errors: dict[Group, Counter[str]] = {}
        self.group_fetched: Counter[Group] = Counter()

    def join(self, entry: WatchEntry) -> None:
        """A new entry, counted as waiting until it has a snapshot."""
        group = connection_group(entry)
        if group not in self.group_labels:
            self.group_labels[group] = connection_label(entry)
            self.group_counts[group] = Counter()
            self.group_errors[group] = Counter()
        self.count(entry, None, +1)

    def count(self, entry: WatchEntry, snapshot: Snapshot | None, delta: int) -> None:
        """Count `entry` with `snapshot` in (+1) or out (-1)."""
        status = display_status(snapshot)
        _bump(self.counts, status, delta)
        group = connection_group(entry)
        _bump(self.group_counts[group], status, delta)
        if snapshot is not None and snapshot.error_kind:
            _bump(self.group_errors[group], snapshot.error_kind, delta)
        elif snapshot is not None and snapshot.job is not None:
            self.group_fetched[group] += delta

    def leave(self, entry: WatchEntry, snapshot: Snapshot | None) -> None:
        """An entry no longer watched; its connection goes with its last job."""
        self.count(entry, snapshot, -1)
        group = connection_group(entry)
        if not any(self.group_counts[group].values()):
            del self.group_labels[group], self.group_counts[group], self.group_errors[group]
            self.group_fetched.pop(group, None)


def _bump(counter: Counter[str], name: str, delta: int) -> None:
    number = counter[name] + delta
    if number > 0:
        counter[name] = number
    else:
        del counter[name]
