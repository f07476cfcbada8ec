"""Sub-jobs are parsed when first read: a job answers counts, totals and the last sub-job's
end from the bodies, and the parsed sub-jobs are what eager parsing would have given."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jobdash.api import model
from jobdash.api.model import SubJob, parse_job, parse_sub_job, raw_dict
from jobdash.store.core import Store
from jobdash.watch.history import History, finished_job
from jobdash.watch.servers import failed_servers
from jobdash.watch.values import PollUpdate, WatchEntry, WatchKey
from jobdash.watch.watchlist import Watchlist

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def sub(status: Any, n: int, **extra: Any) -> dict[str, Any]:
    return {
        "status": status,
        "job_id": f"sub-{n}",
        "job_type": "createSingleServer",
        "begin_time": "2026-03-01T08:00:00.000Z",
        "end_time": f"2026-03-01T08:{n:02d}:00.000Z" if status in ("SUCCESS", "FAIL") else "",
        "entities": {"server_id": f"server-{n}"},
        **extra,
    }


def batch(*subs: Any, status: Any = "RUNNING", **entities: Any) -> dict[str, Any]:
    return {
        "status": status,
        "job_id": "f" * 32,
        "job_type": "createServer",
        "begin_time": "2026-03-01T08:00:00.000Z",
        "end_time": "",
        "entities": {"sub_jobs": list(subs), **entities},
    }


def nested(depth: int) -> dict[str, Any]:
    body: dict[str, Any] = {"leaf": True}
    for _ in range(depth):
        body = {"inner": body}
    return body


BODIES: dict[str, Any] = {
    "no sub-jobs": {"status": "SUCCESS", "job_id": "a" * 32, "entities": {"server_id": "s"}},
    "empty list": batch(),
    "a plain batch": batch(
        sub("SUCCESS", 3), sub("FAIL", 7, error_code="Ecs.0319"), sub("RUNNING", 9)
    ),
    "announced total above listed": batch(sub("INIT", 1), sub_jobs_total="20"),
    "statuses of every odd shape": batch(
        *(
            sub(status, n)
            for n, status in enumerate(
                [None, 42, True, 3.5, ["FAIL"], {"x": 1}, "", "   ", " FAIL ", "fail", "SHELVED"]
            )
        ),
        sub("SUCCESS\x00", 12),
        sub("RUN\ud800", 13),
        sub(10**40, 14),
    ),
    "items that are not objects": batch(
        "not a sub-job", 1, None, [], [sub("FAIL", 2)], sub("SUCCESS", 5), True
    ),
    "sub_jobs not a list": batch(sub_jobs={"0": sub("FAIL", 1)}),
    "entities not an object": {"status": "RUNNING", "entities": [sub("FAIL", 1)]},
    "no entities at all": {"status": "FAIL", "error_code": "Ecs.0001"},
    "hostile fields in sub-jobs": batch(
        {"status": "FAIL", "job_id": "s\udc01", "fail_reason": "x\ud800", "entities": None},
        {"status": "SUCCESS", "end_time": "2026-13-40T99:00:00Z", "begin_time": 5},
        {"status": "FAIL", "end_time": "2026-03-01T09:00:00", "entities": {"server_id": 7}},
        {"status": "SUCCESS", "end_time": "  2026-03-01T08:30:00.000z ", "job_id": ["x"]},
        {"status": "RUNNING", "job_type": nested(900), "error_code": {"code": 1}},
        {},
    ),
    "repeated sub-job ids": batch(sub("FAIL", 1), sub("SUCCESS", 1), sub("SUCCESS", 1)),
}


def eager_sub_jobs(body: Any) -> tuple[SubJob, ...]:
    """What the job's sub-jobs must be: every object listed, parsed on its own."""
    entities = body.get("entities")
    listed = entities.get("sub_jobs") if isinstance(entities, Mapping) else None
    if not isinstance(listed, list):
        return ()
    return tuple(parse_sub_job(item) for item in listed if isinstance(item, Mapping))


def fresh(body: Any) -> Any:
    """The body as the store or the client hands it over: freshly decoded."""
    return json.loads(json.dumps(body))


@pytest.mark.parametrize("name", list(BODIES))
def test_a_job_answers_from_its_bodies_what_its_parsed_sub_jobs_say(name: str) -> None:
    body = BODIES[name]
    expected = eager_sub_jobs(fresh(body))
    job = parse_job(fresh(body))
    # Asked before the sub-jobs are parsed ...
    counts = Counter(s.status for s in expected)
    ends = [s.end_time for s in expected if s.end_time is not None]
    before = (
        job.sub_job_count,
        job.status_counts(),
        job.finished_sub_jobs,
        job.has_failed_sub_jobs,
        job.total_sub_jobs,
        job.latest_sub_job_end,
        job.failed_sub_jobs,
    )
    assert before[:3] == (len(expected), counts, sum(counts[s] for s in ("SUCCESS", "FAIL")))
    assert job.has_failed_sub_jobs == any(s.failed for s in expected)
    assert job.latest_sub_job_end == max(ends, default=None)
    # ... the same as once they are; and they are what parsing each one gives.
    assert job.sub_jobs == expected
    assert job.sub_jobs is job.sub_jobs  # parsed once
    after = (
        job.sub_job_count,
        job.status_counts(),
        job.finished_sub_jobs,
        job.has_failed_sub_jobs,
        job.total_sub_jobs,
        job.latest_sub_job_end,
        job.failed_sub_jobs,
    )
    assert after == before
    assert job.failed_sub_jobs == tuple(s for s in expected if s.failed)
    # A job whose sub-jobs were read equals one whose were not.
    assert parse_job(fresh(body)) == job
    assert raw_dict(parse_job(fresh(body))) == raw_dict(job)


