"""`status` into a pipe prints the job trees without Rich's layout pass: the very same text."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console, Group
from rich.text import Text

from jobdash.api.errors import NotFoundError, UnauthorizedError
from jobdash.api.model import parse_job
from jobdash.cli.status_view import Results, Target, render_results, summary_line
from jobdash.cli.tree import plain_lines
from jobdash.watch.values import PollUpdate, WatchKey

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ENDPOINT = "https://ecs.example.test"
PROJECT = "p" * 32


def job_id(n: int) -> str:
    return f"{n:032x}"


def sub(n: int, status: str, **fields: object) -> dict[str, object]:
    return {
        "job_id": job_id(1000 + n),
        "job_type": "createSingleServer",
        "status": status,
        "begin_time": "2026-12-01T11:50:00.000Z",
        "entities": {"server_id": f"server-{n}"},
        **fields,
    }


BODIES: list[dict[str, object]] = [
    {
        "job_id": job_id(1),
        "job_type": "createServer",
        "status": "RUNNING",
        "begin_time": "2026-12-01T11:50:00.000Z",
        "entities": {"sub_jobs": [sub(1, "SUCCESS"), sub(2, "RUNNING"), sub(3, "INIT")]},
    },
    {
        "job_id": job_id(2),
        "job_type": "createServer",
        "status": "FAIL",
        "begin_time": "2026-12-01T11:40:00.000Z",
        "end_time": "2026-12-01T11:45:00.000Z",
        "entities": {
            "sub_jobs": [
                sub(4, "SUCCESS"),
                sub(5, "FAIL", error_code="Ecs.0319", fail_reason="quota [red]exceeded[/red]"),
                sub(6, "FAIL", error_code="Ecs.9999", fail_reason="tab\there\x1b[31m esc\nnew"),
            ]
        },
    },
    {
        "job_id": job_id(3),
        "job_type": "deleteServer",
        "status": "FAIL",
        "error_code": "Ecs.0011",
        "fail_reason": "wide 漢字 and an emoji 🚀 and a very long reason " + "x" * 300,
    },
    {"job_id": job_id(4), "job_type": "stopServer", "status": "SUCCESS"},
]


def results() -> Results:
    targets = [
        Target(WatchKey(ENDPOINT, PROJECT, job_id(n)), label=f"batch {n}") for n in range(1, 8)
    ]
    found = Results(targets)
    for target, body in zip(targets, BODIES, strict=False):
        found.updates[target.key] = PollUpdate(target.key, NOW, job=parse_job(body))
    gone, refused, waiting = targets[4], targets[5], targets[6]
    found.updates[gone.key] = PollUpdate(gone.key, NOW, error=NotFoundError("no such job"))
    found.updates[refused.key] = PollUpdate(
        refused.key,
        NOW - timedelta(seconds=5),
        job=parse_job(BODIES[0]),
        error=UnauthorizedError("the token was refused"),
    )
    del waiting  # no answer yet: "waiting for the first answer"
    return found


def rich_text(parts: list[Text | Group], encoding: str) -> str:
    buffer = io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors="replace")
    console = Console(
        file=buffer, markup=False, emoji=False, highlight=False, soft_wrap=True, width=10_000
    )
    assert console.color_system is None
    for part in parts:
        console.print(part)
    buffer.flush()
    return buffer.buffer.getvalue().decode(encoding, errors="replace")  # type: ignore[attr-defined]


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
def test_plain_lines_are_what_rich_prints(encoding: str) -> None:
    found = results()
    parts: list[Text | Group] = [render_results(found, NOW), summary_line(found)]
    ascii_only = encoding != "utf-8"
    plain = "".join(
        line + "\n" for part in parts for line in plain_lines(part, ascii_only=ascii_only)
    )
    expected = rich_text(parts, encoding)
    assert plain.encode(encoding, errors="replace").decode(encoding) == expected
    # The cases are all there: guides, nesting, errors, the waiting line, the summary.
    assert "└── failures by error code" in plain or "`-- failures by error code" in plain
    assert "waiting for the first answer" in plain
    assert "[red]exceeded[/red]" in plain
    assert "\x1b" not in plain


def test_something_without_a_plain_form_is_refused() -> None:
    from rich.table import Table

    with pytest.raises(TypeError, match="Table"):
        list(plain_lines(Table()))  # type: ignore[arg-type]
