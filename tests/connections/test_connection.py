"""open_connection and build_auth without a server: TLS options, warnings, endpoints."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import certifi
import httpx
import pytest

from jobdash.api.errors import ConfigError
from jobdash.auth.methods import AkSkAuth, PasswordAuth, TokenAuth
from jobdash.config.settings import Settings
from jobdash.connections.connection import build_auth, open_connection

PROJECT_ID = "0123456789abcdef0123456789abcdef"


def token_settings(**extra: object) -> Settings:
    values: dict[str, object] = {"token": "tok-SECRET", "project_id": PROJECT_ID, "region": "eu-de"}
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


def test_build_auth_picks_the_class_for_the_method() -> None:
    assert isinstance(build_auth(token_settings()), TokenAuth)
    aksk = Settings(access_key="AK", secret_key="SK", project_id=PROJECT_ID, region="eu-de")
    auth = build_auth(aksk)
    assert isinstance(auth, AkSkAuth) and auth.project_id == PROJECT_ID
    password = Settings(
        auth_url="https://iam.example/v3",
        username="u",
        password="p",
        user_domain_name="d",
        project_name="eu-de",
    )
    assert isinstance(build_auth(password), PasswordAuth)
    with pytest.raises(ConfigError, match="no credentials"):
        build_auth(Settings())


async def test_default_endpoint_from_region_and_safe_description() -> None:
    connection = await open_connection(token_settings(cloud="prod"))
    try:
        assert connection.endpoint == "https://ecs.eu-de.otc.t-systems.com"
        assert connection.client.endpoint == connection.endpoint
        assert connection.project_id == PROJECT_ID
        assert connection.auth_method == "token"
        assert connection.description == f"prod · {PROJECT_ID} · ecs.eu-de.otc.t-systems.com"
        assert "SECRET" not in repr(connection)
        assert connection.warnings == []
    finally:
        await connection.aclose()
    assert connection.http.is_closed


async def test_pasted_catalog_url_is_reduced_to_the_origin() -> None:
    settings = token_settings(endpoint=f"https://ecs.example.com/v1/{PROJECT_ID}/")
    async with await open_connection(settings) as connection:
        assert connection.endpoint == "https://ecs.example.com"


async def test_insecure_turns_verification_off_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        connection = await open_connection(token_settings(insecure=True))
    try:
        assert len(connection.warnings) == 1
        assert "TLS certificate verification is off" in connection.warnings[0]
        assert any("verification is off" in r.getMessage() for r in caplog.records)
        assert connection.transport.tls_context().verify_mode == ssl.CERT_NONE
    finally:
        await connection.aclose()


async def test_plain_http_to_a_remote_host_is_a_warning() -> None:
    settings = token_settings(endpoint="http://ecs.example.com")
    async with await open_connection(settings) as connection:
        assert any("plain HTTP to ecs.example.com" in w for w in connection.warnings)
    async with await open_connection(token_settings(endpoint="http://127.0.0.1:9")) as local:
        assert local.warnings == []


async def test_ca_file_is_added_to_the_trust_store(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(ConfigError, match="does not exist"):
        await open_connection(token_settings(ca_file=str(missing)))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(ConfigError, match="no usable certificate"):
        await open_connection(token_settings(ca_file=str(garbage)))
    bundle = Path(certifi.where())
    async with await open_connection(token_settings(ca_file=str(bundle))) as connection:
        context = connection.transport.tls_context()
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.cert_store_stats()["x509_ca"] > 0


async def test_pool_is_sized_for_the_poller() -> None:
    async with await open_connection(token_settings(), max_connections=7) as connection:
        assert connection.transport.max_connections == 7
        assert isinstance(connection.http.timeout, httpx.Timeout)


async def test_bad_project_id_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="project id"):
        await open_connection(token_settings(project_id="../etc"))
