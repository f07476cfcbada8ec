from __future__ import annotations

import pytest

from jobdash.api.errors import ErrorKind, InvalidIdError
from jobdash.api.ids import extract_job_ids, id_problem, validate_id

GOOD = "2c9eb2c5544cbf6101544f0602af2b4f"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "is empty"),
        ("a/b", "contains a slash"),
        ("..", "contains '..'"),
        ("a..b", "contains '..'"),
        ("a b", "contains whitespace"),
        ("a\tb", "contains control characters"),
        ("abc\x1b[2J", "contains control characters"),
        ("x" * 65, "is 65 characters long (at most 64)"),
        ("ab?c=1", "may only contain letters, digits, '-', '_' and '.'"),
        ("%2e%2e", "may only contain letters, digits, '-', '_' and '.'"),
    ],
)
def test_bad_ids_are_named_with_the_reason(value: str, problem: str) -> None:
    assert id_problem(value) == problem
    with pytest.raises(InvalidIdError) as caught:
        validate_id(value, "job id")
    assert caught.value.kind == ErrorKind.INVALID_ID
    assert problem in caught.value.message
    assert "job id" in caught.value.message
    # Control characters are shown escaped, never raw.
    assert "\x1b" not in caught.value.message


def test_good_ids_pass() -> None:
    assert validate_id(GOOD) == GOOD
    assert validate_id("x" * 64) == "x" * 64
    assert validate_id("ff80808288d41e1b018990260955686a", "project id")


def test_extract_from_lines_json_and_text() -> None:
    assert extract_job_ids(f"{GOOD}\n\n# comment\nabc\n") == [GOOD, "abc"]
    body = '{"job_id": "ff80808288d41e1b018990260955686a", "serverIds": ["x"]}'
    assert extract_job_ids(body) == ["ff80808288d41e1b018990260955686a"]
    nested = '[{"result": {"job_id": "a1"}}, {"job_ids": ["b2", "c3"]}]'
    assert extract_job_ids(nested) == ["a1", "b2", "c3"]
    text = f"created job {GOOD} at 12:00, then job {'b' * 32}."
    assert extract_job_ids(text) == [GOOD, "b" * 32]


def test_extract_keeps_junk_for_reporting() -> None:
    assert extract_job_ids("not an id at all\nbad/id") == ["not an id at all", "bad/id"]
    assert extract_job_ids("") == []
