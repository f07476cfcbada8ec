"""API bodies that are valid JSON yet hostile: lone surrogates, deep nesting, C1 controls.

Each goes through the real path: the simulator serves it over loopback, the CLI runs as a
subprocess (a real UTF-8 stdout, where a lone surrogate cannot be written), the store is a
real SQLite file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_helpers import connection_flags, run_process, subprocess_env_for

from jobdash.api.model import parse_job, raw_dict
from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.text.jsonsafe import MAX_DEPTH, clean_json, cut_marker, json_text
from jobdash.text.safe import printable, without_controls
from jobdash.watch.export import write_export
from jobdash.watch.values import PollUpdate, WatchEntry, WatchKey

JOB_ID = "0123456789abcdef0123456789abcdef"
SURROGATE_BODY = {
    "job_id": JOB_ID,
    "job_type": "createServer",
    "status": "FAIL",
    "fail_reason": "bad \udc00 half",
    "error_code": "Ecs.\ud83d",
    "entities": {"sub_jobs": [{"job_id": "s\udc01", "status": "FAIL", "fail_reason": "x\ud800"}]},
}


def nested(depth: int) -> dict:
    body: dict = {"leaf": True}
    for _ in range(depth):
        body = {"inner": body}
    return body


# -- lone surrogates ---------------------------------------------------------------------


def test_model_replaces_lone_surrogates() -> None:
    job = parse_job(SURROGATE_BODY)
    assert job.fail_reason == "bad \ufffd half"
    assert job.error_code == "Ecs.\ufffd"
    assert job.sub_jobs[0].job_id == "s\ufffd"
    assert json.dumps(raw_dict(job), ensure_ascii=False).encode("utf-8")
    assert printable("a\udc00b") == "a\ufffdb"


def test_status_text_and_json_survive_a_lone_surrogate(
    simulator: Simulator, subprocess_env: dict[str, str]
) -> None:
    simulator.put_job(SURROGATE_BODY)
    env = subprocess_env_for(simulator, subprocess_env)
    text = run_process(["status", *connection_flags(simulator), JOB_ID], env)
    assert text.code == 0, text.err
    assert "Traceback" not in text.err
    assert "x\ufffd" in text.out  # the failed sub-job's reason
    as_json = run_process(["status", "--json", *connection_flags(simulator), JOB_ID], env)
    assert as_json.code == 0, as_json.err
    (job,) = json.loads(as_json.out)
    assert job["fail_reason"] == "bad \ufffd half"
    assert job["entities"]["sub_jobs"][0]["fail_reason"] == "x\ufffd"


def test_the_store_saves_text_with_lone_surrogates(tmp_path: Path) -> None:
    key = WatchKey("https://ecs.example", "p" * 32, JOB_ID)
    with Store(tmp_path / "w.sqlite3") as store:
        store.add([WatchEntry(key, label="lab\udcffel")])
        job = parse_job({**SURROGATE_BODY, "status": "ST\udc00"})
        store.record(PollUpdate(key, datetime.now(UTC), job=job))
        snapshot = store.snapshot(key)
        assert snapshot is not None and snapshot.job is not None
        assert snapshot.job.status == "ST\ufffd"
        assert snapshot.job.fail_reason == "bad \ufffd half"
        assert store.entries()[0].label == "lab\ufffdel"


def test_export_with_a_lone_surrogate_writes_the_whole_file(tmp_path: Path) -> None:
    # The model cleans what it parses; export must also hold when handed raw text.
    job = parse_job(SURROGATE_BODY)
    object.__setattr__(job, "fail_reason", "raw \udc00")
    for fmt in ("csv", "json", "markdown"):
        path = write_export(job, fmt, tmp_path / f"out.{fmt}")
        content = path.read_text(encoding="utf-8")
        assert "\ufffd" in content and len(content) > 50


# -- depth -------------------------------------------------------------------------------


def test_clean_json_cuts_deep_nesting_without_recursing() -> None:
    deep: object = "bottom"
    for _ in range(200_000):  # far beyond any recursion limit
        deep = [deep]
    cut = clean_json(deep, 5)
    for _ in range(5):
        assert isinstance(cut, list) and len(cut) == 1
        cut = cut[0]
    assert cut == cut_marker(5)
    text = json_text(nested(900))
    assert cut_marker(MAX_DEPTH) in text
    assert text.count("inner") == MAX_DEPTH
    json.loads(text)


def test_status_json_of_a_900_level_body_is_cut_not_a_traceback(
    simulator: Simulator, subprocess_env: dict[str, str]
) -> None:
    simulator.put_job({"job_id": JOB_ID, "status": "SUCCESS", "entities": nested(900)})
    env = subprocess_env_for(simulator, subprocess_env)
    result = run_process(["status", "--json", *connection_flags(simulator), JOB_ID], env)
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    (job,) = json.loads(result.out)
    assert cut_marker(MAX_DEPTH) in json.dumps(job, ensure_ascii=False)
    text = run_process(["status", *connection_flags(simulator), JOB_ID], env)
    assert text.code == 0, text.err
    assert "SUCCESS" in text.out


# -- control characters ------------------------------------------------------------------


def test_json_output_escapes_c1_controls(
    simulator: Simulator, subprocess_env: dict[str, str]
) -> None:
    simulator.put_job(
        {"job_id": JOB_ID, "status": "FAIL", "fail_reason": "csi \x9b31m red \u202e rtl \x7f"}
    )
    env = subprocess_env_for(simulator, subprocess_env)
    result = run_process(["status", "--json", *connection_flags(simulator), JOB_ID], env)
    assert result.code == 0, result.err
    assert "\x9b" not in result.out and "\u202e" not in result.out and "\x7f" not in result.out
    assert "\\u009b31m" in result.out and "\\u202e" in result.out
    (job,) = json.loads(result.out)
    assert job["fail_reason"] == "csi \x9b31m red \u202e rtl \x7f"  # same value, escaped form


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("abc\x1b[31m", "abc[31m"), ("id\x9b2J", "id2J"), ("a\u202eb\nc\td", "abcd")],
)
def test_without_controls_removes_control_characters(raw: str, clean: str) -> None:
    assert without_controls(raw) == clean
