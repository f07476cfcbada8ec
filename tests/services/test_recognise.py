"""Which service a pasted answer comes from: each shape that says so, those that cannot
(a bare `{"job_id": ...}`), and odd input that must never raise."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jobdash.services.recognise import recognise, recognise_text, service_endpoint
from jobdash.services.registry import UnknownServiceError

JOB = "ff80808288d41e1b0189a3c2d0f14b07"


def test_cce_job_objects_and_cluster_or_node_answers() -> None:
    job = {"kind": "Job", "apiVersion": "v3", "metadata": {"uid": "7d2f-uid"}, "spec": {}}
    assert recognise(job) == ("cce", ["7d2f-uid"])
    node = {"kind": "Node", "metadata": {"name": "n"}, "status": {"jobID": "job-7"}}
    assert recognise(node) == ("cce", ["job-7"])
    # A cluster answer without `kind` still names its job in `status.jobID`.
    assert recognise({"metadata": {}, "status": {"jobID": "job-8"}}) == ("cce", ["job-8"])
    # A Kubernetes-style object naming no job is not an answer with a job.
    assert recognise({"kind": "Job", "metadata": {"uid": ""}}) is None
    assert recognise({"kind": "Cluster", "status": {"phase": "Creating"}}) is None


@pytest.mark.parametrize("engine", ["MySQL", "PostgreSQL", "SQLServer", "mysql"])
def test_database_answers_with_a_relational_engine_are_rds(engine: str) -> None:
    answer = {"instance": {"id": "i", "datastore": {"type": engine}}, "job_id": JOB}
    assert recognise(answer) == ("rds", [JOB])


def test_database_answers_of_dds_and_without_an_engine() -> None:
    dds = {"id": "i", "datastore": {"type": "DDS-Community", "version": "4.0"}, "job_id": "j1"}
    assert recognise(dds) == ("dds", ["j1"])
    # RDS and DDS answers look alike without a datastore: not guessed.
    assert recognise({"instance": {"id": "i", "name": "db"}, "job_id": JOB}) is None
    assert recognise({"instance": {"datastore": {"type": "Redis"}}, "job_id": JOB}) is None
    assert recognise({"instance": {"datastore": {"type": 5}}, "job_id": JOB}) is None


def test_elb_answers_name_their_load_balancers() -> None:
    clone = {"job_id": "a41f", "loadbalancer_list": ["lb-1"], "request_id": "r"}
    assert recognise(clone) == ("elb", ["a41f"])
    assert recognise({"job_id": "b52e", "listeners": [{"id": "l"}]}) == ("elb", ["b52e"])
    assert recognise({"job_id": "c", "loadbalancer_list": []}) is None


def test_cbr_operation_logs() -> None:
    assert recognise({"operation_log": {"id": "6e1f", "status": "running"}}) == ("cbr", ["6e1f"])
    page = {"operation_logs": [{"id": "a"}, {"id": "b"}, {"id": "a"}, {"no": "id"}], "count": 4}
    assert recognise(page) == ("cbr", ["a", "b"])
    assert recognise({"operation_logs": [], "count": 0}) is None
    assert recognise({"operation_log": {"id": "  "}}) is None


def test_bare_job_answers_cannot_be_told_apart() -> None:
    assert recognise({"job_id": JOB}) is None
    assert recognise({"job_id": JOB, "order_id": "o"}) is None
    assert recognise({"job_ids": [JOB]}) is None
    assert recognise({"jobId": JOB}) is None


def test_lists_of_answers_of_one_service() -> None:
    nodes = [{"kind": "Node", "status": {"jobID": f"j{n}"}} for n in range(3)]
    assert recognise(nodes) == ("cce", ["j0", "j1", "j2"])
    mixed = [nodes[0], {"operation_log": {"id": "x"}}]
    assert recognise(mixed) is None
    assert recognise([nodes[0], {"job_id": JOB}]) is None
    assert recognise([]) is None


def deep(levels: int) -> Any:
    value: Any = {"job_id": JOB}
    for _ in range(levels):
        value = {"status": value, "kind": "Node"}
    return value


@pytest.mark.parametrize(
    "odd",
    [
        None,
        "",
        "Job",
        42,
        3.5,
        True,
        [None, 1],
        {"kind": None},
        {"kind": "Job", "metadata": "uid"},
        {"kind": "Job", "metadata": {"uid": {"nested": 1}}},
        {"status": {"jobID": None}},
        {"status": {"jobID": ["x"]}},
        {"status": "jobID"},
        {"job_id": None, "instance": {"datastore": {"type": "MySQL"}}},
        {"job_id": "", "datastore": {"type": "DDS-Enhanced"}},
        {"job_id": JOB, "datastore": "MySQL"},
        {"operation_log": None},
        {"operation_log": "6e1f"},
        {"operation_logs": "a,b"},
        {"operation_logs": [None, 1, "a"]},
        {"\ud800": "\udfff"},
        deep(5000),
    ],
)
def test_odd_input_is_not_recognised_and_never_raises(odd: Any) -> None:
    assert recognise(odd) is None


def test_text_is_decoded_once_and_anything_else_is_none() -> None:
    node = json.dumps({"kind": "Node", "status": {"jobID": "job-9"}})
    assert recognise_text(f"\n  {node}\n") == ("cce", ["job-9"])
    assert recognise_text(JOB) is None
    assert recognise_text("{not json") is None
    assert recognise_text("") is None
    assert recognise_text("[" * 100_000 + "]" * 100_000) is None
    # Two answers, one a line: not one document, so not recognised as a whole.
    assert recognise_text(node + "\n" + node) is None


def test_endpoints_move_to_the_chosen_service_in_the_same_region() -> None:
    ecs = "https://ecs.eu-de.otc.t-systems.com"
    assert service_endpoint(ecs, "ecs", "rds") == "https://rds.eu-de.otc.t-systems.com"
    rds = "https://rds.eu-de.otc.t-systems.com"
    assert service_endpoint(rds, "rds", "sfs-turbo") == "https://sfs-turbo.eu-de.otc.t-systems.com"
    assert service_endpoint(rds, "rds", "ecs") == ecs
    # An endpoint not named after its service serves every service as it is.
    assert service_endpoint("http://127.0.0.1:8080", "ecs", "cce") == "http://127.0.0.1:8080"
    assert service_endpoint("https://gw.example.test", "rds", "evs") == "https://gw.example.test"
    # An entry of a service jobdash no longer knows keeps its endpoint's host as it is.
    assert service_endpoint(rds, "gone", "evs") == rds
    with pytest.raises(UnknownServiceError):
        service_endpoint(ecs, "ecs", "s3")
