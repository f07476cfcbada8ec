"""clouds.yaml read by jobdash and by openstacksdk, case by case.

Each case is written to a file, read by openstacksdk's loader (as openstackclient uses
it: --os-cloud / OS_CLOUD names the cloud, the region is --os-region-name or
OS_REGION_NAME) and by jobdash's load_settings, and the two views are compared: auth
URL, user, password, user domain, project, token, region, ECS endpoint and TLS
verification. Where jobdash differs on purpose, the case says so, with the reason and
jobdash's value.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from openstack import exceptions as sdk_exceptions
from openstack.config import loader

from jobdash.api.errors import ConfigError
from jobdash.config.settings import Settings
from jobdash.config.sources import load_settings

FIELDS = (
    "auth_url",
    "username",
    "password",
    "user_domain_name",
    "user_domain_id",
    "project_id",
    "project_name",
    "token",
    "region",
    "endpoint",
    "verify",
)
LOGIN = {"username": "alice", "password": "pw", "user_domain_name": "OTC00000000001000000042"}
IAM = "https://iam.example.test/v3"
RAISES = "raises"


@dataclass(frozen=True)
class Case:
    id: str
    clouds: dict[str, Any]
    cloud: str | None = "c"
    env: dict[str, str] = field(default_factory=dict)
    region: str | None = None
    secure: dict[str, Any] | None = None
    #: Written as JSON with tab indentation instead of YAML.
    as_json: bool = False
    #: field -> (jobdash's value, why it differs from openstacksdk); RAISES as the
    #: field "error" when jobdash refuses the case on purpose.
    differs: dict[str, tuple[Any, str]] = field(default_factory=dict)


CASES = [
    Case("password in auth", {"c": {"auth": {"auth_url": IAM, **LOGIN, "project_name": "eu-de"}}}),
    Case(
        "profile otc without auth_url",
        {"c": {"profile": "otc", "auth": {**LOGIN, "project_name": "eu-de_x"}}},
    ),
    Case(
        "profile otc, region from the flag",
        {"c": {"profile": "otc", "auth": {**LOGIN, "project_name": "eu-nl_x"}}},
        region="eu-nl",
    ),
    Case(
        "profile otc, region from OS_REGION_NAME",
        {"c": {"profile": "otc", "auth": {**LOGIN, "project_name": "eu-nl_x"}}},
        env={"OS_REGION_NAME": "eu-nl"},
    ),
    Case(
        "legacy `cloud: otc` key",
        {"c": {"cloud": "otc", "auth": {**LOGIN, "project_name": "p"}}},
    ),
    Case(
        "profile otc-swiss",
        {"c": {"profile": "otc-swiss", "auth": {**LOGIN, "project_name": "eu-ch2"}}},
        differs={
            "auth_url": (
                "https://iam-pub.eu-ch2.sc.otc.t-systems.com/v3",
                "openstacksdk's otc-swiss profile has no scheme, which keystoneauth cannot use",
            )
        },
    ),
    Case(
        "profile otc with region eu-ch2",
        {"c": {"profile": "otc", "region_name": "eu-ch2", "auth": {**LOGIN, "project_id": "p"}}},
        differs={
            "auth_url": (
                "https://iam-pub.eu-ch2.sc.otc.t-systems.com/v3",
                "eu-ch2 serves IAM at iam-pub.eu-ch2.sc.otc.t-systems.com; the otc "
                "template gives a host that does not exist",
            )
        },
    ),
    Case(
        "{region_name} in auth_url",
        {
            "c": {
                "regions": ["eu-nl", "eu-de"],
                "auth": {"auth_url": "https://iam.{region_name}.otc.t-systems.com/v3", **LOGIN},
            }
        },
    ),
    Case(
        "%(region_name)s in auth_url",
        {
            "c": {
                "region_name": "eu-nl",
                "auth": {"auth_url": "https://iam.%(region_name)s.otc.t-systems.com/v3", **LOGIN},
            }
        },
        differs={
            "auth_url": (
                "https://iam.eu-nl.otc.t-systems.com/v3",
                "the Python %-style placeholder is filled too (openstacksdk leaves it as text)",
            )
        },
    ),
    Case(
        "named cloud with stray environment credentials",
        {"c": {"auth": {"auth_url": IAM, **LOGIN, "project_id": "p1"}}},
        cloud=None,
        env={
            "OS_CLOUD": "c",
            "OS_AUTH_TOKEN": "stale-token",
            "OS_ACCESS_KEY": "AK",
            "OS_SECRET_KEY": "SK",
            "OS_PROJECT_NAME": "other-project",
            "OS_USERNAME": "bob",
        },
    ),
    Case(
        "the only cloud, no OS_CLOUD",
        {"only": {"region_name": "eu-de", "auth": {"auth_url": IAM, **LOGIN, "project_id": "p"}}},
        cloud=None,
    ),
    Case(
        "user_domain_id",
        {
            "c": {
                "auth": {
                    "auth_url": IAM,
                    "username": "u",
                    "user_domain_id": "d1",
                    "project_id": "p",
                }
            }
        },
    ),
    Case(
        "domain_name at the cloud level",
        {"c": {"domain_name": "D", "auth": {"auth_url": IAM, "username": "u", "project_id": "p"}}},
    ),
    Case(
        "auth keys flat at the cloud level",
        {"c": {"auth_url": IAM, "username": "u", "password": "pw", "project_name": "p"}},
    ),
    Case(
        "auth keys with dashes",
        {
            "c": {
                "auth": {
                    "auth-url": IAM,
                    "username": "u",
                    "user-domain-name": "D",
                    "project-id": "p",
                }
            }
        },
    ),
    Case(
        "cloud-level project_name beats auth's",
        {"c": {"project_name": "outer", "auth": {"auth_url": IAM, "project_name": "inner"}}},
    ),
    Case(
        "tenant_name and tenant_id",
        {"c": {"auth": {"auth_url": IAM, "tenant_name": "t", "tenant_id": "tid"}}},
    ),
    Case(
        "regions with values",
        {
            "c": {
                "auth": {"auth_url": IAM, "project_id": "p"},
                "regions": [
                    {"name": "eu-de", "values": {"ecs_endpoint_override": "https://ecs.de.test"}},
                    {"name": "eu-nl", "values": {"ecs_endpoint_override": "https://ecs.nl.test"}},
                ],
            }
        },
        region="eu-nl",
    ),
    Case(
        "region_name as a list",
        {"c": {"region_name": ["eu-nl", "eu-de"], "auth": {"auth_url": IAM, "project_id": "p"}}},
    ),
    Case(
        "OS_REGION_NAME outside the cloud's regions",
        {"c": {"regions": ["eu-de"], "auth": {"auth_url": IAM, "project_id": "p"}}},
        env={"OS_REGION_NAME": "eu-nl"},
    ),
    Case(
        "password with spaces",
        {
            "c": {
                "auth": {"auth_url": IAM, "username": "u", "password": "  pw  ", "project_id": "p"}
            }
        },
    ),
    Case(
        "numeric password",
        {"c": {"auth": {"auth_url": IAM, "username": "u", "password": 123456, "project_id": "p"}}},
    ),
    Case(
        "ecs_endpoint alias",
        {"c": {"ecs_endpoint": "https://ecs.test", "auth": {"auth_url": IAM, "project_id": "p"}}},
    ),
    Case(
        "verify with a CA path",
        {"c": {"verify": "/etc/ssl/ca.pem", "auth": {"auth_url": IAM, "project_id": "p"}}},
    ),
    Case(
        "verify false",
        {"c": {"verify": False, "auth": {"auth_url": IAM, "project_id": "p"}}},
    ),
    Case(
        "cacert",
        {"c": {"cacert": "/etc/ssl/ca.pem", "auth": {"auth_url": IAM, "project_id": "p"}}},
    ),
    Case(
        "clouds.json with tabs",
        {"c": {"region_name": "eu-de", "auth": {"auth_url": IAM, **LOGIN, "project_id": "p"}}},
        as_json=True,
    ),
    Case(
        "password from secure.yaml",
        {"c": {"auth": {"auth_url": IAM, "username": "u", "project_id": "p"}}},
        secure={"c": {"auth": {"password": "from-secure"}}},
    ),
    Case(
        "ak/sk at the cloud level",
        {
            "c": {
                "ak": "AK",
                "sk": "SK",
                "region_name": "eu-de",
                "auth": {"auth_url": IAM, "project_id": "p"},
            }
        },
    ),
    Case(
        "auth_type token",
        {"c": {"auth_type": "token", "auth": {"auth_url": IAM, "token": "t", "project_id": "p"}}},
    ),
    Case(
        "auth_type v3applicationcredential",
        {
            "c": {
                "auth_type": "v3applicationcredential",
                "auth": {
                    "auth_url": IAM,
                    "application_credential_id": "id",
                    "application_credential_secret": "secret",
                },
            }
        },
        differs={"error": (RAISES, "jobdash cannot log in with application credentials")},
    ),
]


def write_case(case: Case, directory: Path) -> dict[str, str]:
    """Write the case's files; returns the environment variables that point at them."""
    if case.as_json:
        path = directory / "clouds.json"
        path.write_text(json.dumps({"clouds": case.clouds}, indent="\t"))
    else:
        path = directory / "clouds.yaml"
        path.write_text(yaml.safe_dump({"clouds": case.clouds}))
    secure = directory / "secure.yaml"
    if case.secure is not None:
        secure.write_text(yaml.safe_dump({"clouds": case.secure}))
    return {"OS_CLIENT_CONFIG_FILE": str(path), "OS_CLIENT_SECURE_FILE": str(secure)}


