"""jobdash's own config.toml, loaded once into a typed, checked `Config`.

One error policy for every table: a file that cannot be read or parsed, an unknown
table or key, a value of the wrong type or out of its documented range is a
`ConfigError` naming the file and the key (exit 2). The values themselves are never
repeated for [connection], which may hold secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobdash.api.errors import ConfigError
from jobdash.config import paths
from jobdash.config.settings import SETTING_NAMES, Settings
from jobdash.poll.options import PollerOptions, poller_options

TABLES = ("connection", "poller", "ui", "http")
#: `[http] deadline`'s accepted range, in seconds.
DEADLINE_RANGE = (1.0, 3600.0)


@dataclass(frozen=True, slots=True)
class UiOptions:
    """`[ui]`: what the dashboard does when a job ends."""

    #: A toast when a job ends.
    notify: bool = True
    #: The terminal bell when a job fails.
    bell: bool = True


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """`[http]`: limits every request is held to."""

    #: Seconds one request (an IAM login too) may take in all: connect, send and the whole
    #: answer. None: the transport's default, `jobdash.api.http1.DEFAULT_DEADLINE` (30 s).
    deadline: float | None = None


@dataclass(frozen=True)
class Config:
    """config.toml as jobdash uses it; every field is checked. Defaults when the file is absent."""

    path: Path
    #: The [connection] table: settings of the lowest precedence (flags, environment and
    #: clouds.yaml come first).
    connection: Settings = field(default_factory=Settings, repr=False)
    poller: PollerOptions = field(default_factory=PollerOptions)
    ui: UiOptions = field(default_factory=UiOptions)
    http: HttpOptions = field(default_factory=HttpOptions)
    #: Whether the file exists (messages name it only then).
    found: bool = False
    #: The parsed file, for options given on top of it (`poller_with`).
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def connection_layer(self) -> dict[str, Any]:
        """The [connection] settings that are set, as a layer for `load_settings`."""
        return {
            name: value
            for name in SETTING_NAMES
            if (value := getattr(self.connection, name)) is not None and value is not False
        }

    def poller_with(self, interval: float | None) -> PollerOptions:
        """The poller options with an `--interval` flag on top (checked like the file's)."""
        if interval is None:
            return self.poller
        return poller_options(self.raw, interval=interval)


def load_config_toml(path: Path | None = None) -> dict[str, Any]:
    """config.toml parsed, unchecked ({} when absent); `load_config` checks it."""
    path = path or paths.config_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    import tomllib  # only when there is a file to read: most runs have none

    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def _connection_table(config: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """The checked [connection] table of a parsed config.toml, as Settings fields."""
    table = config.get("connection", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [connection] must be a table")
    unknown = sorted(set(table) - set(SETTING_NAMES))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) in [connection]: {', '.join(unknown)}; "
            f"known keys: {', '.join(SETTING_NAMES)}"
        )
    layer: dict[str, Any] = {}
    for key, value in table.items():
        if key == "insecure":
            if not isinstance(value, bool):
                raise ConfigError(f"{path}: [connection] insecure must be true or false")
            layer[key] = value
        elif isinstance(value, (str, int)) and not isinstance(value, bool):
            if str(value).strip():
                layer[key] = str(value).strip()
        else:
            raise ConfigError(f"{path}: [connection] {key} must be a string")
    return layer


def _ui_options(table: Any, path: Path) -> UiOptions:
    if table is None:
        return UiOptions()
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [ui] must be a table")
    known = ("notify", "bell")
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) in [ui]: {', '.join(unknown)}; known keys: {', '.join(known)}"
        )
    for name, value in table.items():
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: [ui] {name} must be true or false, not {value!r}")
    return UiOptions(**table)


def _http_options(table: Any, path: Path) -> HttpOptions:
    if table is None:
        return HttpOptions()
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [http] must be a table")
    unknown = sorted(set(table) - {"deadline"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) in [http]: {', '.join(unknown)}; known keys: deadline"
        )
    if "deadline" not in table:
        return HttpOptions()
    value = table["deadline"]
    low, high = DEADLINE_RANGE
    # bool is an int to Python, and TOML has nan and inf: none of them is a deadline.
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(
            f"{path}: [http] deadline must be a number of seconds from {low:g} to {high:g}, "
            f"not {value!r}"
        )
    return HttpOptions(deadline=float(value))


#: The last config read from each file, with the file's (mtime, size) then (None: absent):
#: every command checks config.toml up front, and then uses it, without reading it twice.
_read: dict[Path, tuple[tuple[int, int] | None, Config]] = {}


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return (found.st_mtime_ns, found.st_size)


def load_config(path: Path | None = None) -> Config:
    """Read and check config.toml (default: the one in jobdash's config directory); read
    again only when the file has changed since."""
    path = path or paths.config_file()
    try:
        stamp = _stamp(path)
    except OSError:
        return _load_config(path)  # load_config_toml says what is wrong with it
    known = _read.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    config = _load_config(path)
    _read[path] = (stamp, config)
    return config


def _load_config(path: Path) -> Config:
    table = load_config_toml(path)
    unknown = sorted(set(table) - set(TABLES))
    if unknown:
        raise ConfigError(
            f"{path}: unknown table(s) or key(s) at the top level: {', '.join(unknown)}; "
            f"known tables: {', '.join(f'[{name}]' for name in TABLES)}"
        )
    try:
        poller = poller_options(table)
    except ConfigError as exc:
        # The poller's checks name "config.toml"; say which file.
        raise ConfigError(str(exc).replace("config.toml:", f"{path}:", 1)) from None
    return Config(
        path=path,
        connection=Settings(**_connection_table(table, path)),
        poller=poller,
        ui=_ui_options(table.get("ui"), path),
        http=_http_options(table.get("http"), path),
        found=bool(table) or path.exists(),
        raw=table,
    )