def test_jobs_differing_in_one_sub_job_are_not_equal() -> None:
    one = parse_job(fresh(BODIES["a plain batch"]))
    changed = fresh(BODIES["a plain batch"])
    changed["entities"]["sub_jobs"][2]["status"] = "SUCCESS"
    other = parse_job(changed)
    assert one != other
    assert other.status_counts() == {"SUCCESS": 2, "FAIL": 1}


def test_parsed_sub_jobs_cannot_be_replaced_from_outside() -> None:
    job = parse_job(fresh(BODIES["a plain batch"]))
    # A property without a setter (Python 3.11's frozen slotted classes raise TypeError
    # rather than AttributeError for it), and a frozen field.
    with pytest.raises((AttributeError, TypeError)):
        job.sub_jobs = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        job._parsed_sub_jobs = ()  # type: ignore[misc]
    assert isinstance(job.sub_jobs, tuple) and len(job.sub_jobs) == 3
    with pytest.raises(TypeError):
        job.sub_jobs[0].entities["server_id"] = "other"  # type: ignore[index]


def counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every sub-job parsed from now on, in order."""
    parsed: list[Any] = []
    original = model.parse_sub_job

    def counting(data: Any) -> SubJob:
        parsed.append(data)
        return original(data)

    monkeypatch.setattr(model, "parse_sub_job", counting)
    return parsed


def test_loading_a_watchlist_parses_no_sub_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [WatchKey("https://ecs.example.test", "p" * 32, f"{n:032x}") for n in range(3)]
    bodies = [
        batch(*(sub("SUCCESS" if i < n else "RUNNING", i) for i in range(50))) for n in range(3)
    ]
    bodies[2]["entities"]["sub_jobs"][0] = sub("FAIL", 0, error_code="Ecs.0319")
    with Store(tmp_path / "watchlist.sqlite3") as store:
        store.add(WatchEntry(key) for key in keys)
        for key, body in zip(keys, bodies, strict=True):
            store.record(PollUpdate(key, T0, job=parse_job(fresh(body))))
        parsed = counting_parses(monkeypatch)
        watchlist = Watchlist.load(store)
        try:
            jobs = [watchlist.job(key) for key in keys]
            assert all(job is not None for job in jobs)
            assert [job.status_counts() for job in jobs if job] == [
                {"RUNNING": 50},
                {"SUCCESS": 1, "RUNNING": 49},
                {"FAIL": 1, "SUCCESS": 1, "RUNNING": 48},
            ]
            # Which servers failed is known without parsing jobs that had no failure.
            assert [failed_servers(job) for job in jobs[:2]] == [[], []]
            assert parsed == []
            assert [s.server_id for s in failed_servers(jobs[2])] == ["server-0"]
            assert len(parsed) == 1  # only the failed sub-job of that job
            assert jobs[2] is not None and len(jobs[2].sub_jobs) == 50
            assert len(parsed) == 51  # all of them once the job is opened, then no more
            assert len(jobs[2].sub_jobs) == 50 and len(jobs[2].failed_sub_jobs) == 1
            assert len(parsed) == 51
        finally:
            watchlist.close()


def test_the_stall_check_reads_the_bodies_and_agrees_with_the_parsed_sub_jobs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def finished(n: int) -> dict[str, Any]:
        begin = T0 + timedelta(hours=n)
        ends = [begin + timedelta(minutes=m) for m in (2.5, 5, 7.5, 10)]
        body = batch(
            *(sub("SUCCESS", i, end_time=e.isoformat()) for i, e in enumerate(ends)),
            status="SUCCESS",
        )
        body.update(job_id=f"done{n:028d}", begin_time=begin.isoformat(), end_time=ends[-1])
        body["end_time"] = ends[-1].isoformat()
        return body

    records = [finished_job(parse_job(fresh(finished(n)))) for n in range(5)]
    history = History(record for record in records if record is not None)
    begin = T0 + timedelta(days=1)
    running = batch(
        sub("SUCCESS", 0, end_time=(begin + timedelta(minutes=1)).isoformat()),
        sub("RUNNING", 1),
        sub("RUNNING", 2),
        sub("RUNNING", 3),
    )
    running["begin_time"] = begin.isoformat()
    parsed = counting_parses(monkeypatch)
    for minutes, stalled in ((4, False), (9, True)):
        now = begin + timedelta(minutes=minutes)
        lazy = history.estimate(parse_job(fresh(running)), now)
        assert parsed == []
        eager_job = parse_job(fresh(running))
        assert len(eager_job.sub_jobs) == 4  # parsed first: the same answer
        eager = history.estimate(eager_job, now)
        assert lazy is not None and eager is not None
        assert (lazy.stalled, lazy.reason) == (eager.stalled, eager.reason)
        assert lazy.stalled is stalled
        parsed.clear()
