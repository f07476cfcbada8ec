"""clouds.yaml beyond the openstacksdk parity table: jobdash's messages and what it then does.

Vendor profiles, region checks, the notes a named cloud prints, user domain ids and
passwords with spaces end to end against the simulator, and the file formats.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_helpers import run_cli

from jobdash.api.errors import ConfigError
from jobdash.auth.methods import PasswordAuth
from jobdash.config.regions import ecs_endpoint
from jobdash.config.settings import require_complete
from jobdash.config.sources import load_settings
from jobdash.connections.connection import build_auth, open_connection
from jobdash.simulator import Simulator
from jobdash.simulator.iam import DOMAIN_ID

LOGIN = {"username": "alice", "password": "pw", "user_domain_name": "D", "project_name": "p"}


def write_clouds(clouds: dict[str, Any], directory: Path | None = None) -> Path:
    directory = directory or Path(os.environ["XDG_CONFIG_HOME"]) / "openstack"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "clouds.yaml"
    path.write_text(yaml.safe_dump({"clouds": clouds}))
    return path


def sim_cloud(sim: Simulator, **auth: Any) -> dict[str, Any]:
    """A password cloud that logs in to the simulator's IAM."""
    creds = sim.credentials
    values = {
        "auth_url": sim.auth_url,
        "username": creds.username,
        "password": creds.password,
        "user_domain_name": creds.user_domain_name,
        "project_name": creds.project_name,
    }
    values.update(auth)
    return {"auth": {k: v for k, v in values.items() if v is not None}}


# -- vendor profiles and regions ---------------------------------------------------------


def test_profile_otc_gives_the_iam_url_so_the_settings_are_complete() -> None:
    write_clouds({"otc": {"profile": "otc", "auth": LOGIN}})
    settings = load_settings({"os_cloud": "otc"}, {})
    assert settings.auth_url == "https://iam.eu-de.otc.t-systems.com/v3"
    assert settings.region == "eu-de"
    require_complete(settings)


def test_a_region_outside_the_profile_is_refused_with_the_choices() -> None:
    write_clouds({"otc": {"profile": "otc", "auth": LOGIN}})
    with pytest.raises(ConfigError) as caught:
        load_settings({"os_cloud": "otc"}, {"OS_REGION_NAME": "eu-ch2"})
    message = str(caught.value)
    assert "region 'eu-ch2' is not a region of cloud 'otc' (its regions: eu-de, eu-nl)" in message


def test_the_region_flag_is_checked_too_and_beats_os_region_name() -> None:
    write_clouds({"c": {"regions": ["eu-de", "eu-nl"], "auth": LOGIN}})
    env = {"OS_REGION_NAME": "eu-nl"}
    assert load_settings({"os_cloud": "c", "region": "eu-de"}, env).region == "eu-de"
    with pytest.raises(ConfigError, match="'xx-yy' is not a region of cloud 'c'"):
        load_settings({"os_cloud": "c", "region": "xx-yy"}, env)


def test_region_name_as_a_comma_list_and_values_per_region() -> None:
    write_clouds(
        {
            "c": {"region_name": "eu-de,eu-nl", "auth": LOGIN},
            "v": {
                "regions": [
                    "eu-de",
                    {"name": "eu-nl", "values": {"auth": {"project_name": "eu-nl_team"}}},
                ],
                "auth": LOGIN,
            },
        }
    )
    assert load_settings({"os_cloud": "c", "region": "eu-nl"}, {}).region == "eu-nl"
    nl = load_settings({"os_cloud": "v", "region": "eu-nl"}, {})
    assert (nl.project_name, nl.username) == ("eu-nl_team", "alice")
    assert load_settings({"os_cloud": "v"}, {}).project_name == "p"


@pytest.mark.parametrize(
    "regions",
    [{"eu-de": 1}, [{"name": "eu-de", "extra": 1}], [{"values": {}}]],
)
def test_malformed_regions_are_reported(regions: Any) -> None:
    write_clouds({"c": {"regions": regions, "auth": LOGIN}})
    with pytest.raises(ConfigError, match=r"cloud 'c': .*regions"):
        load_settings({"os_cloud": "c"}, {})


def test_unknown_profile_is_named_in_a_note() -> None:
    write_clouds({"c": {"profile": "nocloud", "auth": {**LOGIN, "auth_url": "https://iam/v3"}}})
    settings = load_settings({"os_cloud": "c"}, {})
    assert settings.notes == (
        "cloud 'c': vendor profile 'nocloud' is not one jobdash knows (otc, otc-swiss); "
        "only the entry's own settings are used",
    )


def test_region_placeholders_in_an_environment_auth_url() -> None:
    env = {**{f"OS_{k.upper()}": v for k, v in LOGIN.items()}, "OS_REGION_NAME": "eu-nl"}
    env["OS_AUTH_URL"] = "https://iam.%(region_name)s.otc.t-systems.com/v3"
    assert load_settings(None, env).auth_url == "https://iam.eu-nl.otc.t-systems.com/v3"
    del env["OS_REGION_NAME"]
    with pytest.raises(ConfigError, match=r"depends on the region \(\{region_name\}\)"):
        load_settings(None, env)


