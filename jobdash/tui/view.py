"""What the tree shows, without any UI: the filter, which jobs and sub-jobs pass it, and
the keys that tree rows hold. Pure functions of the watchlist, testable without Textual.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from jobdash.api.ids import keyed_sub_jobs
from jobdash.api.model import Job, JobStatus, SubJob
from jobdash.connections.groups import Group
from jobdash.text.safe import one_line
from jobdash.watch.values import PollUpdate, Snapshot, WatchEntry, WatchKey
from jobdash.watch.watchlist import Watchlist


def has_failures(job: Job | None) -> bool:
    return job is not None and (job.failed or job.has_failed_sub_jobs)


def finished_ok(job: Job | None) -> bool:
    return job is not None and job.status == JobStatus.SUCCESS and not has_failures(job)


@dataclass(frozen=True, slots=True)
class Filter:
    failed_only: bool = False
    text: str = ""

    @property
    def active(self) -> bool:
        return self.failed_only or bool(self.text.strip())

    @property
    def needle(self) -> str:
        return self.text.strip().casefold()


@dataclass(frozen=True, slots=True)
class JobRow:
    """A job's row in the tree: only its key; the watchlist has the rest."""

    key: WatchKey


@dataclass(frozen=True, slots=True)
class SubJobRow:
    """A sub-job's row: the watched job's key and the sub-job's key within it."""

    key: WatchKey
    sub_key: str


Row = JobRow | SubJobRow


@dataclass(frozen=True, slots=True)
class GroupRow:
    """A connection's row (`cloud · region · project`), shown when jobs of several
    connections are watched; its jobs are its children. Not a `Row`: nothing acts on it."""

    group: Group


@dataclass(slots=True)
class JobChanges:
    """Which of one job's rows to redraw, as its updates said (several are merged when they
    arrive before the screen draws). Nothing here compares jobs: the poller did that."""

    #: The job's own row (its status, times, progress, or how its last fetch went).
    job: bool = False
    #: Keys (`jobdash.api.ids.keyed_sub_jobs`) of the sub-job rows to redraw.
    sub_keys: set[str] = field(default_factory=set)
    #: Every sub-job row (a first answer, a new theme).
    all_subs: bool = False

    @classmethod
    def everything(cls) -> JobChanges:
        return cls(job=True, all_subs=True)

    @property
    def any(self) -> bool:
        return self.job or self.all_subs or bool(self.sub_keys)

    def names_sub(self, sub_key: str) -> bool:
        return self.all_subs or sub_key in self.sub_keys

    def merge(self, other: JobChanges) -> None:
        self.job = self.job or other.job
        self.all_subs = self.all_subs or other.all_subs
        self.sub_keys |= other.sub_keys


def update_changes(update: PollUpdate, before: Snapshot | None, after: Snapshot) -> JobChanges:
    """The rows `update` asks to redraw: what the poller says changed, and the job's row when
    whether it has been fetched, has expired or failed to fetch is not what it was."""
    fetch_state_changed = (
        before is None
        or (before.job is None) != (after.job is None)
        or before.expired != after.expired
        or before.error_kind != after.error_kind
        or before.error_message != after.error_message
    )
    first_job = after.job is not None and (before is None or before.job is None)
    return JobChanges(
        job=update.changed or fetch_state_changed,
        sub_keys=set(update.changed_sub_jobs),
        all_subs=first_job,
    )


def _needle_in(needle: str, values: Iterable[str | None]) -> bool:
    return any(needle in value.casefold() for value in values if value)


def _job_matches_text(entry: WatchEntry, job: Job | None, needle: str) -> bool:
    # The cloud, region, project name and service too: "prod" narrows to that cloud's
    # jobs, "rds" to the database jobs.
    values = [
        entry.key.job_id,
        entry.label,
        entry.profile,
        entry.region,
        entry.project_name,
        entry.key.service,
    ]
    if job is not None:
        values += [job.job_type, job.error_code, job.server_id, job.nic_id, job.service_status]
        values += [job.resource_id, job.resource_name]
    return _needle_in(needle, values)


def _sub_matches_text(sub: SubJob, needle: str) -> bool:
    return _needle_in(
        needle, [sub.job_id, sub.job_type, sub.error_code, sub.resource_id, sub.server_id]
    )


def visible_sub_jobs(
    flt: Filter, entry: WatchEntry, snapshot: Snapshot | None
) -> list[tuple[str, SubJob]] | None:
    """The sub-jobs of one job that pass the filter, in API order; None hides the job."""
    job = snapshot.job if snapshot else None
    subs = keyed_sub_jobs(job)
    if flt.failed_only:
        fetch_failed = snapshot is not None and snapshot.error_kind is not None
        if not has_failures(job) and not fetch_failed:
            return None
        subs = [(k, s) for k, s in subs if s.failed]
    needle = flt.needle
    if needle:
        # Matching sub-jobs narrow the list; a job matching by itself shows them all.
        matching = [(k, s) for k, s in subs if _sub_matches_text(s, needle)]
        if matching:
            subs = matching
        elif not _job_matches_text(entry, job, needle):
            return None
    return subs


