"""Settings: precedence of flags, environment, clouds.yaml (+ secure.yaml) and config.toml."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobdash.api.errors import ConfigError
from jobdash.config import paths
from jobdash.config.config_file import load_config_toml
from jobdash.config.regions import ecs_endpoint
from jobdash.config.settings import Settings, require_complete
from jobdash.config.sources import LOGIN_FIELDS, add_connection_arguments, load_settings

CLOUD = "mycloud"


def user_clouds_dir() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "openstack"


def write_clouds(clouds: dict[str, Any], path: Path | None = None, *, stem: str = "clouds") -> Path:
    path = path or user_clouds_dir() / f"{stem}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"clouds": clouds}))
    return path


def write_toml(text: str) -> Path:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def flags(**values: Any) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_connection_arguments(parser)
    namespace = parser.parse_args([])
    for key, value in values.items():
        setattr(namespace, key, value)
    return namespace


# field -> (flag dest, environment variable, path in the clouds.yaml cloud entry)
FIELDS: dict[str, tuple[str | None, str, tuple[str, ...]]] = {
    "auth_url": (None, "OS_AUTH_URL", ("auth", "auth_url")),
    "username": (None, "OS_USERNAME", ("auth", "username")),
    "password": (None, "OS_PASSWORD", ("auth", "password")),
    "user_domain_name": (None, "OS_USER_DOMAIN_NAME", ("auth", "user_domain_name")),
    "user_domain_id": (None, "OS_USER_DOMAIN_ID", ("auth", "user_domain_id")),
    "project_id": ("project_id", "OS_PROJECT_ID", ("auth", "project_id")),
    "project_name": (None, "OS_PROJECT_NAME", ("auth", "project_name")),
    "region": ("region", "OS_REGION_NAME", ("region_name",)),
    "token": (None, "OS_AUTH_TOKEN", ("auth", "token")),
    "access_key": (None, "OS_ACCESS_KEY", ("ak",)),
    "secret_key": (None, "OS_SECRET_KEY", ("sk",)),
    "endpoint": ("endpoint", "JOBDASH_ENDPOINT", ("ecs_endpoint_override",)),
    "ca_file": ("ca_file", "OS_CACERT", ("cacert",)),
}
LAYERS = ("flag", "env", "cloud", "toml")
AMBIENT_LAYERS = ("flag", "env", "toml")


def precedence_cases(layers: tuple[str, ...]) -> list[tuple[str, str]]:
    cases = []
    for name, (flag, _, _) in FIELDS.items():
        for top in layers:
            if top == "flag" and flag is None:
                continue
            cases.append((name, top))
    return cases


def layered_sources(
    name: str, present: tuple[str, ...]
) -> tuple[argparse.Namespace, dict[str, str]]:
    """Give field `name` a distinct value in each layer of `present`; returns flags and env."""
    flag, env_var, cloud_path = FIELDS[name]
    namespace = flags(os_cloud=CLOUD) if "cloud" in LAYERS and "cloud" in present else flags()
    env: dict[str, str] = {}
    if "flag" in present and flag:
        setattr(namespace, flag, f"flag-{name}-value")
    if "env" in present:
        env[env_var] = f"env-{name}-value"
    if "cloud" in present:
        cloud: dict[str, Any] = {}
        target = cloud
        for key in cloud_path[:-1]:
            target = target.setdefault(key, {})
        if name == "region":
            # The cloud's regions must allow every region asked for by a higher layer.
            cloud["regions"] = [f"{layer}-region-value" for layer in ("cloud", "env", "flag")]
        else:
            target[cloud_path[-1]] = f"cloud-{name}-value"
        write_clouds({CLOUD: cloud})
    if "toml" in present:
        write_toml(f'[connection]\n{name} = "toml-{name}-value"\n')
    return namespace, env


@pytest.mark.parametrize(("name", "top"), precedence_cases(AMBIENT_LAYERS))
def test_without_a_cloud_each_field_takes_the_highest_source(name: str, top: str) -> None:
    present = AMBIENT_LAYERS[AMBIENT_LAYERS.index(top) :]
    namespace, env = layered_sources(name, present)

    settings = load_settings(namespace, env)

    assert getattr(settings, name) == f"{top}-{name}-value"
    assert settings.cloud is None


@pytest.mark.parametrize(("name", "top"), precedence_cases(LAYERS))
def test_with_a_named_cloud_login_fields_come_from_the_cloud_or_flags(name: str, top: str) -> None:
    present = (*LAYERS[LAYERS.index(top) :], "cloud")
    namespace, env = layered_sources(name, present)

    settings = load_settings(namespace, env)

    if name in LOGIN_FIELDS:
        # The environment and config.toml never replace a named cloud's login.
        expected = "flag" if top == "flag" else "cloud"
    else:
        expected = top if top != "toml" else "cloud"
    assert getattr(settings, name) == f"{expected}-{name}-value"


@pytest.mark.parametrize("name", [n for n in FIELDS if n not in LOGIN_FIELDS])
def test_a_named_cloud_without_a_setting_takes_it_from_config_toml(name: str) -> None:
    write_clouds({CLOUD: {}})
    write_toml(f'[connection]\n{name} = "toml-{name}-value"\n')
    assert getattr(load_settings(flags(os_cloud=CLOUD), {}), name) == f"toml-{name}-value"


def test_insecure_from_each_source() -> None:
    write_clouds({CLOUD: {"verify": False}, "strict": {}})
    assert load_settings(flags(os_cloud=CLOUD), {}).insecure is True
    assert load_settings(flags(os_cloud="strict"), {}).insecure is False
    assert load_settings(flags(os_cloud="strict", insecure=True), {}).insecure is True
    assert load_settings(None, {"OS_INSECURE": "true"}).insecure is True
    write_toml("[connection]\ninsecure = true\n")
    assert load_settings(None, {}).insecure is True
    with pytest.raises(ConfigError, match="OS_INSECURE"):
        load_settings(None, {"OS_INSECURE": "maybe"})


def test_os_cloud_env_and_flag_select_the_cloud() -> None:
    write_clouds({"a": {"region_name": "eu-de"}, "b": {"region_name": "eu-nl"}})
    assert load_settings(None, {"OS_CLOUD": "a"}).region == "eu-de"
    from_flag = load_settings(flags(os_cloud="b"), {"OS_CLOUD": "a"})
    assert from_flag.region == "eu-nl"
    assert from_flag.cloud == from_flag.profile == "b"
    write_toml('[connection]\ncloud = "b"\n')
    assert load_settings(None, {}).profile == "b"
    assert load_settings(None, {"OS_CLOUD": "a"}).profile == "a"


def test_the_only_cloud_is_used_without_a_name_and_the_user_is_told() -> None:
    path = write_clouds({"only": {"auth": {"username": "u"}, "region_name": "eu-de"}})
    settings = load_settings(None, {})
    assert (settings.cloud, settings.username, settings.region) == ("only", "u", "eu-de")
    assert settings.notes == (
        f"using cloud 'only', the only one in {path} (--os-cloud NAME or OS_CLOUD picks one)",
    )


def test_a_lone_cloud_is_not_used_when_the_environment_or_config_toml_has_a_login() -> None:
    write_clouds({"only": {"auth": {"username": "u"}, "region_name": "eu-de"}})
    from_env = load_settings(None, {"OS_AUTH_TOKEN": "tok", "OS_REGION_NAME": "eu-nl"})
    assert (from_env.cloud, from_env.username, from_env.region) == (None, None, "eu-nl")
    assert from_env.notes == ()
    write_toml('[connection]\nproject_id = "p1"\n')
    assert load_settings(None, {}).cloud is None


def test_several_clouds_without_a_name_are_not_read_but_named_in_the_error() -> None:
    write_clouds({"prod": {"auth": {"username": "u"}}, "staging": {}})
    settings = load_settings(None, {})
    assert settings.username is None and settings.cloud is None
    with pytest.raises(ConfigError) as caught:
        require_complete(settings)
    assert "has several clouds (prod, staging): pick one with --os-cloud NAME" in str(caught.value)


def test_secure_yaml_is_merged_into_the_cloud() -> None:
    write_clouds({CLOUD: {"auth": {"username": "alice", "auth_url": "https://iam/v3"}}})
    write_clouds({CLOUD: {"auth": {"password": "from-secure"}, "sk": "sk-secure"}}, stem="secure")
    settings = load_settings(flags(os_cloud=CLOUD), {})
    assert settings.username == "alice"
    assert settings.auth_url == "https://iam/v3"
    assert settings.password == "from-secure"
    assert any(f.endswith("secure.yaml") for f in settings.files)


def test_search_path_order(tmp_path: Path) -> None:
    write_clouds({CLOUD: {"region_name": "from-user-dir"}})
    settings = load_settings(flags(os_cloud=CLOUD), {})
    assert settings.region == "from-user-dir"
    write_clouds({CLOUD: {"region_name": "from-cwd"}}, Path.cwd() / "clouds.yaml")
    assert load_settings(flags(os_cloud=CLOUD), {}).region == "from-cwd"
    explicit = write_clouds({CLOUD: {"region_name": "from-env-file"}}, tmp_path / "x.yaml")
    env = {"OS_CLIENT_CONFIG_FILE": str(explicit)}
    assert load_settings(flags(os_cloud=CLOUD), env).region == "from-env-file"


def test_home_config_dir_is_used_without_xdg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    path = Path(os.environ["HOME"]) / ".config" / "openstack" / "clouds.yml"
    write_clouds({CLOUD: {"region_name": "eu-ch2"}}, path)
    assert load_settings(flags(os_cloud=CLOUD), {}).region == "eu-ch2"


@pytest.mark.parametrize(
    "cloud",
    [
        {"ak": "AK1", "sk": "SK1"},
        {"access_key": "AK1", "secret_key": "SK1"},
        {"auth": {"ak": "AK1", "sk": "SK1"}},
        {"auth": {"access_key": "AK1", "secret_key": "SK1"}},
    ],
)
def test_access_keys_in_clouds_yaml(cloud: dict[str, Any]) -> None:
    cloud.setdefault("auth", {})["project_id"] = "p" * 32
    write_clouds({CLOUD: cloud})
    settings = load_settings(flags(os_cloud=CLOUD), {})
    assert (settings.access_key, settings.secret_key) == ("AK1", "SK1")
    assert settings.auth_method == "aksk"


def test_yaml_numbers_and_domain_name_fallback() -> None:
    write_clouds({CLOUD: {"auth": {"password": 123456, "domain_name": "D1", "username": "u"}}})
    settings = load_settings(flags(os_cloud=CLOUD), {})
    assert settings.password == "123456"
    assert settings.user_domain_name == "D1"


def test_a_named_cloud_keeps_its_own_credentials_and_says_what_was_ignored() -> None:
    write_clouds({CLOUD: {"auth": {"username": "alice", "password": "pw"}, "ak": "A", "sk": "S"}})
    from_cloud = load_settings(flags(os_cloud=CLOUD), {})
    assert from_cloud.auth_method == "password" and from_cloud.notes == ()
    stray = {"OS_AUTH_TOKEN": "old-token", "OS_ACCESS_KEY": "A2", "OS_PROJECT_NAME": "other"}
    settings = load_settings(flags(os_cloud=CLOUD), stray)
    assert settings.auth_method == "password"
    assert (settings.username, settings.password, settings.token) == ("alice", "pw", None)
    assert settings.project_name is None
    assert settings.notes == (
        "ignored OS_ACCESS_KEY, OS_AUTH_TOKEN, OS_PROJECT_NAME: cloud 'mycloud' logs in with "
        "its own credentials (flags still apply)",
    )
    assert "old-token" not in repr(settings.notes)
    # Picked through OS_CLOUD the same holds.
    assert load_settings(None, {**stray, "OS_CLOUD": CLOUD}).token is None


def test_a_named_cloud_ignores_login_keys_of_config_toml() -> None:
    write_clouds({CLOUD: {"auth": {"token": "cloud-token", "project_id": "p1"}}})
    write_toml('[connection]\ncloud = "mycloud"\nusername = "bob"\nregion = "eu-nl"\n')
    settings = load_settings(None, {})
    assert (settings.token, settings.username, settings.region) == ("cloud-token", None, "eu-nl")
    assert settings.notes == (
        f"ignored username in {paths.config_file()}: cloud 'mycloud' logs in with its own "
        "credentials (flags still apply)",
    )


def test_os_password_completes_a_cloud_that_names_its_user_without_one() -> None:
    write_clouds({CLOUD: {"auth": {"username": "alice", "project_name": "eu-de"}}})
    settings = load_settings(flags(os_cloud=CLOUD), {"OS_PASSWORD": " pw with spaces "})
    assert (settings.username, settings.password) == ("alice", " pw with spaces ")
    assert settings.notes == ("cloud 'mycloud' has no password: using OS_PASSWORD",)
    # Not when the cloud logs in another way.
    write_clouds({CLOUD: {"auth": {"username": "alice", "token": "tok"}}})
    settings = load_settings(flags(os_cloud=CLOUD), {"OS_PASSWORD": "pw"})
    assert (settings.auth_method, settings.password) == ("token", None)
    assert settings.notes == (
        "ignored OS_PASSWORD: cloud 'mycloud' logs in with its own credentials (flags still apply)",
    )


def test_without_a_cloud_the_highest_source_with_a_credential_decides_the_method() -> None:
    write_toml('[connection]\nusername = "alice"\npassword = "pw"\n')
    assert load_settings(None, {}).auth_method == "password"
    with_token = load_settings(None, {"OS_AUTH_TOKEN": "tok"})
    assert with_token.auth_method == "token"
    assert with_token.password is None and with_token.username is None
    with_keys = load_settings(None, {"OS_ACCESS_KEY": "A2", "OS_SECRET_KEY": "S2"})
    assert with_keys.auth_method == "aksk"
    assert (with_keys.access_key, with_keys.username) == ("A2", None)
    # Same kind: a password from the environment completes the configured user.
    with_password = load_settings(None, {"OS_PASSWORD": "pw2"})
    assert (with_password.username, with_password.password) == ("alice", "pw2")


def test_a_project_comes_whole_from_one_source() -> None:
    write_clouds({CLOUD: {"auth": {"project_id": "file-id", "project_name": "file-name"}}})
    from_flag = load_settings(flags(os_cloud=CLOUD, project_id="flag-id"), {})
    assert (from_flag.project_id, from_flag.project_name) == ("flag-id", None)
    write_toml('[connection]\nproject_id = "toml-id"\n')
    ambient = load_settings(None, {"OS_PROJECT_NAME": "env-name"})
    assert (ambient.project_id, ambient.project_name) == (None, "env-name")
    domains = load_settings(None, {"OS_USER_DOMAIN_ID": "d-id", "OS_DOMAIN_NAME": "D"})
    assert (domains.user_domain_id, domains.user_domain_name) == ("d-id", "D")
    write_toml('[connection]\nuser_domain_name = "toml-domain"\n')
    mixed = load_settings(None, {"OS_USER_DOMAIN_ID": "d-id"})
    assert (mixed.user_domain_id, mixed.user_domain_name) == ("d-id", None)


def test_empty_environment_values_count_as_unset() -> None:
    write_toml('[connection]\nregion = "eu-de"\n')
    assert load_settings(None, {"OS_REGION_NAME": "  "}).region == "eu-de"


def test_config_toml_other_tables_are_available() -> None:
    write_toml('[connection]\nregion = "eu-de"\n\n[ui]\ntheme = "dark"\n\n[poller]\ninterval = 5\n')
    config = load_config_toml()
    assert config["ui"] == {"theme": "dark"}
    assert config["poller"] == {"interval": 5}
    assert load_config_toml(Path("/nonexistent/config.toml")) == {}


# -- bad files ---------------------------------------------------------------------------


def test_malformed_clouds_yaml_names_file_and_position_not_content() -> None:
    path = user_clouds_dir() / "clouds.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("clouds:\n  a:\n    auth:\n      password: s3cret: oops\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(flags(os_cloud="a"), {})
    message = str(caught.value)
    assert str(path) in message and "line 4" in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- just\n- a list\n", "must hold a mapping"),
        ("clouds: [1, 2]\n", "'clouds' must be a mapping"),
        ("clouds:\n  a: text\n", "cloud 'a' must be a mapping"),
    ],
)
def test_clouds_yaml_with_the_wrong_shape(text: str, problem: str) -> None:
    path = user_clouds_dir() / "clouds.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(ConfigError, match=problem) as caught:
        load_settings(flags(os_cloud="a"), {})
    assert str(path) in str(caught.value)


def test_malformed_secure_yaml_is_reported() -> None:
    write_clouds({CLOUD: {}})
    secure = user_clouds_dir() / "secure.yaml"
    secure.write_text("clouds: {a: [}\n")
    with pytest.raises(ConfigError, match=r"secure\.yaml is not valid YAML"):
        load_settings(flags(os_cloud=CLOUD), {})


def test_malformed_config_toml_names_the_file() -> None:
    path = write_toml('[connection]\nregion = "eu-de\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(None, {})
    assert str(path) in str(caught.value) and "not valid TOML" in str(caught.value)


def test_config_toml_unknown_or_mistyped_keys() -> None:
    write_toml('[connection]\npasword = "x"\n')
    with pytest.raises(ConfigError, match=r"unknown key.*pasword.*known keys: cloud, auth_url"):
        load_settings(None, {})
    write_toml("[connection]\nregion = [1]\n")
    with pytest.raises(ConfigError, match="region must be a string"):
        load_settings(None, {})
    write_toml('connection = "x"\n')
    with pytest.raises(ConfigError, match=r"\[connection\] must be a table"):
        load_settings(None, {})


def test_unknown_cloud_lists_clouds_and_searched_files() -> None:
    path = write_clouds({"prod": {}, "staging": {}})
    with pytest.raises(ConfigError) as caught:
        load_settings(flags(os_cloud="prdo"), {})
    message = str(caught.value)
    assert "'prdo' is not defined" in message
    assert "prod, staging" in message
    assert str(path) in message
    assert str(Path.cwd() / "clouds.yaml") in message
    assert "/etc/openstack/clouds.yaml" in message


def test_cloud_asked_for_without_any_clouds_yaml() -> None:
    with pytest.raises(
        ConfigError, match=r"no clouds\.yaml exists\. Files searched: .*clouds\.yaml"
    ):
        load_settings(None, {"OS_CLOUD": "prod"})


# -- completeness ------------------------------------------------------------------------


def test_no_credentials_at_all() -> None:
    settings = load_settings(None, {})
    with pytest.raises(ConfigError) as caught:
        require_complete(settings)
    message = str(caught.value)
    for hint in ("OS_AUTH_TOKEN", "OS_USERNAME", "OS_PASSWORD", "OS_ACCESS_KEY", "--os-cloud"):
        assert hint in message
    assert str(paths.config_file()) in message


def test_password_without_project_says_exactly_that() -> None:
    env = {
        "OS_AUTH_URL": "https://iam.example/v3",
        "OS_USERNAME": "alice",
        "OS_PASSWORD": "very-secret-pw",
        "OS_USER_DOMAIN_NAME": "D",
    }
    with pytest.raises(ConfigError) as caught:
        require_complete(load_settings(None, env))
    message = str(caught.value)
    assert "IAM password login" in message
    assert "the project: --project-id ID, OS_PROJECT_ID or OS_PROJECT_NAME" in message
    assert "auth_url" not in message and "OS_USERNAME" not in message
    assert "very-secret-pw" not in message
    # No region needed: the token's catalog names the endpoint.
    require_complete(load_settings(None, {**env, "OS_PROJECT_NAME": "eu-de"}))


def test_password_missing_several_things_lists_them_all() -> None:
    with pytest.raises(ConfigError) as caught:
        require_complete(load_settings(None, {"OS_USERNAME": "alice"}))
    message = str(caught.value)
    for hint in ("OS_AUTH_URL", "OS_PASSWORD", "OS_USER_DOMAIN_NAME", "OS_PROJECT_NAME"):
        assert hint in message
    assert message.count("\n  - ") == 4


def test_aksk_without_project_id_or_region() -> None:
    env = {"OS_ACCESS_KEY": "AK", "OS_SECRET_KEY": "SK-secret", "OS_PROJECT_NAME": "eu-de"}
    with pytest.raises(ConfigError) as caught:
        require_complete(load_settings(None, env))
    message = str(caught.value)
    assert "access key (AK/SK) signing" in message
    assert "the project id: --project-id ID, OS_PROJECT_ID" in message
    assert "--region NAME, OS_REGION_NAME" in message and "--endpoint URL" in message
    assert "SK-secret" not in message
    require_complete(load_settings(flags(project_id="p" * 32, region="eu-de"), env))


def test_token_without_region_or_endpoint() -> None:
    env = {"OS_AUTH_TOKEN": "tok-secret", "OS_PROJECT_ID": "p" * 32}
    with pytest.raises(ConfigError, match="the region or the endpoint") as caught:
        require_complete(load_settings(None, env))
    assert "tok-secret" not in str(caught.value)
    require_complete(load_settings(flags(endpoint="https://ecs.example.com"), env))


def test_cloud_without_credentials_names_the_cloud() -> None:
    write_clouds({CLOUD: {"region_name": "eu-de"}})
    with pytest.raises(ConfigError, match="no credentials found \\(cloud 'mycloud' has none\\)"):
        require_complete(load_settings(flags(os_cloud=CLOUD), {}))


def test_endpoint_default_from_region_and_bad_values() -> None:
    assert ecs_endpoint("eu-de") == "https://ecs.eu-de.otc.t-systems.com"
    base = {"OS_AUTH_TOKEN": "t", "OS_PROJECT_ID": "p" * 32}
    with pytest.raises(ConfigError, match="not a region name"):
        require_complete(load_settings(flags(region="eu de/../x"), base))
    with pytest.raises(ConfigError, match="not a URL"):
        require_complete(load_settings(flags(endpoint="ecs.eu-de.example.com"), base))


def test_settings_repr_hides_secrets() -> None:
    settings = Settings(
        username="alice",
        password="pw-SECRET",
        token="tok-SECRET",
        access_key="AK-SECRET",
        secret_key="SK-SECRET",
    )
    assert "SECRET" not in repr(settings) and "SECRET" not in str(settings)
    assert "alice" in repr(settings)


def test_connection_flags_have_the_documented_destinations() -> None:
    parser = argparse.ArgumentParser()
    add_connection_arguments(parser)
    args = parser.parse_args(
        [
            "--os-cloud",
            "c",
            "--endpoint",
            "https://e",
            "--project-id",
            "p",
            "--region",
            "r",
            "--ca-file",
            "/ca.pem",
            "--insecure",
        ]
    )
    assert (args.os_cloud, args.endpoint, args.project_id) == ("c", "https://e", "p")
    assert (args.region, args.ca_file, args.insecure) == ("r", "/ca.pem", True)
    assert parser.parse_args([]).insecure is None


def test_flags_may_be_a_mapping_or_a_namespace_without_connection_flags() -> None:
    write_clouds({CLOUD: {"region_name": "eu-de"}, "other": {}})
    from_mapping = load_settings({"os_cloud": CLOUD, "project_id": "p1"}, {})
    assert (from_mapping.region, from_mapping.project_id) == ("eu-de", "p1")
    bare = load_settings(argparse.Namespace(command="ls"), {"OS_REGION_NAME": "eu-nl"})
    assert bare.region == "eu-nl" and bare.insecure is False