def test_swiss_region_endpoint() -> None:
    assert ecs_endpoint("eu-ch2") == "https://ecs.eu-ch2.sc.otc.t-systems.com"
    assert ecs_endpoint("eu-nl") == "https://ecs.eu-nl.otc.t-systems.com"


# -- auth types, domains, passwords -----------------------------------------------------


def test_application_credentials_are_reported_as_unsupported() -> None:
    write_clouds(
        {
            "c": {
                "auth_type": "v3applicationcredential",
                "auth": {"application_credential_id": "i", "application_credential_secret": "s"},
            }
        }
    )
    with pytest.raises(ConfigError) as caught:
        load_settings({"os_cloud": "c"}, {})
    message = str(caught.value)
    assert "auth_type 'v3applicationcredential', which jobdash does not support" in message
    assert "no credentials" not in message


def test_auth_type_token_chooses_the_token_over_a_password() -> None:
    write_clouds({"c": {"auth_type": "token", "auth": {**LOGIN, "token": "t"}}})
    settings = load_settings({"os_cloud": "c"}, {})
    assert (settings.auth_method, settings.password) == ("token", None)


def test_user_domain_id_from_the_environment_completes_a_password_login() -> None:
    env = {
        "OS_AUTH_URL": "https://iam.example.test/v3",
        "OS_USERNAME": "alice",
        "OS_PASSWORD": "pw",
        "OS_USER_DOMAIN_ID": "d-id",
        "OS_PROJECT_NAME": "p",
    }
    settings = load_settings(None, env)
    require_complete(settings)
    auth = build_auth(settings)
    assert isinstance(auth, PasswordAuth)
    body = json.loads(auth.login_request().content)
    user = body["auth"]["identity"]["password"]["user"]
    assert user["domain"] == {"id": "d-id"}
    assert body["auth"]["scope"]["project"] == {"name": "p", "domain": {"id": "d-id"}}


def test_passwords_keep_their_spaces_from_every_source() -> None:
    write_clouds({"c": {"auth": {**LOGIN, "auth_url": "https://iam/v3", "password": " a b "}}})
    settings = load_settings({"os_cloud": "c"}, {})
    assert settings.password == " a b "
    env = {f"OS_{k.upper()}": v for k, v in LOGIN.items()} | {"OS_PASSWORD": "  x  "}
    env["OS_AUTH_URL"] = "https://iam/v3"
    ambient = load_settings(None, env)
    assert ambient.password == "  x  "
    auth = build_auth(ambient)
    body = json.loads(auth.login_request().content)  # type: ignore[attr-defined]
    assert body["auth"]["identity"]["password"]["user"]["password"] == "  x  "


# -- against the simulator ---------------------------------------------------------------


async def test_named_cloud_logs_in_with_its_password_despite_a_stale_token(
    simulator: Simulator,
) -> None:
    write_clouds({"sim": sim_cloud(simulator)})
    env = {"OS_CLOUD": "sim", "OS_AUTH_TOKEN": "stale-token-from-an-old-shell"}
    settings = load_settings(None, env)
    job_id = simulator.create_servers(1)
    async with await open_connection(settings) as connection:
        assert (await connection.client.get_job(job_id)).job_id == job_id
    assert simulator.stats()["tokens_issued"] == 1
    assert connection.warnings[0] == (
        "ignored OS_AUTH_TOKEN: cloud 'sim' logs in with its own credentials (flags still apply)"
    )


async def test_user_domain_id_logs_in_to_the_simulator(simulator: Simulator) -> None:
    write_clouds({"sim": sim_cloud(simulator, user_domain_name=None, user_domain_id=DOMAIN_ID)})
    async with await open_connection(load_settings({"os_cloud": "sim"}, {})) as connection:
        assert connection.project_id == simulator.project_id


