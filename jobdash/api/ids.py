"""Identity: validating ids before they go into a URL, finding job ids in free text,
short ids for display and the keys that tell sub-jobs apart."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from jobdash.api.errors import InvalidIdError

if TYPE_CHECKING:
    from jobdash.api.model import Job, SubJob

MAX_ID_LENGTH = 64
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_JOB_ID = re.compile(r"[0-9a-fA-F]{32}")
#: How a job id looks, for messages.
JOB_ID_FORM = "32 hexadecimal characters like 0123456789abcdef0123456789abcdef"
#: A 32-hex job id standing alone in a line of text (not part of a longer word).
JOB_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32}(?![0-9A-Za-z])")


def _shown(value: str) -> str:
    """The id as it can safely be shown: control characters escaped, long ids cut."""
    text = value if len(value) <= 80 else value[:77] + "..."
    return repr(text)


def id_problem(value: object) -> str | None:
    """Why `value` is not a usable id, or None when it is fine."""
    if (
        isinstance(value, str)
        and 0 < len(value) <= MAX_ID_LENGTH
        and _SAFE_ID.fullmatch(value)
        and ".." not in value
    ):
        return None  # the common case, checked at once; the rest says what is wrong
    if not isinstance(value, str):
        return "is not a string"
    if not value:
        return "is empty"
    if len(value) > MAX_ID_LENGTH:
        return f"is {len(value)} characters long (at most {MAX_ID_LENGTH})"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "contains control characters"
    if any(ch.isspace() for ch in value):
        return "contains whitespace"
    if "/" in value or "\\" in value:
        return "contains a slash"
    if ".." in value:
        return "contains '..'"
    if not _SAFE_ID.fullmatch(value):
        return "may only contain letters, digits, '-', '_' and '.'"
    return None


def job_id_problem(value: object, *, any_id: bool = False) -> str | None:
    """Why `value` is not a job id, or None. ECS job ids are 32 hex characters; `any_id`
    accepts any id that is safe in a URL (for services with other id forms)."""
    problem = id_problem(value)
    if problem is None and not any_id and not _JOB_ID.fullmatch(str(value)):
        return f"is not {JOB_ID_FORM}"
    return problem


def validate_job_id(value: object, *, any_id: bool = False) -> str:
    """Return `value` if it is a job id (see `job_id_problem`); else raise `InvalidIdError`."""
    problem = job_id_problem(value, any_id=any_id)
    if problem is not None:
        shown = _shown(value) if isinstance(value, str) else repr(type(value).__name__)
        raise InvalidIdError(f"invalid job id {shown}: {problem}")
    assert isinstance(value, str)
    return value


def validate_id(value: object, what: str = "job id") -> str:
    """Return `value` if it can go into a URL path segment; else raise `InvalidIdError`."""
    problem = id_problem(value)
    if problem is not None:
        shown = _shown(value) if isinstance(value, str) else repr(type(value).__name__)
        raise InvalidIdError(f"invalid {what} {shown}: {problem}")
    assert isinstance(value, str)
    return value


def _json_job_ids(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "job_id" and isinstance(value, str):
                yield value
            elif key == "job_ids" and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
            else:
                yield from _json_job_ids(value)
    elif isinstance(data, list):
        for item in data:
            yield from _json_job_ids(item)


def extract_job_ids(text: str) -> list[str]:
    """Job ids in `text`, in order of appearance, duplicates kept.

    Accepts JSON (every `job_id` anywhere in it, e.g. a create-servers response),
    one id per line, or free text containing 32-hex ids. Lines that are neither
    a 32-hex id nor part of JSON are returned as they are, so the caller can
    report them as invalid instead of dropping them silently.
    """
    stripped = text.strip()
    if not stripped:
        return []
    if stripped[0] in "{[":
        try:
            return list(_json_job_ids(json.loads(stripped)))
        except ValueError:
            pass
    found: list[str] = []
    for line in stripped.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line[0] in "{[":
            try:
                found.extend(_json_job_ids(json.loads(line)))
                continue
            except ValueError:
                pass
        hexes = JOB_ID_IN_TEXT.findall(line)
        if hexes:
            found.extend(hexes)
        elif len(line.split()) == 1:
            found.append(line)
        else:
            # A sentence without any id: report it whole so nothing vanishes silently.
            found.append(line)
    return found


# -- telling jobs and sub-jobs apart on screen -------------------------------------------

#: Short ids are at least this long, and a plain prefix at most `SHORT_MAX`.
SHORT_MIN = 8
SHORT_MAX = 12


def short_id(job_id: str) -> str:
    """A job id shown briefly when nothing else is known about its neighbours."""
    return job_id[:SHORT_MIN] if len(job_id) > SHORT_MAX else job_id


def short_ids(job_ids: Iterable[str]) -> dict[str, str]:
    """How to show each id briefly but unambiguously among the others.

    The shortest prefix (at least `SHORT_MIN` characters) that no other id shares; ids that
    only differ late (ECS ids often share a long prefix) show their head and tail instead.
    """
    ids = sorted(set(job_ids))
    result: dict[str, str] = {}
    for index, job_id in enumerate(ids):
        if len(job_id) <= SHORT_MAX:
            result[job_id] = job_id
            continue
        shared = 0
        for other in ids[max(0, index - 1) : index] + ids[index + 1 : index + 2]:
            shared = max(shared, _common_prefix_length(job_id, other))
        length = max(SHORT_MIN, shared + 1)
        result[job_id] = job_id[:length] if length <= SHORT_MAX else f"{job_id[:4]}…{job_id[-6:]}"
    return result


def _common_prefix_length(a: str, b: str) -> int:
    length = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        length += 1
    return length


def keyed_sub_jobs(job: Job | None) -> list[tuple[str, SubJob]]:
    """Each sub-job with a key that is stable across fetches and unique within the job
    (`jobdash.api.model.sub_job_keys`: the sub-job's id, else `#N`, its position)."""
    if job is None:
        return []
    return list(zip(job.sub_job_marks, job.sub_jobs, strict=True))
