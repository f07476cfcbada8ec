"""What finished jobs teach about running ones: typical durations per job type (and size of
batch), an estimate of the time left, and a "stalled?" mark.

The store keeps one `FinishedJob` per job that ended (written with the snapshot that showed
it terminal). Everything here is a pure function of those records, a job and a clock
reading, so it is tested on a fixed clock without any I/O.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from jobdash.api.model import Job, JobStatus
from jobdash.text.format import time_left

#: Finished jobs of a kind needed before an estimate is shown.
MIN_SAMPLES = 3
#: "No progress for much longer than usual": this many times the usual longest pause
#: between two sub-jobs ending, and never less than `MIN_STALL_SECONDS`.
STALL_FACTOR = 3.0
MIN_STALL_SECONDS = 60.0
STALLED_TEXT = "stalled?"


@dataclass(frozen=True, slots=True)
class FinishedJob:
    """One job that ended, as the history keeps it."""

    job_id: str
    job_type: str
    sub_jobs_total: int
    status: str
    duration: float
    #: The longest time between two consecutive sub-jobs ending (or the first ending after
    #: the job began); 0 without sub-jobs.
    longest_gap: float
    error_codes: tuple[str, ...]
    end_time: datetime | None = None


def size_class(sub_jobs_total: int) -> str:
    """Batches are compared with batches of a similar size: 1, 2-5, 6-20, 21-100, more."""
    for limit, name in ((1, "1"), (5, "2-5"), (20, "6-20"), (100, "21-100")):
        if sub_jobs_total <= limit:
            return name
    return "100+"


def finished_job(job: Job) -> FinishedJob | None:
    """The history record of a job that has ended; None while it runs or without times."""
    if not job.is_terminal or job.job_id is None:
        return None
    duration = job.duration()
    if duration is None or job.end_time is None:
        return None
    ends = sorted(sub.end_time for sub in job.sub_jobs if sub.end_time is not None)
    marks = [job.begin_time, *ends] if job.begin_time is not None else ends
    gaps = [(b - a).total_seconds() for a, b in pairwise(marks)]
    codes = [sub.error_code for sub in job.sub_jobs if sub.failed and sub.error_code]
    if not job.sub_jobs and job.failed and job.error_code:
        codes.append(job.error_code)
    return FinishedJob(
        job_id=job.job_id,
        job_type=job.job_type or "job",
        sub_jobs_total=job.total_sub_jobs,
        status=job.status,
        duration=duration,
        longest_gap=max(gaps, default=0.0),
        error_codes=tuple(codes),
        end_time=job.end_time,
    )


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (linear between neighbours)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True, slots=True)
class TypeStats:
    """`jobdash history`'s line for one job type."""

    job_type: str
    count: int
    median: float
    p95: float
    failure_rate: float
    top_errors: tuple[tuple[str, int], ...]

    def as_json(self) -> dict[str, object]:
        return {
            "job_type": self.job_type,
            "count": self.count,
            "median_seconds": round(self.median, 3),
            "p95_seconds": round(self.p95, 3),
            "failure_rate": round(self.failure_rate, 4),
            "top_error_codes": [{"code": c, "count": n} for c, n in self.top_errors],
        }


def summarize(records: Iterable[FinishedJob], *, top: int = 3) -> list[TypeStats]:
    """Per job type (by name): count, median and p95 duration, failure rate, top errors."""
    by_type: dict[str, list[FinishedJob]] = {}
    for record in records:
        by_type.setdefault(record.job_type, []).append(record)
    stats = []
    for job_type in sorted(by_type):
        group = by_type[job_type]
        durations = [r.duration for r in group]
        failed = sum(1 for r in group if r.status == JobStatus.FAIL or r.error_codes)
        codes = Counter(code for r in group for code in r.error_codes)
        stats.append(
            TypeStats(
                job_type=job_type,
                count=len(group),
                median=percentile(durations, 0.5),
                p95=percentile(durations, 0.95),
                failure_rate=failed / len(group),
                top_errors=tuple(sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))[:top]),
            )
        )
    return stats


