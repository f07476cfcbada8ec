"""Service endpoints from clouds.yaml: openstacksdk's `<service>_endpoint_override`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobdash.api.errors import ConfigError
from jobdash.config import paths
from jobdash.config.config_file import load_config
from jobdash.config.sources import load_settings

CLOUD = "mycloud"
AUTH = {"auth_url": "https://iam.eu-de.example.test/v3", "project_id": "p", "token": "t"}


def write_clouds(clouds: dict[str, Any]) -> Path:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "openstack" / "clouds.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"clouds": clouds}))
    return path


def settings_of(cloud: dict[str, Any], **env: str) -> Any:
    write_clouds({CLOUD: cloud})
    return load_settings(None, {"OS_CLOUD": CLOUD, **env})


def test_each_services_override_is_read_and_ecs_stays_the_connections_endpoint() -> None:
    settings = settings_of(
        {
            "auth": AUTH,
            "region_name": "eu-de",
            "ecs_endpoint_override": "https://ecs.private.test",
            "evs_endpoint_override": "https://evs.private.test/v2/p",
            "RDS_endpoint_override": " https://rds.private.test ",
            "sfs_turbo_endpoint_override": "https://sfs.private.test",
            "dds_endpoint_override": "",
        }
    )
    assert settings.endpoint == "https://ecs.private.test"
    assert settings.service_endpoints == (
        ("evs", "https://evs.private.test/v2/p"),
        ("rds", "https://rds.private.test"),
        ("sfs-turbo", "https://sfs.private.test"),
    )
    assert settings.endpoint_override("sfs-turbo") == "https://sfs.private.test"
    assert settings.endpoint_override("dds") is None
    assert settings.endpoint_override("ecs") is None


def test_a_regions_values_give_its_own_overrides() -> None:
    cloud = {
        "auth": AUTH,
        "regions": [
            {"name": "eu-de", "values": {"evs_endpoint_override": "https://evs.de.test"}},
            {"name": "eu-nl", "values": {"evs_endpoint_override": "https://evs.nl.test"}},
        ],
    }
    assert settings_of(cloud, OS_REGION_NAME="eu-nl").endpoint_override("evs") == (
        "https://evs.nl.test"
    )
    assert settings_of(cloud, OS_REGION_NAME="eu-de").endpoint_override("evs") == (
        "https://evs.de.test"
    )


def test_without_a_cloud_there_are_none() -> None:
    settings = load_settings(None, {"OS_AUTH_TOKEN": "t", "OS_PROJECT_ID": "p"})
    assert settings.service_endpoints == ()


def test_config_toml_does_not_take_them() -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[connection]\nservice_endpoints = "evs=https://evs.test"\n')
    with pytest.raises(ConfigError, match="unknown key"):
        load_config()
