"""The one text layer: durations, times and progress as the CLI and the dashboard write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobdash.api.model import parse_job
from jobdash.cli.tree import job_label as cli_job_label
from jobdash.text.format import ago, moment, progress_text
from jobdash.tui.render import job_label as tree_job_label
from jobdash.watch.values import Snapshot, WatchEntry, WatchKey

NOW = datetime(2024, 5, 1, 12, 0, 0, 591000, tzinfo=UTC)


def batch() -> object:
    statuses = ["SUCCESS"] * 12 + ["FAIL"] * 2 + ["RUNNING"] * 4 + ["INIT"] * 2
    subs = [{"job_id": f"s{n}", "status": s} for n, s in enumerate(statuses)]
    return parse_job({"job_id": "j" * 32, "status": "RUNNING", "entities": {"sub_jobs": subs}})


def test_progress_counts_finished_successes_failures_and_what_still_goes() -> None:
    job = batch()
    assert progress_text(job).plain == "14/20  ✓12 ✗2"
    assert progress_text(job, running=True).plain == "14/20  ✓12 ✗2 ●6"
    assert progress_text(parse_job({"job_id": "x", "status": "RUNNING"})).plain == ""


def test_the_cli_and_the_dashboard_write_progress_the_same_way() -> None:
    job = batch()
    key = WatchKey("https://ecs.example.test", "p" * 32, job.job_id)
    tree = tree_job_label(WatchEntry(key), Snapshot(key, job, NOW), NOW).plain
    headless = cli_job_label(job, NOW).plain
    assert "14/20  ✓12 ✗2" in tree
    assert "14/20  ✓12 ✗2 ●6" in headless


def test_times_and_ages() -> None:
    assert moment(NOW) == "2024-05-01 12:00:00Z"
    assert moment(NOW, millis=True) == "2024-05-01 12:00:00.591Z"
    assert moment(None) == "-"
    assert ago(NOW - timedelta(seconds=187), NOW) == "3m07s ago"
    assert ago(None, NOW) == "never"
    assert ago(None, NOW, never="never fetched") == "never fetched"