def visible_jobs(flt: Filter, watchlist: Watchlist) -> list[WatchKey]:
    """Jobs that pass the filter, in watchlist order."""
    if not flt.active:
        return list(watchlist.entries)
    return [
        key
        for key, entry in watchlist.entries.items()
        if visible_sub_jobs(flt, entry, watchlist.snapshots.get(key)) is not None
    ]


class SortOrder(Enum):
    """The orders `o` cycles through, in that order; the value is what the store keeps."""

    WATCHLIST = "watchlist"
    FAILED_FIRST = "failed"
    RECENT_FIRST = "recent"
    LONGEST_RUNNING = "longest"

    @property
    def title(self) -> str:
        return _SORT_TITLES[self]

    def next(self) -> SortOrder:
        members = list(SortOrder)
        return members[(members.index(self) + 1) % len(members)]

    @classmethod
    def parse(cls, value: str | None) -> SortOrder:
        try:
            return cls(value)
        except ValueError:
            return cls.WATCHLIST


_SORT_TITLES = {
    SortOrder.WATCHLIST: "watchlist order",
    SortOrder.FAILED_FIRST: "failed first",
    SortOrder.RECENT_FIRST: "most recent first",
    SortOrder.LONGEST_RUNNING: "longest running first",
}


def sort_jobs(
    keys: list[WatchKey], watchlist: Watchlist, order: SortOrder, now: datetime
) -> list[WatchKey]:
    """`keys` in `order`; ties (and jobs without the data to compare) keep watchlist order.

    Failed first: jobs with failures, then those whose fetch fails, then the rest. Most
    recent first: by when the job began (else when it was added). Longest running first:
    running jobs by time so far, then ended ones by how long they took.
    """
    if order is SortOrder.WATCHLIST:
        return list(keys)

    def failed_rank(key: WatchKey) -> tuple[int]:
        snapshot = watchlist.snapshots.get(key)
        if has_failures(snapshot.job if snapshot else None):
            return (0,)
        return (1,) if snapshot is not None and snapshot.error_kind else (2,)

    def recent_rank(key: WatchKey) -> tuple[int, float]:
        job = watchlist.job(key)
        began = job.begin_time if job is not None else None
        began = began or watchlist.entries[key].added_at
        return (0, -began.timestamp()) if began is not None else (1, 0.0)

    def longest_rank(key: WatchKey) -> tuple[int, float]:
        job = watchlist.job(key)
        seconds = job.duration(now) if job is not None else None
        if seconds is None or job is None:
            return (2, 0.0)
        return (0 if job.end_time is None else 1, -seconds)

    rank = {
        SortOrder.FAILED_FIRST: failed_rank,
        SortOrder.RECENT_FIRST: recent_rank,
        SortOrder.LONGEST_RUNNING: longest_rank,
    }[order]
    return sorted(keys, key=rank)  # stable: ties keep watchlist order


def tree_title(flt: Filter, order: SortOrder, shown: int, total: int) -> str:
    """`Jobs (3 of 7) · failed only · most recent first`."""
    parts = []
    if flt.failed_only:
        parts.append("failed only")
    if flt.text.strip():
        parts.append(f"matching {one_line(flt.text.strip(), 30)!r}")
    if order is not SortOrder.WATCHLIST:
        parts.append(order.title)
    # How much a filter hides, so an empty tree is not mistaken for an empty list.
    title = f"Jobs ({shown} of {total})" if flt.active else f"Jobs ({total})"
    return f"{title} · {' · '.join(parts)}" if parts else title


def rows_in_order(
    flt: Filter, watchlist: Watchlist, shown_jobs: Iterable[WatchKey]
) -> Iterator[tuple[Row, SubJob | None]]:
    """Every row the filter shows, in display order, as if every job were expanded, with
    the sub-job of each sub-job row."""
    for key in shown_jobs:
        yield JobRow(key), None
        entry = watchlist.entries.get(key)
        if entry is None:
            continue
        for sub_key, sub in visible_sub_jobs(flt, entry, watchlist.snapshots.get(key)) or []:
            yield SubJobRow(key, sub_key), sub


def _is_failure(row: Row, sub: SubJob | None, watchlist: Watchlist) -> bool:
    """A failed sub-job, or a failed job without sub-jobs."""
    if isinstance(row, SubJobRow):
        return sub is not None and sub.failed
    job = watchlist.job(row.key)
    return job is not None and job.failed and not job.sub_job_count


def next_failure(
    rows: Iterable[tuple[Row, SubJob | None]],
    watchlist: Watchlist,
    current: Row | None,
    *,
    forward: bool = True,
) -> Row | None:
    """The failure after (or before) `current` in `rows`, wrapping around; None if none."""
    listed = list(rows)
    failed = [i for i, (row, sub) in enumerate(listed) if _is_failure(row, sub, watchlist)]
    if not failed:
        return None
    here = next((i for i, (row, _sub) in enumerate(listed) if row == current), -1)
    if forward:
        after = [i for i in failed if i > here]
        return listed[after[0] if after else failed[0]][0]
    before = [i for i in failed if i < here] if here >= 0 else []
    return listed[before[-1] if before else failed[-1]][0]
