"""What `jobdash status` prints: the results it holds, as trees, lines and JSON."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.console import Console, Group
from rich.text import Text

from jobdash.api.errors import ErrorKind
from jobdash.api.model import JobStatus, SubJob, raw_dict
from jobdash.api.server import ServerInfo
from jobdash.cli.common import EXIT_FAILED, EXIT_OK, EXIT_UNFETCHED, EXIT_UNFINISHED
from jobdash.cli.tree import error_label, job_tree, status_text
from jobdash.text.format import request_rate_text, throttle_text
from jobdash.text.safe import one_line
from jobdash.watch.history import History, remaining_text
from jobdash.watch.servers import ServerJoin
from jobdash.watch.values import (
    EndpointState,
    PollUpdate,
    WatchKey,
    cloud_now,
)

#: Errors about the credentials rather than the job: every job gets the same one.
CREDENTIAL_ERRORS = frozenset(
    {ErrorKind.UNAUTHORIZED, ErrorKind.FORBIDDEN, ErrorKind.NO_CREDENTIALS}
)
#: Errors that will not go away by asking again; `--watch` stops waiting for such entries.
PERMANENT_ERRORS = frozenset(
    {
        ErrorKind.NOT_FOUND,
        ErrorKind.INVALID_ID,
        ErrorKind.FORBIDDEN,
        ErrorKind.UNAUTHORIZED,
        ErrorKind.NO_CREDENTIALS,
    }
)


#: The key of `status --json` objects under which jobdash adds what it learned itself.
EXTRA_KEY = "jobdash"


@dataclass
class Target:
    key: WatchKey
    label: str | None = None


@dataclass
class Results:
    """The latest update per target, in the order the user asked for them."""

    targets: list[Target]
    updates: dict[WatchKey, PollUpdate] = field(default_factory=dict)
    #: The servers behind failed sub-jobs, and finished jobs' history (for estimates).
    servers: ServerJoin = field(default_factory=ServerJoin)
    history: History = field(default_factory=History)

    def server_for(self, key: WatchKey) -> Callable[[SubJob], ServerInfo | None]:
        return lambda sub: self.servers.for_sub(key, sub)

    def jobdash_extra(self, key: WatchKey, local_now: datetime) -> dict[str, Any]:
        """What jobdash learned about a job beyond the API's answer (`status --json`)."""
        update = self.updates.get(key)
        job = update.job if update is not None else None
        now = cloud_now(update, local_now)
        extra: dict[str, Any] = {}
        servers = {
            info.server_id: info.as_json()
            for sub in (job.sub_jobs if job is not None else ())
            if (info := self.servers.for_sub(key, sub)) is not None
        }
        if (own := self.servers.for_job(key, job)) is not None:
            servers[own.server_id] = own.as_json()
        if servers:
            extra["servers"] = servers
        estimate = self.history.estimate(job, now) if job is not None else None
        if estimate is not None:
            extra["estimate"] = estimate.as_json()
        return extra

    def done(self) -> bool:
        return all(self._settled(t.key) for t in self.targets)

    def _settled(self, key: WatchKey) -> bool:
        update = self.updates.get(key)
        if update is None:
            return False
        if update.job is not None and (update.expired or update.job.is_terminal):
            return True
        return update.error is not None and update.error.kind in PERMANENT_ERRORS

    def exit_code(self, *, exit_status: bool) -> int:
        updates = [self.updates.get(t.key) for t in self.targets]
        if any(
            u is None or (u.job is None or (u.error is not None and not u.expired)) for u in updates
        ):
            return EXIT_UNFETCHED
        if not exit_status:
            return EXIT_OK
        jobs = [u.job for u in updates if u is not None and u.job is not None]
        if any(job.status == JobStatus.FAIL for job in jobs):
            return EXIT_FAILED
        if any(not job.is_terminal for job in jobs):
            return EXIT_UNFINISHED
        return EXIT_OK


