"""The registry finds every service module."""

from __future__ import annotations

from jobdash.services.registry import service, services


def test_every_service_is_listed() -> None:
    assert list(services()) == [
        "ecs",
        "bms",
        "cbr",
        "cce",
        "dcs",
        "dds",
        "deh",
        "elb",
        "evs",
        "ims",
        "rds",
        "sfs-turbo",
        "vbs",
    ]


def test_names_hosts_and_titles() -> None:
    assert service("sfs_turbo").title == "SFS Turbo"
    for name, known in services().items():
        # DEH's jobs answer at the ECS endpoint.
        assert known.host == ("ecs" if name == "deh" else name)
        assert known.title
        assert "{" not in known.job_path("p", "j")


def test_services_with_a_list_of_recent_jobs() -> None:
    listed = sorted(name for name, known in services().items() if known.listing is not None)
    assert listed == ["cbr", "cce", "elb", "rds"]
