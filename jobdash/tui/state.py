"""What the dashboard knows, without any UI: watched entries, their snapshots, the filter.

The app keeps one `DashboardState`; widgets are drawn from it. Everything here is pure
so it can be tested without Textual.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from jobdash.api.errors import ErrorKind
from jobdash.api.model import Job, JobStatus, SubJob
from jobdash.textsafe import one_line
from jobdash.watch import PollUpdate, Snapshot, WatchEntry, WatchKey

#: Counted apart from job statuses in the header.
WAITING = "waiting"
EXPIRED = "expired"
UNREACHABLE = "error"
#: Kinds of fetch error that mean the user must fix credentials or settings.
CONFIG_ERROR_KINDS = frozenset({ErrorKind.UNAUTHORIZED, ErrorKind.FORBIDDEN})


def sub_job_key(sub: SubJob, index: int) -> str:
    """A stable key for a sub-job: its id, or its position when the API gave none."""
    return sub.job_id or f"#{index}"


def keyed_sub_jobs(job: Job | None) -> list[tuple[str, SubJob]]:
    if job is None:
        return []
    seen: set[str] = set()
    result: list[tuple[str, SubJob]] = []
    for index, sub in enumerate(job.sub_jobs):
        key = sub_job_key(sub, index)
        if key in seen:  # duplicated ids: fall back to the position to stay unique
            key = f"{key}#{index}"
        seen.add(key)
        result.append((key, sub))
    return result


SHORT_MIN = 8
SHORT_MAX = 12


def short_ids(job_ids: Iterable[str]) -> dict[str, str]:
    """How to show each id briefly but unambiguously among the others.

    The shortest prefix (at least 8 characters) that no other id shares; ids that only
    differ late (ECS ids often share a long prefix) show their head and tail instead.
    """
    ids = sorted(set(job_ids))
    result: dict[str, str] = {}
    for index, job_id in enumerate(ids):
        if len(job_id) <= SHORT_MAX:
            result[job_id] = job_id
            continue
        shared = 0
        for other in ids[max(0, index - 1) : index] + ids[index + 1 : index + 2]:
            common = 0
            for a, b in zip(job_id, other, strict=False):
                if a != b:
                    break
                common += 1
            shared = max(shared, common)
        length = max(SHORT_MIN, shared + 1)
        if length <= SHORT_MAX:
            result[job_id] = job_id[:length]
        else:
            result[job_id] = f"{job_id[:4]}…{job_id[-6:]}"
    return result


def merge_update(previous: Snapshot | None, update: PollUpdate) -> Snapshot:
    """The snapshot after `update`: a fetched job replaces the old one; an error or an
    expiry keeps the last job (the poller may repeat it in `update.job`) and says why."""
    old_job = previous.job if previous else None
    old_time = previous.fetched_at if previous else None
    if update.error is not None:
        return Snapshot(
            update.key,
            update.job or old_job,
            old_time,
            expired=previous.expired if previous else False,
            error_kind=str(update.error.kind),
            error_message=update.error.message,
        )
    if update.expired:
        return Snapshot(update.key, update.job or old_job, old_time, expired=True)
    if update.job is not None:
        return Snapshot(update.key, update.job, update.fetched_at)
    return previous or Snapshot(update.key, None, update.fetched_at)


def display_status(snapshot: Snapshot | None) -> str:
    """The word a job is counted under: its status, or waiting / expired / error."""
    if snapshot is None:
        return WAITING
    if snapshot.expired:
        return EXPIRED
    if snapshot.job is None:
        return UNREACHABLE if snapshot.error_kind else WAITING
    return snapshot.job.status


def has_failures(job: Job | None) -> bool:
    return job is not None and (job.failed or any(sub.failed for sub in job.sub_jobs))


@dataclass(frozen=True, slots=True)
class Filter:
    failed_only: bool = False
    text: str = ""

    @property
    def active(self) -> bool:
        return self.failed_only or bool(self.text.strip())


def _needle_in(needle: str, values: Iterable[str | None]) -> bool:
    return any(needle in value.casefold() for value in values if value)


def _job_matches_text(entry: WatchEntry, job: Job | None, needle: str) -> bool:
    values = [entry.key.job_id, entry.label]
    if job is not None:
        values += [job.job_type, job.error_code, job.server_id, job.nic_id]
    return _needle_in(needle, values)


def _sub_matches_text(sub: SubJob, needle: str) -> bool:
    return _needle_in(
        needle, [sub.job_id, sub.job_type, sub.error_code, sub.resource_id, sub.server_id]
    )


@dataclass(frozen=True, slots=True)
class JobNodeData:
    """What a job node in the tree stands for (kept in `node.data`)."""

    entry: WatchEntry
    snapshot: Snapshot | None

    @property
    def key(self) -> WatchKey:
        return self.entry.key

    @property
    def job(self) -> Job | None:
        return self.snapshot.job if self.snapshot else None


@dataclass(frozen=True, slots=True)
class SubJobNodeData:
    """A sub-job node: the sub-job and the watched job it belongs to."""

    entry: WatchEntry
    sub_key: str
    sub: SubJob

    @property
    def key(self) -> WatchKey:
        return self.entry.key


NodeData = JobNodeData | SubJobNodeData


@dataclass(frozen=True, slots=True)
class VisibleJob:
    key: WatchKey
    #: Sub-job keys to show, in API order.
    sub_keys: tuple[str, ...]


class DashboardState:
    def __init__(self, entries: Iterable[WatchEntry] = (), snapshots: dict | None = None) -> None:
        self.entries: dict[WatchKey, WatchEntry] = {}
        self.snapshots: dict[WatchKey, Snapshot] = {}
        self.filter = Filter()
        self.last_refresh: datetime | None = None
        self.short_ids: dict[str, str] = {}
        self.set_entries(entries, snapshots or {})

    # -- watchlist -------------------------------------------------------------------------

    def set_entries(
        self, entries: Iterable[WatchEntry], snapshots: dict[WatchKey, Snapshot] | None = None
    ) -> tuple[list[WatchKey], list[WatchKey]]:
        """Replace the watchlist; returns (added, removed). Known snapshots are kept."""
        new = {entry.key: entry for entry in entries}
        added = [key for key in new if key not in self.entries]
        removed = [key for key in self.entries if key not in new]
        self.entries = new
        for key in removed:
            self.snapshots.pop(key, None)
        for key, snapshot in (snapshots or {}).items():
            if key in new and key not in self.snapshots:
                self.snapshots[key] = snapshot
                if snapshot.error_kind is None and not snapshot.expired:
                    self._saw_fetch(snapshot.fetched_at)
        self.short_ids = short_ids(key.job_id for key in self.entries)
        return added, removed

    def _saw_fetch(self, fetched_at: datetime | None) -> None:
        if fetched_at is not None and (self.last_refresh is None or fetched_at > self.last_refresh):
            self.last_refresh = fetched_at

    def add_entries(self, entries: Iterable[WatchEntry]) -> list[WatchKey]:
        added = []
        for entry in entries:
            if entry.key not in self.entries:
                self.entries[entry.key] = entry
                added.append(entry.key)
        self.short_ids = short_ids(key.job_id for key in self.entries)
        return added

    def remove(self, keys: Iterable[WatchKey]) -> None:
        for key in keys:
            self.entries.pop(key, None)
            self.snapshots.pop(key, None)
        self.short_ids = short_ids(key.job_id for key in self.entries)

    def short_id(self, key: WatchKey) -> str:
        return self.short_ids.get(key.job_id) or key.short_id

    def set_label(self, key: WatchKey, label: str | None) -> None:
        entry = self.entries.get(key)
        if entry is not None:
            self.entries[key] = replace(entry, label=label or None)

    def apply(self, update: PollUpdate) -> Snapshot | None:
        """Fold an update in; None when the entry is no longer watched."""
        if update.key not in self.entries:
            return None
        snapshot = merge_update(self.snapshots.get(update.key), update)
        self.snapshots[update.key] = snapshot
        if update.error is None:
            self._saw_fetch(update.fetched_at)
        return snapshot

    def job(self, key: WatchKey) -> Job | None:
        snapshot = self.snapshots.get(key)
        return snapshot.job if snapshot else None

    # -- what to show ----------------------------------------------------------------------

    def counts(self) -> Counter[str]:
        return Counter(display_status(self.snapshots.get(key)) for key in self.entries)

    def visible(self) -> list[VisibleJob]:
        """Jobs (and their sub-jobs) that pass the filter, in watchlist order."""
        needle = self.filter.text.strip().casefold()
        result: list[VisibleJob] = []
        for key, entry in self.entries.items():
            snapshot = self.snapshots.get(key)
            job = snapshot.job if snapshot else None
            subs = keyed_sub_jobs(job)
            if self.filter.failed_only:
                fetch_failed = snapshot is not None and snapshot.error_kind is not None
                if not has_failures(job) and not fetch_failed:
                    continue
                subs = [(k, s) for k, s in subs if s.failed]
            if needle:
                # Matching sub-jobs narrow the list; a job matching by itself shows them all.
                matching = [(k, s) for k, s in subs if _sub_matches_text(s, needle)]
                if matching:
                    subs = matching
                elif not _job_matches_text(entry, job, needle):
                    continue
            result.append(VisibleJob(key, tuple(k for k, _ in subs)))
        return result

    def config_problem(self) -> str | None:
        """A credentials / permission error shared by entries, worded once for the header."""
        for snapshot in self.snapshots.values():
            if snapshot.key in self.entries and snapshot.error_kind in CONFIG_ERROR_KINDS:
                return one_line(snapshot.error_message or snapshot.error_kind, 200)
        return None


def finished_ok(job: Job | None) -> bool:
    return job is not None and job.status == JobStatus.SUCCESS and not has_failures(job)
