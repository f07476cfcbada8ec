"""Exports of failed sub-jobs: CSV, JSON, Markdown; safe with hostile text."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from tui_sample import (
    FROZEN,
    MARKUP_REASON,
    batch_body,
    delete_body,
    sample_servers,
    stop_body,
)

from jobdash.api.model import parse_job
from jobdash.watch.export import default_path, failure_rows, render, write_export


def test_rows_are_the_failed_sub_jobs() -> None:
    rows = failure_rows(parse_job(batch_body()))
    assert [row["error_code"] for row in rows] == ["Ecs.0319", "Ecs.0319"]
    assert rows[0]["resource_id"].startswith("03c0ffee")
    assert rows[0]["status"] == "FAIL"
    assert rows[0]["duration_seconds"] == "138.000"


def test_csv_has_a_header_and_neutralises_formulas() -> None:
    body = stop_body('=HYPERLINK("http://x")')
    text = render(parse_job(body), "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    assert rows[0]["fail_reason"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["job_type"] == "stopServer"


def test_json_has_summary_and_rows() -> None:
    document = json.loads(render(parse_job(batch_body()), "json"))
    assert document["failures_by_error_code"] == [
        {
            "error_code": "Ecs.0319",
            "count": 2,
            "first_reason": "Insufficient resources for flavor s3.xlarge.2 in eu-de-01.",
        }
    ]
    assert len(document["failed_sub_jobs"]) == 2
    assert document["sub_jobs_total"] == 20


def test_markdown_escapes_pipes_and_control_characters() -> None:
    text = render(parse_job(stop_body(MARKUP_REASON + " | x")), "markdown")
    assert "\x1b" not in text
    assert "\\x1b[2J \\| x" in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 2  # header and one failed sub-job
    assert all(line.count(" | ") == table[0].count(" | ") for line in table)


def test_rows_carry_the_servers_behind_failures() -> None:
    infos = {info.server_id: info for info in sample_servers()}
    job = parse_job(batch_body())
    rows = failure_rows(job, infos.get)
    assert [(r["server_name"], r["server_status"]) for r in rows] == [
        ("web-0004", "ERROR"),
        ("", "GONE"),
    ]
    assert rows[0]["server_fault"].startswith("500 No valid host was found")
    text = render(job, "csv", infos.get)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert parsed[0]["server_fault"] == rows[0]["server_fault"]
    assert "| web-0004 | ERROR |" in render(job, "markdown", infos.get)
    # Without what jobdash learned, the columns are there and empty.
    assert failure_rows(job)[0]["server_name"] == ""


def test_a_job_without_failures_exports_nothing() -> None:
    assert failure_rows(parse_job(delete_body())) == []


def test_write_export_refuses_to_overwrite(tmp_path: Path) -> None:
    job = parse_job(batch_body())
    path = default_path(job, "markdown", FROZEN, tmp_path)
    assert path.name == "jobdash-failed-ff80808288d4-20260302-094500.md"
    written = write_export(job, "markdown", path)
    assert written.read_text(encoding="utf-8").startswith("# Failed sub-jobs of createServer")
    with pytest.raises(FileExistsError):
        write_export(job, "markdown", path)


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        render(parse_job(batch_body()), "xml")