def result_json(
    target: Target, update: PollUpdate | None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One element of `status --json`: the job plus `project_id` and `service`, or an error;
    what jobdash learned besides (servers, an estimate) goes under `jobdash`. ECS-style
    jobs are as the API sent them; other services' in the same shape, with the service's
    own status word in `service_status`."""
    key = target.key
    if update is not None and update.job is not None and (update.error is None or update.expired):
        body = raw_dict(update.job)
        body.setdefault("job_id", key.job_id)
        body["project_id"] = key.project_id
        body["service"] = key.service
        if update.expired:
            body["expired"] = True
        if extra:
            body[EXTRA_KEY] = extra
        return body
    if update is None or update.error is None:
        error = {
            "kind": "network",
            "message": "no answer before the watch ended",
            "http_status": None,
            "code": None,
        }
    else:
        error = update.error.as_dict()
    result = {
        "job_id": key.job_id,
        "project_id": key.project_id,
        "service": key.service,
        "status": None,
        "error": error,
    }
    if update is not None and update.job is not None:
        # The last snapshot stays visible (e.g. an entry with no credentials now).
        result["last_known"] = raw_dict(update.job)
    return result


def shared_errors(results: Results) -> dict[tuple[str, str], int]:
    """Errors that are about the credentials, not the job, with how many jobs got each.

    A rejected token fails every job with the same words; they are said once, counted.
    """
    counts: dict[tuple[str, str], int] = {}
    for target in results.targets:
        update = results.updates.get(target.key)
        error = update.error if update is not None and not update.expired else None
        if error is not None and error.kind in CREDENTIAL_ERRORS:
            shared = (str(error.kind), error.message)
            counts[shared] = counts.get(shared, 0) + 1
    return counts


def shared_error_line(kind: str, message: str, count: int) -> Text:
    line = Text(f"! {kind} for {count} job{'s' if count != 1 else ''}: ", style="bold red")
    line.append(one_line(message, 400))
    return line


def render_results(results: Results, local_now: datetime, *, in_progress: bool = False) -> Group:
    """The tree of every target. `in_progress`: a watch is still running, so passing errors
    are being retried and the last known job stays in view. A credential error shared by
    several jobs is said once, after them, with the count."""
    parts: list[Any] = []
    shared = {key: n for key, n in shared_errors(results).items() if n > 1}
    for target in results.targets:
        update = results.updates.get(target.key)
        if update is None:
            line = Text("… ", style="dim")
            line.append(one_line(target.key.job_id, 64))
            line.append("  waiting for the first answer", style="dim")
            parts.append(line)
            continue
        # Job times are the cloud's: elapsed times are measured against its clock.
        now = cloud_now(update, local_now)
        error = None if update.expired else update.error
        permanent = error is not None and error.kind in PERMANENT_ERRORS
        if error is not None and (str(error.kind), error.message) in shared:
            line = Text(f"! {one_line(target.key.job_id, 64)}  ", style="bold red")
            line.append(f"{error.kind} (below)", style="red")
            if update.job is not None:
                parts.append(
                    Group(line, job_tree(update.job, now, label=target.label, note="last known"))
                )
            else:
                parts.append(line)
        elif update.job is None:
            assert error is not None
            parts.append(
                error_label(target.key.job_id, error, retrying=in_progress and not permanent)
            )
        elif error is None:
            note = "expired: the cloud has purged this finished job" if update.expired else None
            parts.append(
                job_tree(
                    update.job,
                    now,
                    label=target.label,
                    note=note,
                    server_for=results.server_for(target.key),
                    estimate=remaining_text(results.history.estimate(update.job, now)),
                    resource=results.servers.for_job(target.key, update.job),
                )
            )
        elif permanent or not in_progress:
            tree = job_tree(update.job, now, label=target.label, note="last known")
            parts.append(Group(error_label(target.key.job_id, error), tree))
        else:
            # A passing hiccup: keep showing the job, say that its refresh is being retried.
            note = f"last known; {error.kind}, retrying"
            parts.append(job_tree(update.job, now, label=target.label, note=note))
    for (kind, message), count in shared.items():
        parts.append(shared_error_line(kind, message, count))
    return Group(*parts)


def summary_line(results: Results) -> Text:
    """`5 jobs: ✓3 succeeded  ✗1 failed  ●1 not finished  !0 not fetched`, zero counts left out."""
    counts = {"succeeded": 0, "failed": 0, "not finished": 0, "not fetched": 0}
    for target in results.targets:
        update = results.updates.get(target.key)
        job = update.job if update is not None else None
        if job is None or (update is not None and update.error is not None and not update.expired):
            counts["not fetched"] += 1
        elif job.failed:
            counts["failed"] += 1
        elif job.is_terminal:
            counts["succeeded"] += 1
        else:
            counts["not finished"] += 1
    line = Text(f"{len(results.targets)} jobs:", style="bold")
    styles = {
        "succeeded": ("✓", "green"),
        "failed": ("✗", "bold red"),
        "not finished": ("●", "yellow"),
    }
    for name, count in counts.items():
        if count:
            icon, style = styles.get(name, ("!", "red"))
            line.append(f"  {icon}{count} {name}", style=style)
    return line


def progress_line(
    results: Results,
    started: float,
    states: Sequence[EndpointState],
    polling: str | None = None,
) -> Text:
    """The live line above the table; `polling` says who polls when another process does."""
    finished = sum(
        1
        for t in results.targets
        if (u := results.updates.get(t.key)) and u.job and u.job.is_terminal
    )
    failed = sum(
        1 for t in results.targets if (u := results.updates.get(t.key)) and u.job and u.job.failed
    )
    line = Text(f"{finished}/{len(results.targets)} jobs finished", style="bold")
    if failed:
        line.append(f"  ✗{failed} failed", style="bold red")
    line.append(f"  watching for {int(time.monotonic() - started)}s", style="dim")
    line.append("  ")
    if polling:
        line.append(f"{one_line(polling, 60)} · ", style="dim")
    line.append_text(rate_text(states))
    # Each account at an unreachable endpoint has its own state: say each reason once.
    reasons = dict.fromkeys(one_line(s.offline_reason, 80) for s in states if s.offline_reason)
    for reason in reasons:
        line.append(f"  offline: {reason}", style="red")
    for state in states:
        if state.slow_note:
            line.append(f"  {state.slow_note}", style="yellow")
    return line


def rate_text(states: Sequence[EndpointState]) -> Text:
    """`14 req/s`; while throttled, followed by how often, since when and the back-off
    (and which account, when accounts are told apart: `throttled (prod) since ...`)."""
    text = Text(request_rate_text(states), style="dim")
    throttled = throttle_text(states)
    if throttled:
        text.append(" · ")
        text.append(throttled, style="yellow")
    return text


def transition_line(update: PollUpdate, label: str | None) -> Text | None:
    """One log line for what an update shows: its error, or its job's status and progress."""
    stamp = update.fetched_at.astimezone(UTC).strftime("%H:%M:%S")
    if update.error is not None and not update.expired:
        line = Text(f"{stamp}  ")
        line.append_text(error_label(update.key.job_id, update.error))
        return line
    if update.job is None:
        return None
    line = Text(f"{stamp}  {one_line(update.key.job_id, 64)}  ")
    if label:
        line.append(f"«{one_line(label, 40)}»  ")
    line.append_text(status_text(update.job.status))
    if update.job.total_sub_jobs:
        counts = update.job.status_counts()
        line.append(
            f"  {update.job.finished_sub_jobs}/{update.job.total_sub_jobs} sub-jobs done"
            f", {counts.get(JobStatus.FAIL, 0)} failed"
        )
    return line


class ChangeLog:
    """What non-interactive `status --watch` prints: a line when a job's state changes.

    A job's first answer prints a line; after that, an answer prints one when the poller
    saw a status change in it (`PollUpdate.transitions`), or when the job answers again
    after an error. An error prints once until it changes; a credential error (the same
    for every job) is printed once; the final summary counts the jobs it hit.
    """

    def __init__(self, console: Console, labels: dict[WatchKey, str | None]) -> None:
        self.console = console
        self.labels = labels
        self._seen: set[WatchKey] = set()
        self._errors: dict[WatchKey, tuple[str, str]] = {}
        self._said: set[tuple[str, str]] = set()

    def note(self, update: PollUpdate) -> None:
        line = self.line_for(update)
        if line is not None:
            self.console.print(line)

    def line_for(self, update: PollUpdate) -> Text | None:
        key, error = update.key, update.error
        if error is not None and not update.expired:
            said = (str(error.kind), error.message)
            if self._errors.get(key) == said:
                return None
            self._errors[key] = said
            if error.kind not in CREDENTIAL_ERRORS:
                return transition_line(update, self.labels.get(key))
            if said in self._said:
                return None
            self._said.add(said)
            stamp = update.fetched_at.astimezone(UTC).strftime("%H:%M:%S")
            line = Text(f"{stamp}  ! {error.kind}: ", style="bold red")
            line.append(one_line(error.message, 400))
            return line
        if update.job is None:
            return None
        recovered = self._errors.pop(key, None) is not None
        first = key not in self._seen
        self._seen.add(key)
        if first or recovered or update.transitions:
            return transition_line(update, self.labels.get(key))
        return None