def sdk_view(case: Case, files: dict[str, str], env: dict[str, str]) -> dict[str, Any] | str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notes about legacy keys
        try:
            config = loader.OpenStackConfig(
                config_files=[files["OS_CLIENT_CONFIG_FILE"]],
                secure_files=[files["OS_CLIENT_SECURE_FILE"]],
                vendor_files=[],
            )
            region = config.get_one(
                cloud=case.cloud, region_name=case.region or env.get("OS_REGION_NAME")
            )
        except sdk_exceptions.ConfigException:
            return RAISES
    auth = region.config["auth"]
    view = {name: auth.get(name) for name in FIELDS if name in auth}
    view["region"] = region.region_name or None
    view["endpoint"] = region.get_endpoint("ecs")
    view["verify"] = region.get_requests_verify_args()[0]
    return {name: view.get(name) for name in FIELDS}


def jobdash_view(case: Case, env: dict[str, str]) -> dict[str, Any] | str:
    flags = {"os_cloud": case.cloud, "region": case.region}
    try:
        settings: Settings = load_settings(flags, env)
    except ConfigError:
        return RAISES
    view = {name: getattr(settings, name, None) for name in FIELDS}
    view["verify"] = False if settings.insecure else (settings.ca_file or True)
    return view


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_jobdash_reads_clouds_yaml_as_openstacksdk_does(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**write_case(case, tmp_path), **case.env}
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    expected = sdk_view(case, env, env)
    actual = jobdash_view(case, env)

    if "error" in case.differs:
        assert actual == case.differs["error"][0]
        assert expected != RAISES
        return
    assert expected is not None
    if isinstance(expected, str) or isinstance(actual, str):
        assert actual == expected
        return
    for name, (value, _reason) in case.differs.items():
        assert actual[name] == value, name
        assert expected[name] != value, f"{name} no longer differs: drop it from the case"
        expected[name] = value
    assert actual == expected


def test_every_compared_field_is_set_in_some_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A column that is None in every case would compare nothing."""
    seen: set[str] = set()
    for index, case in enumerate(CASES):
        directory = tmp_path / str(index)
        directory.mkdir()
        with monkeypatch.context() as patch:
            env = {**write_case(case, directory), **case.env}
            for name, value in env.items():
                patch.setenv(name, value)
            view = jobdash_view(case, env)
        if isinstance(view, dict):
            seen |= {name for name, value in view.items() if value not in (None, True)}
    assert seen == set(FIELDS)
