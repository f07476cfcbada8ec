"""Values shared by the store, the poller and the views: what is watched and what came back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from jobdash.api.errors import ApiError
from jobdash.api.model import Job


@dataclass(frozen=True, slots=True, order=True)
class WatchKey:
    """One watched job. The same job id at another endpoint or project is another key."""

    endpoint: str
    project_id: str
    job_id: str

    @property
    def short_id(self) -> str:
        return self.job_id[:8] if len(self.job_id) > 12 else self.job_id


@dataclass(frozen=True, slots=True)
class WatchEntry:
    key: WatchKey
    label: str | None = None
    #: The settings profile (cloud name from clouds.yaml) it was added with; never a secret.
    profile: str | None = None
    added_at: datetime | None = None


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
