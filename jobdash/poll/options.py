"""The poller's knobs from config.toml's [poller] table, checked, with flags on top.

`max_in_flight` bounds the requests under way over all endpoints, shared fairly among
the endpoints with work; an endpoint with nothing under way, and a manual refresh, may go
one past it (per endpoint), so that a slow endpoint never starves the others.
`max_rps` is a ceiling per endpoint and account: the poller's adaptive rate control
(`jobdash.poll.ratelimit`) runs below them, as fast as the endpoint allows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from jobdash.api.errors import ConfigError


@dataclass(frozen=True, slots=True)
class PollerOptions:
    interval: float = 3.0
    max_interval: float = 30.0
    max_in_flight: int = 32
    max_rps: float = 100.0

    def as_kwargs(self) -> dict[str, Any]:
        return asdict(self)


_KINDS: dict[str, type] = {
    "interval": float,
    "max_interval": float,
    "max_in_flight": int,
    "max_rps": float,
}

#: The accepted range of each option (inclusive), as the README documents it.
RANGES: dict[str, tuple[float, float]] = {
    "interval": (0.1, 3600.0),
    "max_interval": (0.1, 86400.0),
    "max_in_flight": (1, 256),
    "max_rps": (0.1, 10000.0),
}


def _span(name: str) -> str:
    low, high = RANGES[name]
    return f"{low:g} to {high:g}"


def poller_options(
    config: Mapping[str, Any] | None = None, *, interval: float | None = None
) -> PollerOptions:
    """Options from a loaded config.toml (`settings.load_config_toml()`), `interval` overriding."""
    table = (config or {}).get("poller", {})
    if not isinstance(table, Mapping):
        raise ConfigError("config.toml: [poller] must be a table")
    unknown = sorted(set(table) - set(_KINDS))
    if unknown:
        raise ConfigError(
            f"config.toml: unknown key(s) in [poller]: {', '.join(unknown)}; known keys: {', '.join(_KINDS)}"
        )
    values: dict[str, Any] = {}
    for name, kind in _KINDS.items():
        if name not in table:
            continue
        value = table[name]
        # TOML has nan and inf; neither is a usable interval, rate or count.
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise ConfigError(
                f"config.toml: [poller] {name} must be a positive number, not {value!r}"
            )
        if kind is int and value != int(value):
            raise ConfigError(f"config.toml: [poller] {name} must be a whole number, not {value!r}")
        low, high = RANGES[name]
        if not low <= value <= high:
            raise ConfigError(
                f"config.toml: [poller] {name} must be from {_span(name)}, not {value!r}"
            )
        values[name] = kind(value)
    options = PollerOptions(**values)
    if interval is not None:
        if interval <= 0:
            raise ConfigError(f"--interval must be positive, not {interval:g}")
        if not RANGES["interval"][0] <= interval <= RANGES["interval"][1]:
            raise ConfigError(
                f"--interval must be from {_span('interval')} seconds, not {interval:g}"
            )
        options = replace(options, interval=interval)
    if options.max_interval < options.interval:
        options = replace(options, max_interval=options.interval)
    return options
