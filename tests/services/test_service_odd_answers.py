"""Every adapter takes odd but parseable answers without raising, and leaves a body that is
not an object as it came, for the model to refuse."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from service_helpers import BODIES, decoded, read_value

from jobdash.api.model import ResponseShapeError, parse_job
from jobdash.services.registry import services

#: Each sample answer and the service that gives it.
SAMPLES = {
    path.name: services()[path.name.split("_")[0].replace("sfs", "sfs-turbo")]
    for path in sorted(BODIES.glob("*.json"))
    if "list" not in path.name and "tasklist" not in path.name
}
ODD_VALUES: tuple[Any, ...] = (None, "", " ", [], {}, 7, -1.5, True, "junk", [None, 3], {"x": {}})


def _places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key and list position inside a decoded answer."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*path, key)
            yield from _places(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield (*path, index)
            yield from _places(inner, (*path, index))


def _with(answer: Any, path: tuple[Any, ...], odd: Any) -> Any:
    changed = copy.deepcopy(answer)
    holder = changed
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = copy.deepcopy(odd)
    return changed


def _read_everything(service: Any, answer: Any) -> None:
    job = read_value(service, answer)
    # What the views ask of a job, sub-jobs included.
    job.failure_summary()
    assert len(job.sub_jobs) == job.sub_job_count
    for sub in job.sub_jobs:
        _ = (sub.resource_id, sub.errorcode_message, sub.duration())
    _ = (job.sub_job_keys, job.sub_job_marks, job.latest_sub_job_end, job.duration())


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_any_field_of_any_type_is_read_without_raising(sample: str) -> None:
    service = SAMPLES[sample]
    answer = decoded(sample)
    places = list(_places(answer))
    assert places
    for path in places:
        for odd in ODD_VALUES:
            _read_everything(service, _with(answer, path, odd))


@pytest.mark.parametrize("name", sorted(services()))
@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"job": None},
        {"job": "x"},
        {"job": []},
        {"operation_log": None},
        {"operation_log": 5},
        {"status": None, "entities": None},
        {"status": {"phase": None}, "spec": "x", "metadata": []},
        {"spec": {"subJobs": [None, 1, "x", {"spec": {"subJobs": None}}]}},
        {"entities": {"sub_jobs_result": [None, {}], "results": [1, {}], "sub_jobs_list": "x"}},
        {"sub_jobs": [None, {"entities": "x"}], "entities": []},
        {"job": {"sub_jobs": [{"entities": [None, {"resource_id": 5}]}], "instance": "x"}},
        {"error_code": "DBS.200543", "error_msg": "The job does not exist."},
    ],
)
def test_odd_shapes_read_as_jobs(name: str, answer: dict[str, Any]) -> None:
    _read_everything(services()[name], answer)


@pytest.mark.parametrize("name", sorted(services()))
@pytest.mark.parametrize("answer", [None, [], [{"job": {}}], "job", 3, True])
def test_a_body_that_is_not_an_object_is_left_for_the_model_to_refuse(
    name: str, answer: Any
) -> None:
    service = services()[name]
    adapted = service.read(answer)
    assert adapted is answer
    with pytest.raises(ResponseShapeError):
        parse_job(adapted)


@pytest.mark.parametrize("name", sorted(services()))
def test_a_missing_wrapper_does_not_invent_a_status(name: str) -> None:
    job = read_value(services()[name], {"request_id": "r1"})
    assert job.status == "UNKNOWN"


@pytest.mark.parametrize("name", sorted(services()))
@pytest.mark.parametrize("answer", [None, "x", [], {}, {"job_id": None}, {"job_id": ""}, 5])
def test_create_answers_without_a_job_name_none(name: str, answer: Any) -> None:
    job_ids_in = services()[name].job_ids_in
    if job_ids_in is not None:
        assert job_ids_in(answer) == []


@pytest.mark.parametrize("name", sorted(services()))
@pytest.mark.parametrize("page", [None, "x", [], {}, [None, 1, {}], {"jobs": {}}, {"tasks": [1]}])
def test_odd_list_pages_list_nothing(name: str, page: Any) -> None:
    listing = services()[name].listing
    if listing is not None:
        assert listing.read(page) == []
