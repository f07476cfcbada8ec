"""Where jobdash keeps its files. Everything goes through platformdirs (app `jobdash`),
so XDG_CONFIG_HOME, XDG_STATE_HOME and XDG_CACHE_HOME relocate them (the log lives in
the state directory's `log` folder on Linux)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "jobdash"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    return config_dir() / "config.toml"


def database_file() -> Path:
    return state_dir() / "watchlist.sqlite3"


def token_cache_dir() -> Path:
    return cache_dir() / "tokens"


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def log_file() -> Path:
    return log_dir() / "jobdash.log"
