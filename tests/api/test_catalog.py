"""The error-code catalogue: complete against the reference page, tolerant lookups, own wording."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest

from jobdash.api import catalog
from jobdash.api.catalog import ErrorInfo, all_codes, describe, failure_codes, lookup

# CI checks the repository out with the shared docs beside it.
REFERENCE = Path(__file__).parents[2] / ".." / "shared" / "reference" / "error_codes.rst"
CODE_PATTERN = re.compile(r"^[A-Za-z]+\.\d{4}$")


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()


def _reference_rows() -> dict[str, dict[str, str]]:
    """Rows of the RST grid table, keyed by error code, cells joined across continuation lines."""
    if not REFERENCE.is_file():
        pytest.skip(f"reference page not available at {REFERENCE}")
    columns = ("status", "code", "message", "description", "solution")
    rows: dict[str, dict[str, str]] = {}
    cells: list[str] | None = None

    def flush() -> None:
        if cells is None:
            return
        row = dict(zip(columns, (" ".join(cell.split()) for cell in cells), strict=True))
        if CODE_PATTERN.match(row["code"]):
            rows[row["code"]] = row

    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        if line.startswith("+"):
            flush()
            cells = None
        elif line.startswith("|"):
            parts = line.strip().strip("|").split("|")
            if cells is None:
                cells = [""] * len(parts)
            for index, part in enumerate(parts):
                cells[index] += " " + part
    flush()
    assert len(rows) > 100, "the reference table did not parse"
    return rows


def _data() -> dict[str, object]:
    text = resources.files("jobdash").joinpath("data", catalog.DATA_FILE).read_text("utf-8")
    return json.loads(text)


def test_data_file_follows_the_schema() -> None:
    data = _data()
    assert data["schema_version"] == 1
    entries = data["codes"]
    assert isinstance(entries, list) and entries
    seen: set[str] = set()
    for entry in entries:
        assert set(entry) == {"code", "http_status", "message", "meaning", "hint"}, entry
        assert CODE_PATTERN.match(entry["code"]), entry["code"]
        assert entry["code"].casefold() not in seen, f"duplicate {entry['code']}"
        seen.add(entry["code"].casefold())
        assert isinstance(entry["http_status"], int) and 200 <= entry["http_status"] <= 599
        for field in ("message", "meaning", "hint"):
            assert isinstance(entry[field], str) and entry[field].strip(), (entry["code"], field)


def test_every_reference_code_is_catalogued_with_its_status_and_message() -> None:
    for code, row in _reference_rows().items():
        info = lookup(code)
        assert info is not None, f"{code} missing from the catalogue"
        assert info.code == code
        assert info.http_status == int(row["status"]), code
        assert _normalise(info.message) == _normalise(row["message"]), code


def test_meanings_and_hints_are_not_the_reference_wording() -> None:
    for code, row in _reference_rows().items():
        info = lookup(code)
        assert info is not None
        assert _normalise(info.meaning) != _normalise(row["description"]), code
        assert _normalise(info.hint) != _normalise(row["solution"]), code


def test_no_meaning_or_hint_is_empty() -> None:
    for code in all_codes():
        info = lookup(code)
        assert info is not None
        assert info.meaning.strip() and info.hint.strip(), code
        assert info.meaning != info.hint, code


def test_polling_codes_are_catalogued() -> None:
    gone = lookup("Common.0011")
    assert gone is not None and gone.http_status == 400
    assert "purged" in gone.meaning
    throttled = lookup("Common.1503")
    assert throttled is not None and throttled.http_status == 429
    flow_limit = lookup("Common.0024")
    assert flow_limit is not None and flow_limit.http_status == 202
    for code, status in (("APIGW.0301", 401), ("APIGW.0308", 429)):
        info = lookup(code)
        assert info is not None and info.http_status == status


@pytest.mark.parametrize(
    "spelling", ["Ecs.0319", "ecs.0319", "ECS.0319", "  Ecs.0319\n", "\tecs.0319 "]
)
def test_lookup_ignores_case_and_whitespace(spelling: str) -> None:
    info = lookup(spelling)
    assert isinstance(info, ErrorInfo)
    assert info.code == "Ecs.0319"
    assert info.message == "Insufficient resources for this flavor. Try another flavor."


@pytest.mark.parametrize(
    "code", [None, "", "   ", "Ecs.9999", "Ecs.0319x", "Ecs", "0319", "Nova.0001"]
)
def test_unknown_codes_give_none_and_an_empty_description(code: str | None) -> None:
    assert lookup(code) is None
    assert describe(code) == ""


def test_describe_joins_meaning_and_hint() -> None:
    info = lookup("Ecs.0013")
    assert info is not None
    assert describe("ecs.0013") == f"{info.meaning} — {info.hint}"


def test_all_codes_lists_each_code_once_in_file_order() -> None:
    codes = all_codes()
    assert codes == [entry["code"] for entry in _data()["codes"]]
    assert len(set(codes)) == len(codes)
    assert codes[0] == "Ecs.0000"


def test_failure_codes_are_realistic_sub_job_failures() -> None:
    failures = failure_codes()
    codes = {info.code for info in failures}
    # Quota, capacity, network and disk shortages must all be represented.
    assert {"Ecs.0001", "Ecs.0319", "Ecs.0012", "Ecs.0013", "Ecs.0021"} <= codes
    assert len(codes) == len(failures)
    for info in failures:
        assert lookup(info.code) is info
        assert info.code.startswith("Ecs.")
        assert info.http_status is not None and 400 <= info.http_status < 600
