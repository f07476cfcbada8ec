"""Values shared by the store, the poller and the views: what is watched and what came back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from jobdash.api.errors import ApiError
from jobdash.api.ids import short_id
from jobdash.api.model import Job


@dataclass(frozen=True, slots=True, order=True)
class WatchKey:
    """One watched job. The same job id at another endpoint or project is another key."""

    endpoint: str
    project_id: str
    job_id: str

    @property
    def short_id(self) -> str:
        """Brief, without knowing the other ids; the dashboard uses `WatchState.short_id`."""
        return short_id(self.job_id)


@dataclass(frozen=True, slots=True)
class WatchEntry:
    key: WatchKey
    label: str | None = None
    #: The settings profile (cloud name from clouds.yaml) it was added with; never a secret.
    profile: str | None = None
    added_at: datetime | None = None
    #: How the connection it was added with authenticated ("token", "password", "aksk");
    #: None for entries from before connections were recorded (they use the current one).
    auth_method: str | None = None
    #: The region and project name of that connection, for display (either may be unknown).
    region: str | None = None
    project_name: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The last known state of a watched job, as the store keeps it."""

    key: WatchKey
    job: Job | None
    fetched_at: datetime | None
    #: The job had finished and the cloud has since purged it; `job` is the last record.
    expired: bool = False
    #: The last fetch failed with this error kind / message (the job, if any, is older).
    error_kind: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class PollUpdate:
    """What one fetch of one entry produced: a job, or an error (and maybe an older job)."""

    key: WatchKey
    fetched_at: datetime
    job: Job | None = None
    error: ApiError | None = None
    #: True when the cloud no longer knows a job that had finished before.
    expired: bool = False
    #: Status of the job or of a sub-job differs from the previous snapshot.
    changed: bool = False
    #: Previous status of the job when it changed (None for the first snapshot).
    previous_status: str | None = None
    #: Keys (`jobdash.api.ids.keyed_sub_jobs`) of the sub-jobs whose status changed.
    changed_sub_jobs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EndpointState:
    """How the poller is treating one endpoint right now, for the header / progress line."""

    endpoint: str
    #: Seconds until requests to this endpoint resume after throttling (0 when not throttled).
    backoff_seconds: float = 0.0
    throttled: bool = False
    #: Last network-level failure message, when the endpoint looks unreachable.
    offline_reason: str | None = None
    requests_sent: int = 0
    in_flight: int = 0
    extra: dict[str, float] = field(default_factory=dict)


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
