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


# -- the other services' tables -------------------------------------------------------------

SERVICE_TABLES = [service for service in catalog.SERVICE_FILES if service != "ecs"]


def _service_data(service: str) -> dict[str, object]:
    name = catalog.SERVICE_FILES[service]
    return json.loads(resources.files("jobdash").joinpath("data", name).read_text("utf-8"))


def test_the_watched_services_have_tables() -> None:
    assert catalog.services()[0] == "ecs"
    assert {"evs", "ims", "rds", "cce", "cbr"} <= set(catalog.services())


@pytest.mark.parametrize("service", SERVICE_TABLES)
def test_service_table_loads_with_unique_codes_and_own_wording(service: str) -> None:
    data = _service_data(service)
    assert data["schema_version"] == 1
    entries = data["codes"]
    assert isinstance(entries, list) and entries
    seen: set[str] = set()
    for entry in entries:
        assert set(entry) == {"code", "http_status", "message", "meaning", "hint"}, entry
        code = entry["code"]
        assert code == code.strip() and code.casefold() not in seen, f"duplicate {code}"
        seen.add(code.casefold())
        status = entry["http_status"]
        assert status is None or (isinstance(status, int) and 400 <= status <= 599), code
        for field in ("message", "meaning", "hint"):
            assert isinstance(entry[field], str) and entry[field].strip(), (code, field)
        assert entry["meaning"] != entry["hint"], code
        assert _normalise(entry["meaning"]) != _normalise(entry["message"]), code
    assert all_codes(service) == [entry["code"] for entry in entries]


@pytest.mark.parametrize(
    ("code", "service", "status", "message_part"),
    [
        ("EVS.2024", "evs", 500, "volume is error"),
        ("evs.1034", "evs", 400, "volume count exceeded"),
        ("IMG.0057", "ims", 400, "image file"),
        ("IMG.0060", "ims", 400, "flow control"),
        ("DBS.200543", "rds", 400, "job does not exist"),
        ("CCE.01400008", "cce", 400, "server quota"),
        ("CCE.01404001", "cce", 404, "Resource not found"),
        ("BackupService.6500", "cbr", 404, "operation log does not exist"),
        (" backupservice.6125 ", "cbr", 400, "backup task is in progress"),
        ("DCS.4842", "dcs", 500, "job execution"),
        ("111400017", "dcs", 400, "still running"),
        ("SFS.TURBO.0019", "sfs-turbo", 404, "Invalid Job Id"),
    ],
)
def test_a_code_alone_finds_its_service_table(
    code: str, service: str, status: int, message_part: str
) -> None:
    info = lookup(code)
    assert info is not None, code
    assert info.service == service
    assert info.code.casefold() == code.strip().casefold()
    assert info.http_status == status
    assert message_part.casefold() in info.message.casefold()
    assert lookup(code, service) is info
    assert describe(code) == f"{info.meaning} — {info.hint}"


def test_shared_common_codes_answer_from_ecs_unless_a_service_is_given() -> None:
    ecs = lookup("Common.0011")
    assert ecs is not None and ecs.service == "ecs" and "purged" in ecs.meaning
    evs = lookup("common.0011", service="evs")
    assert evs is not None and evs.service == "evs"
    assert evs.code == "Common.0011" and evs.message == "query job fail."
    assert evs.meaning != ecs.meaning
    assert describe("Common.0011", "EVS") == f"{evs.meaning} — {evs.hint}"
    # A service without its own entry for the code falls back to the shared lookup.
    assert lookup("Common.0011", service="cbr") is ecs
    assert lookup("Ecs.0319", service="evs") is lookup("Ecs.0319")


@pytest.mark.parametrize("spelling", ["sfs-turbo", "sfs_turbo", "SFS Turbo", " SFS-TURBO "])
def test_service_names_are_read_leniently(spelling: str) -> None:
    info = lookup("SFS.TURBO.0011", service=spelling)
    assert info is not None and info.service == "sfs-turbo"
    assert all_codes(spelling)[0] == "SFS.TURBO.0001"


@pytest.mark.parametrize(
    ("code", "service"),
    [
        ("EVS.9999", "evs"),
        ("IMG.9999", None),
        ("DBS.999999", "rds"),
        ("CCE.09999999", "cce"),
        ("BackupService.0000", "cbr"),
        ("EVS.2024x", None),
        ("", "evs"),
        (None, "ims"),
    ],
)
def test_unknown_codes_give_none_in_every_service(code: str | None, service: str | None) -> None:
    assert lookup(code, service) is None
    assert describe(code, service) == ""


def test_an_unknown_service_is_ignored() -> None:
    assert lookup("EVS.2024", service="nosuch") is lookup("EVS.2024")
    assert lookup("Common.0011", service="nosuch") is lookup("Common.0011")
    assert all_codes("nosuch") == []