@dataclass(frozen=True, slots=True)
class Estimate:
    """What history says about one running job."""

    samples: int
    #: Seconds left by the median of its kind (None: too few samples, or already past it).
    remaining: float | None = None
    stalled: bool = False
    #: Why it looks stalled, in a few words.
    reason: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "samples": self.samples,
            "remaining_seconds": None if self.remaining is None else round(self.remaining, 1),
            "stalled": self.stalled,
            "stall_reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class KindStats:
    """What the finished jobs of one kind say: how many, median and p95 duration, and the
    p95 of their longest pause between two sub-jobs ending."""

    samples: int
    median: float = 0.0
    p95: float = 0.0
    gap_p95: float = 0.0

    @classmethod
    def of(cls, records: Sequence[FinishedJob]) -> KindStats:
        if not records:
            return cls(0)
        durations = [r.duration for r in records]
        return cls(
            len(records),
            percentile(durations, 0.5),
            percentile(durations, 0.95),
            percentile([r.longest_gap for r in records], 0.95),
        )


class History:
    """The finished jobs, grouped by job type and by (job type, size of batch); the figures
    of each group are worked out once and kept until the group grows (labels ask often)."""

    def __init__(self, records: Iterable[FinishedJob] = ()) -> None:
        self._records: dict[str, FinishedJob] = {}
        self._groups: dict[tuple[str, str | None], list[FinishedJob]] = {}
        self._stats: dict[tuple[str, str | None], KindStats] = {}
        for record in records:
            self.add(record)

    def knows(self, job_id: str | None) -> bool:
        """Whether a finished job of this id is in the history already."""
        return job_id in self._records

    def add(self, record: FinishedJob) -> None:
        if record.job_id in self._records:
            return
        self._records[record.job_id] = record
        for key in ((record.job_type, size_class(record.sub_jobs_total)), (record.job_type, None)):
            self._groups.setdefault(key, []).append(record)
            self._stats.pop(key, None)

    def records(self) -> list[FinishedJob]:
        return list(self._records.values())

    def _group_stats(self, key: tuple[str, str | None]) -> KindStats:
        stats = self._stats.get(key)
        if stats is None:
            stats = self._stats[key] = KindStats.of(self._groups.get(key, []))
        return stats

    def kind_stats(self, job: Job) -> KindStats:
        """Finished jobs like `job`: same type and size of batch, else the same type."""
        job_type = job.job_type or "job"
        same_size = self._group_stats((job_type, size_class(job.total_sub_jobs)))
        return (
            same_size if same_size.samples >= MIN_SAMPLES else self._group_stats((job_type, None))
        )

    def estimate(self, job: Job, now: datetime) -> Estimate | None:
        """The estimate for a running job; None once it has ended or before it began."""
        if job.is_terminal or job.begin_time is None:
            return None
        kind = self.kind_stats(job)
        if kind.samples < MIN_SAMPLES:
            return Estimate(samples=kind.samples)
        elapsed = max(0.0, (now - job.begin_time).total_seconds())
        remaining = kind.median - elapsed if elapsed < kind.median else None
        if elapsed > kind.p95:
            reason = f"running longer than 95% of its kind ({kind.p95:.0f}s)"
            return Estimate(kind.samples, None, True, reason)
        if job.sub_job_count:
            # From the tally and the bodies' end times: the tree asks this of every
            # running job, which must not parse every sub-job of a large watchlist.
            quiet = (now - (job.latest_sub_job_end or job.begin_time)).total_seconds()
            limit = max(STALL_FACTOR * kind.gap_p95, MIN_STALL_SECONDS)
            if quiet > limit and job.finished_sub_jobs < job.sub_job_count:
                reason = f"no sub-job has ended for {quiet:.0f}s"
                return Estimate(kind.samples, remaining, True, reason)
        return Estimate(kind.samples, remaining)


def remaining_text(estimate: Estimate | None) -> str:
    """`~3m left`, `stalled?`, or "" (too few samples)."""
    if estimate is None:
        return ""
    if estimate.stalled:
        return STALLED_TEXT
    if estimate.remaining is None:
        return ""
    return time_left(estimate.remaining)
