"""ETA and stall marks from a recorded history, on a fixed clock; `jobdash history`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import run_cli

from jobdash.api.model import parse_job
from jobdash.store.core import Store
from jobdash.text.format import rough_duration
from jobdash.watch.history import (
    MIN_SAMPLES,
    STALLED_TEXT,
    History,
    finished_job,
    percentile,
    remaining_text,
    size_class,
    summarize,
)
from jobdash.watch.values import PollUpdate, WatchEntry, WatchKey

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ENDPOINT = "https://ecs.example.test"
PROJECT = "0123456789abcdef0123456789abcdef"


def _time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z") if moment else ""


def body(
    job_id: str,
    begin: datetime,
    sub_ends: list[datetime | None],
    *,
    end: datetime | None = None,
    job_type: str = "createServer",
    failed: dict[int, str] | None = None,
) -> dict[str, Any]:
    failed = failed or {}
    subs = [
        {
            "job_id": f"{job_id}{i:02d}",
            "job_type": "createSingleServer",
            "status": ("FAIL" if i in failed else "SUCCESS") if ended else "RUNNING",
            "begin_time": _time(begin),
            "end_time": _time(ended),
            "error_code": failed.get(i),
            "entities": {"server_id": f"server-{job_id}-{i}"},
        }
        for i, ended in enumerate(sub_ends)
    ]
    status = "RUNNING" if end is None else ("FAIL" if failed else "SUCCESS")
    return {
        "job_id": job_id,
        "job_type": job_type,
        "status": status,
        "begin_time": _time(begin),
        "end_time": _time(end),
        "entities": {"sub_jobs_total": len(subs), "sub_jobs": subs},
    }


def finished(n: int, minutes: float, *, failed: dict[int, str] | None = None) -> dict[str, Any]:
    """A 4-server createServer job that took `minutes`, its servers ending evenly."""
    begin = T0 + timedelta(hours=n)
    ends = [begin + timedelta(minutes=minutes * (i + 1) / 4) for i in range(4)]
    return body(f"done{n:02d}", begin, ends, end=ends[-1], failed=failed)  # type: ignore[arg-type]


@pytest.fixture
def recorded(tmp_path: Path) -> Store:
    """Five finished jobs recorded through the store, then removed from the watchlist:
    the history stays."""
    store = Store(tmp_path / "history.sqlite3")
    jobs = [
        finished(0, 8),
        finished(1, 10, failed={2: "Ecs.0319"}),
        finished(2, 10),
        finished(3, 12, failed={0: "Ecs.0319", 1: "Ecs.0021"}),
        finished(4, 20),
    ]
    for data in jobs:
        key = WatchKey(ENDPOINT, PROJECT, data["job_id"])
        store.add([WatchEntry(key)])
        job = parse_job(data)
        store.record(PollUpdate(key, job.end_time or T0, job=job))
        store.remove([key])
    yield store
    store.close()


def test_history_outlives_the_watchlist(recorded: Store) -> None:
    records = recorded.finished_jobs()
    assert [r.duration for r in records] == [480, 600, 600, 720, 1200]
    assert records[3].error_codes == ("Ecs.0319", "Ecs.0021")
    assert records[0].longest_gap == 120  # 8 minutes over four servers
    assert recorded.entries() == []


def test_summary_per_type(recorded: Store) -> None:
    (stats,) = summarize(recorded.finished_jobs())
    assert stats.job_type == "createServer" and stats.count == 5
    assert stats.median == 600
    assert stats.p95 == pytest.approx(720 + (1200 - 720) * 0.8)
    assert stats.failure_rate == pytest.approx(0.4)
    assert stats.top_errors == (("Ecs.0319", 2), ("Ecs.0021", 1))


def test_estimate_and_stall_on_a_fixed_clock(recorded: Store) -> None:
    history = History(recorded.finished_jobs())
    begin = T0 + timedelta(days=1)
    # Three minutes in, one server up: the median (10m) says ~7m left.
    running = parse_job(body("run01", begin, [begin + timedelta(minutes=2), None, None, None]))
    estimate = history.estimate(running, begin + timedelta(minutes=3))
    assert estimate is not None and estimate.samples == 5
    assert estimate.remaining == pytest.approx(420)
    assert not estimate.stalled
    assert remaining_text(estimate) == "~7m left"
    # Past the median but within p95 (18.4m), progress recent: no estimate, not stalled.
    late = parse_job(
        body("run01", begin, [begin + timedelta(minutes=m) for m in (2, 5, 11)] + [None])
    )
    estimate = history.estimate(late, begin + timedelta(minutes=12))
    assert estimate is not None and estimate.remaining is None and not estimate.stalled
    # No server has come up for 8 minutes; the usual longest pause is 4.6 minutes (p95),
    # three times that is 13.8: not a stall yet. At 16 minutes it is.
    quiet = parse_job(body("run02", begin, [begin + timedelta(minutes=1), None, None, None]))
    assert not history.estimate(quiet, begin + timedelta(minutes=9)).stalled  # type: ignore[union-attr]
    stalled = history.estimate(quiet, begin + timedelta(minutes=17))
    assert stalled is not None and stalled.stalled
    assert "no sub-job has ended" in (stalled.reason or "")
    # Past the 95th percentile of its kind: stalled whatever the progress.
    slow = parse_job(body("run03", begin, [begin + timedelta(minutes=18.5), None, None, None]))
    overdue = history.estimate(slow, begin + timedelta(minutes=19))
    assert overdue is not None and overdue.stalled and "95%" in (overdue.reason or "")
    assert remaining_text(overdue) == STALLED_TEXT
    assert overdue.as_json()["stalled"] is True


def test_too_few_samples_give_no_estimate(recorded: Store) -> None:
    history = History(recorded.finished_jobs()[: MIN_SAMPLES - 1])
    begin = T0 + timedelta(days=1)
    running = parse_job(body("run01", begin, [None, None, None, None]))
    estimate = history.estimate(running, begin + timedelta(hours=5))
    assert estimate is not None and estimate.samples == MIN_SAMPLES - 1
    assert estimate.remaining is None and not estimate.stalled
    assert remaining_text(estimate) == ""
    # Another type has no history at all; a finished job has no estimate.
    other = parse_job(body("run02", begin, [None], job_type="batchStopServer"))
    assert history.estimate(other, begin).samples == 0  # type: ignore[union-attr]
    done = parse_job(finished(9, 5))
    assert history.estimate(done, begin) is None


def test_batch_size_is_compared_with_similar_batches() -> None:
    assert [size_class(n) for n in (1, 3, 20, 50, 500)] == ["1", "2-5", "6-20", "21-100", "100+"]
    small = [finished_job(parse_job(finished(n, 2))) for n in range(3)]
    big_begin = T0 + timedelta(days=2)
    big = [
        finished_job(
            parse_job(
                body(
                    f"big{n}",
                    big_begin,
                    [big_begin + timedelta(minutes=30)] * 30,
                    end=big_begin + timedelta(minutes=30),
                )
            )
        )
        for n in range(3)
    ]
    history = History([r for r in small + big if r is not None])
    begin = T0 + timedelta(days=3)
    four = parse_job(body("run4", begin, [None] * 4))
    thirty = parse_job(body("run30", begin, [None] * 30))
    assert history.estimate(four, begin).remaining == 120  # type: ignore[union-attr]
    assert history.estimate(thirty, begin).remaining == 1800  # type: ignore[union-attr]
    assert percentile([1.0], 0.95) == 1.0
    assert [rough_duration(s) for s in (30, 60, 61, 3599, 3900)] == [
        "<1m",
        "1m",
        "2m",
        "1h00m",
        "1h05m",
    ]


def test_history_command(recorded: Store, capsys, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    from jobdash.config.paths import database_file

    database_file().parent.mkdir(parents=True, exist_ok=True)
    with Store(database_file()) as store:
        for record_body in (finished(0, 8), finished(3, 12, failed={0: "Ecs.0319"})):
            key = WatchKey(ENDPOINT, PROJECT, record_body["job_id"])
            store.add([WatchEntry(key)])
            job = parse_job(record_body)
            store.record(PollUpdate(key, T0, job=job))
    text = run_cli(["history"], capsys, monkeypatch)
    assert text.code == 0, text.err
    assert "createServer" in text.out and "10m00s" in text.out and "50%" in text.out
    assert "Ecs.0319 ×1" in text.out
    data = run_cli(["history", "--json"], capsys, monkeypatch).json()
    assert data == [
        {
            "job_type": "createServer",
            "count": 2,
            "median_seconds": 600.0,
            "p95_seconds": pytest.approx(708.0),
            "failure_rate": 0.5,
            "top_error_codes": [{"code": "Ecs.0319", "count": 1}],
        }
    ]


def test_history_command_without_history(capsys, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "empty"))
    result = run_cli(["history"], capsys, monkeypatch)
    assert result.code == 0 and "no finished jobs yet" in result.err
    assert run_cli(["history", "--json"], capsys, monkeypatch).json() == []