def test_the_only_cloud_is_used_by_the_cli_and_it_says_so(
    simulator: Simulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    creds = simulator.credentials
    path = write_clouds(
        {
            "lab": {
                "ak": creds.access_key,
                "sk": creds.secret_key,
                "ecs_endpoint": simulator.url,
                "auth": {"project_id": simulator.project_id},
            }
        }
    )
    job_id = simulator.create_servers(2)
    result = run_cli(["status", "--json", job_id], capsys, monkeypatch)
    assert result.code == 0, result.err
    assert [job["job_id"] for job in result.json()] == [job_id]
    assert f"using cloud 'lab', the only one in {path}" in result.err


# -- files -------------------------------------------------------------------------------


def test_site_config_dir_is_searched(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    site = tmp_path / "site"
    monkeypatch.setenv("XDG_CONFIG_DIRS", f"{site}{os.pathsep}/elsewhere")
    path = write_clouds({"c": {"region_name": "eu-nl"}}, site / "openstack")
    settings = load_settings({"os_cloud": "c"}, {})
    assert settings.region == "eu-nl" and str(path) in settings.files


def test_etc_xdg_is_the_site_dir_without_xdg_config_dirs(monkeypatch: pytest.MonkeyPatch) -> None:
    from jobdash.config.clouds_yaml import search_dirs

    monkeypatch.delenv("XDG_CONFIG_DIRS")
    dirs = search_dirs({})
    assert dirs.index(Path("/etc/xdg/openstack")) == len(dirs) - 2
    assert dirs[-1] == Path("/etc/openstack")


def test_tab_indented_clouds_json(tmp_path: Path) -> None:
    path = tmp_path / "clouds.json"
    path.write_text(json.dumps({"clouds": {"c": {"region_name": "eu-de"}}}, indent="\t"))
    settings = load_settings({"os_cloud": "c"}, {"OS_CLIENT_CONFIG_FILE": str(path)})
    assert settings.region == "eu-de"


def test_malformed_clouds_json_names_the_position_not_the_content(tmp_path: Path) -> None:
    path = tmp_path / "clouds.json"
    path.write_text('{"clouds": {"c": {"auth": {"password": "s3cret" "x"}}}}')
    with pytest.raises(ConfigError) as caught:
        load_settings({"os_cloud": "c"}, {"OS_CLIENT_CONFIG_FILE": str(path)})
    message = str(caught.value)
    assert f"{path} is not valid JSON" in message and "line 1" in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("cloud", "ca_file", "insecure"),
    [
        ({"verify": "/etc/ssl/corp-ca.pem"}, "/etc/ssl/corp-ca.pem", False),
        ({"verify": "/etc/ssl/corp-ca.pem", "cacert": "/ca.pem"}, "/ca.pem", False),
        ({"verify": "false"}, None, True),
        ({"insecure": "true"}, None, True),
        ({"verify": True}, None, False),
    ],
)
def test_verify_and_cacert(cloud: dict[str, Any], ca_file: str | None, insecure: bool) -> None:
    write_clouds({"c": cloud})
    settings = load_settings({"os_cloud": "c"}, {})
    assert (settings.ca_file, settings.insecure) == (ca_file, insecure)


def readme_yaml_blocks() -> dict[str, str]:
    """The README's example files, by the path in their first comment line."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    blocks = {}
    for block in readme.split("```yaml\n")[1:]:
        text = block.split("```", 1)[0]
        first = text.splitlines()[0]
        if first.startswith("# ~/.config/openstack/"):
            blocks[first.split("/")[-1].split()[0]] = text
    return blocks


def test_the_readme_example_reads_as_described() -> None:
    from jobdash.connections.connection import target_without_login

    blocks = readme_yaml_blocks()
    assert set(blocks) == {"clouds.yaml", "secure.yaml"}
    directory = Path(os.environ["XDG_CONFIG_HOME"]) / "openstack"
    directory.mkdir(parents=True)
    for name, text in blocks.items():
        (directory / name).write_text(text)

    prod = load_settings({"os_cloud": "prod"}, {})
    require_complete(prod)
    assert prod.auth_url == "https://iam.eu-de.otc.t-systems.com/v3"
    assert (prod.username, prod.project_name, prod.auth_method) == (
        "ops-watch",
        "eu-de_prod",
        "password",
    )
    assert prod.password == "  spaces at either end are kept  "
    prod_nl = load_settings({"os_cloud": "prod", "region": "eu-nl"}, {})
    assert prod_nl.auth_url == "https://iam.eu-nl.otc.t-systems.com/v3"
    assert prod_nl.project_name == "eu-nl_prod"

    staging = load_settings(None, {"OS_CLOUD": "staging"})
    require_complete(staging)
    assert staging.auth_method == "aksk"
    assert target_without_login(staging) == (
        "https://ecs.eu-nl.otc.t-systems.com",
        "0123456789abcdef0123456789abcdef",
    )


def test_a_cloud_auth_url_placeholder_takes_the_region_of_config_toml() -> None:
    from jobdash.config import paths

    write_clouds({"c": {"auth": {**LOGIN, "auth_url": "https://iam.{region_name}.test/v3"}}})
    with pytest.raises(ConfigError, match="the auth URL of cloud 'c' depends on the region"):
        load_settings({"os_cloud": "c"}, {})
    paths.config_file().parent.mkdir(parents=True, exist_ok=True)
    paths.config_file().write_text('[connection]\nregion = "eu-nl"\n')
    assert load_settings({"os_cloud": "c"}, {}).auth_url == "https://iam.eu-nl.test/v3"


def test_an_error_in_the_implicitly_used_cloud_says_why_that_cloud_was_read() -> None:
    path = write_clouds({"only": {"region_name": "eu-de", "auth": LOGIN}})
    with pytest.raises(ConfigError) as caught:
        load_settings(None, {"OS_REGION_NAME": "eu-nl"})
    message = str(caught.value)
    assert "region 'eu-nl' is not a region of cloud 'only'" in message
    assert f"(using cloud 'only', the only one in {path}" in message
