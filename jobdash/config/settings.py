"""The connection settings: one typed, checked value, and whether it is enough to connect.

`jobdash.config.sources` builds it from flags, environment, clouds.yaml and config.toml.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from jobdash.api.errors import ConfigError
from jobdash.config import paths
from jobdash.config.checks import check_auth_url, check_endpoint, check_secret_values
from jobdash.config.regions import ecs_endpoint

CREDENTIAL_KINDS: dict[str, tuple[str, ...]] = {
    "token": ("token",),
    "password": ("username", "password"),
    "aksk": ("access_key", "secret_key"),
}


@dataclass(frozen=True)
class Settings:
    cloud: str | None = None
    auth_url: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    user_domain_name: str | None = None
    user_domain_id: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    region: str | None = None
    token: str | None = field(default=None, repr=False)
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    endpoint: str | None = None
    ca_file: str | None = None
    insecure: bool = False
    #: (service name, endpoint) for services whose endpoint is configured rather than
    #: derived from ECS's (clouds.yaml's `<service>_endpoint_override`); a tuple, so that
    #: settings stay hashable.
    service_endpoints: tuple[tuple[str, str], ...] = ()
    #: Configuration files that were read, for messages.
    files: tuple[str, ...] = field(default=(), compare=False)
    #: One-line remarks for the user: which cloud was picked, what was ignored.
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def auth_method(self) -> str | None:
        """ "token", "password", "aksk", or None when no credential was given at all."""
        if self.token:
            return "token"
        if self.username or self.password:
            return "password"
        if self.access_key or self.secret_key:
            return "aksk"
        return None

    def __post_init__(self) -> None:
        # Whatever the source, a token or key that would break (or leak into) an HTTP
        # header is refused here, before anything is sent or stored.
        check_secret_values(self)

    def endpoint_override(self, service: str) -> str | None:
        """The configured endpoint of the service called `service`, if any."""
        return next((url for name, url in self.service_endpoints if name == service), None)

    @property
    def profile(self) -> str | None:
        """The clouds.yaml cloud these settings came from (watch entries remember it)."""
        return self.cloud


#: The settings every source can give; a service's endpoint comes from clouds.yaml alone.
SETTING_NAMES = tuple(
    f.name for f in fields(Settings) if f.name not in ("files", "notes", "service_endpoints")
)


# -- completeness ------------------------------------------------------------------------

_WAYS: dict[str, str] = {
    "auth_url": "the IAM URL: OS_AUTH_URL, or auth.auth_url in clouds.yaml",
    "username": "the user name: OS_USERNAME, or auth.username in clouds.yaml",
    "password": "the password: OS_PASSWORD, or auth.password in clouds.yaml / secure.yaml",
    "user_domain_name": (
        "the user's domain: OS_USER_DOMAIN_NAME or OS_USER_DOMAIN_ID, or "
        "auth.user_domain_name / user_domain_id (or domain_name) in clouds.yaml"
    ),
    "project": (
        "the project: --project-id ID, OS_PROJECT_ID or OS_PROJECT_NAME, "
        "or auth.project_id / auth.project_name in clouds.yaml"
    ),
    "project_id": (
        "the project id: --project-id ID, OS_PROJECT_ID, or auth.project_id in clouds.yaml"
    ),
    "access_key": "the access key: OS_ACCESS_KEY, or ak in the cloud's clouds.yaml entry",
    "secret_key": "the secret key: OS_SECRET_KEY, or sk in the cloud's clouds.yaml / secure.yaml",
    "where": (
        "the region or the endpoint: --region NAME, OS_REGION_NAME or region_name in "
        "clouds.yaml; or --endpoint URL / JOBDASH_ENDPOINT"
    ),
}
_METHOD_LABEL = {
    "token": "token authentication",
    "password": "IAM password login",
    "aksk": "access key (AK/SK) signing",
}


def _where_from(settings: Settings) -> str:
    places = ["flags", "environment variables"]
    places.append(f"cloud {settings.cloud!r} in clouds.yaml" if settings.cloud else "clouds.yaml")
    places.append(f"the [connection] table of {paths.config_file()}")
    return "Set them with " + ", ".join(places) + "."


def missing_settings(settings: Settings) -> list[str]:
    """What `settings` lacks for its method, as keys of the help texts."""
    method = settings.auth_method
    missing: list[str] = []
    has_place = bool(settings.endpoint or settings.region)
    if method == "token":
        if not settings.project_id:
            missing.append("project_id")
    elif method == "password":
        for name in ("auth_url", "username", "password"):
            if not getattr(settings, name):
                missing.append(name)
        if not (settings.user_domain_name or settings.user_domain_id):
            missing.append("user_domain_name")
        if not (settings.project_id or settings.project_name):
            missing.append("project")
        has_place = True  # the token's catalog names the endpoint
    elif method == "aksk":
        for name in ("access_key", "secret_key", "project_id"):
            if not getattr(settings, name):
                missing.append(name)
    if method is not None and not has_place:
        missing.append("where")
    return missing


def require_complete(settings: Settings) -> None:
    """Raise one ConfigError saying everything that is missing and how to give it."""
    if settings.auth_url:
        check_auth_url(settings.auth_url)
    if settings.endpoint:
        check_endpoint(settings.endpoint)
    elif settings.region:
        ecs_endpoint(settings.region)  # validates the region's spelling
    method = settings.auth_method
    if method is None:
        cloud = f" (cloud {settings.cloud!r} has none)" if settings.cloud else ""
        remarks = "".join(f"{note}\n" for note in settings.notes)
        raise ConfigError(
            f"no credentials found{cloud}. {remarks}Give one of:\n"
            "  - a token: OS_AUTH_TOKEN, with --project-id / OS_PROJECT_ID and --region\n"
            "  - an IAM password login: OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, "
            "OS_USER_DOMAIN_NAME and OS_PROJECT_NAME or OS_PROJECT_ID\n"
            "  - an access key pair: OS_ACCESS_KEY, OS_SECRET_KEY and OS_PROJECT_ID, "
            "with --region\n"
            "or pick a cloud from clouds.yaml with --os-cloud NAME / OS_CLOUD, or fill the "
            f"[connection] table of {paths.config_file()}"
        )
    missing = missing_settings(settings)
    if missing:
        lines = "\n".join(f"  - {_WAYS[name]}" for name in missing)
        raise ConfigError(
            f"incomplete settings for {_METHOD_LABEL[method]}; missing:\n{lines}\n"
            f"{_where_from(settings)}"
        )
