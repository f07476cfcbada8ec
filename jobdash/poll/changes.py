"""What one answer changed since the last: decided here, once, and carried in the update.

The store, the tree, the toasts and the headless change lines all read the result; none of
them compares snapshots again. An answer whose bytes equal the last one's arrives as the
very same `Job` (`JobsClient.get_job`), which costs nothing to compare. Otherwise the job's
own fields and each sub-job's status, end time and error fields (read from the bodies,
keyed as `jobdash.api.model.sub_job_keys` keys them) are compared; no sub-job is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jobdash.api.model import Job, SubJobMark, read_status, sub_job_mark
from jobdash.watch.values import Transition

#: Where a sub-job's status sits in its mark (`jobdash.api.model.SubJobMark`).
_STATUS = 0


@dataclass(frozen=True, slots=True)
class Changes:
    """How an answer differs from the previous one of the same job."""

    #: Anything shown differs (False for the first answer: there is nothing to differ from).
    changed: bool = False
    #: The job's own status before this answer, when anything changed.
    previous_status: str | None = None
    #: Keys of the sub-jobs that changed or are new.
    sub_jobs: tuple[str, ...] = ()
    #: Statuses seen for the first time or changed, the job's first.
    transitions: tuple[Transition, ...] = ()


UNCHANGED = Changes()


def compare(previous: Job | None, job: Job, at: datetime) -> Changes:
    """`job` against `previous` (None: the first answer), statuses stamped with `at`."""
    if job is previous:
        return UNCHANGED
    job_id = job.job_id or ""
    if previous is None:
        marks = job.sub_job_marks
        # The first answer: every status is seen for the first time.
        first = [Transition(job_id, None, None, job.status, at)]
        first.extend(
            Transition(job_id, key, None, read_status(mark[_STATUS]), at)
            for key, mark in marks.items()
        )
        return Changes(transitions=tuple(first))
    changed_keys: list[str] = []
    transitions: list[Transition] = []
    if previous.status != job.status:
        transitions.append(Transition(job_id, None, previous.status, job.status, at))

    def note(key: str, old: SubJobMark | None, new: SubJobMark) -> None:
        changed_keys.append(key)
        old_status = old[_STATUS] if old is not None else None
        if old is None or old_status != new[_STATUS]:
            transitions.append(
                Transition(
                    job_id,
                    key,
                    None if old_status is None else read_status(old_status),
                    read_status(new[_STATUS]),
                    at,
                )
            )

    if job.share_sub_job_keys(previous):
        # The same sub-jobs in the same order (the usual case): compare the bodies side by
        # side, which skips the unchanged ones at C speed, and read marks of the rest only.
        keys = job.sub_job_keys
        for position, (old_body, new_body) in enumerate(
            zip(previous.sub_job_bodies, job.sub_job_bodies, strict=True)
        ):
            if old_body is new_body or old_body == new_body:
                continue
            old, new = sub_job_mark(old_body), sub_job_mark(new_body)
            if old != new:
                note(keys[position], old, new)
        removed = False
    else:
        before, marks = previous.sub_job_marks, job.sub_job_marks
        for key, mark in marks.items():
            old = before.get(key)
            if old != mark:
                note(key, old, mark)
        removed = len(before) != len(marks) or not before.keys() <= marks.keys()
    changed = bool(changed_keys) or removed or previous.mark != job.mark
    return Changes(
        changed=changed,
        previous_status=previous.status if changed else None,
        sub_jobs=tuple(changed_keys),
        transitions=tuple(transitions),
    )
