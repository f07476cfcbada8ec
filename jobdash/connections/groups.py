"""Which connection a watch entry belongs to, for display and selection.

An entry records the connection it was added with: a cloud's name, or none for the
ambient one (flags, `OS_*` environment, config.toml), with its auth method, region and
project name; never a secret. Entries of one cloud, endpoint and project form a group:
one row in the dashboard, one line of state in its header, one `--os-cloud` selection.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from jobdash.auth.service_catalog import service_origin
from jobdash.config.checks import check_endpoint
from jobdash.config.sources import flag_value
from jobdash.text.safe import one_line
from jobdash.watch.values import EndpointState, WatchEntry

#: Shown for entries added without a cloud (flags, OS_* environment, config.toml).
AMBIENT = "(ambient)"
_REGION_IN_HOST = re.compile(r"^[a-z]+\.([a-z]{2}-[a-z0-9-]+?)\.")


Group = tuple[str, str, str]


# -- what an entry's connection is, for display and selection -----------------------------


def cloud_name(entry: WatchEntry) -> str:
    return entry.profile or AMBIENT


def region_of(entry: WatchEntry) -> str | None:
    """The recorded region, else the one an OTC-style endpoint host names."""
    if entry.region:
        return entry.region
    match = _REGION_IN_HOST.match(urlsplit(entry.key.endpoint).hostname or "")
    return match.group(1) if match else None


def project_label(entry: WatchEntry) -> str:
    return entry.project_name or entry.key.project_id


def connection_label(entry: WatchEntry) -> str:
    """`cloud · region · project`, safe to show (no secret is ever recorded)."""
    parts = [cloud_name(entry), region_of(entry) or "", project_label(entry)]
    return " · ".join(one_line(part, 64) for part in parts if part)


def connection_group(entry: WatchEntry) -> Group:
    """Entries with the same group share a connection row in the dashboard."""
    return (entry.profile or "", entry.key.endpoint, entry.key.project_id)


def add_target(
    selected: WatchEntry | None,
    own: WatchEntry | None,
    entries: Iterable[WatchEntry],
    *,
    group: Group | None = None,
) -> tuple[WatchEntry | None, str | None]:
    """Which connection the dashboard's `a` adds to: the selected job's (or the selected
    connection row's), else the dashboard's own, else the only one watched; else
    (None, what to do)."""
    if selected is not None:
        return selected, None
    if group is not None:
        found = next((entry for entry in entries if connection_group(entry) == group), None)
        if found is not None:
            return found, None
    if own is not None:
        return own, None
    groups = {connection_group(entry): entry for entry in entries}
    if len(groups) == 1:
        return next(iter(groups.values())), None
    if groups:
        return None, (
            "Select a job of the connection to add to (several are watched), or start "
            "jobdash with that connection's settings."
        )
    return None, "No endpoint and project are configured, so new ids cannot be resolved."


def selection(flags: Any) -> Callable[[WatchEntry], bool] | None:
    """The entries `--os-cloud`, `--endpoint` and `--project-id` limit a command to (all of
    them must match); None when none of these flags is given. OS_CLOUD does not limit."""
    cloud = (flag_value(flags, "os_cloud") or "").strip()
    endpoint_flag = (flag_value(flags, "endpoint") or "").strip()
    project = (flag_value(flags, "project_id") or "").strip()
    if not (cloud or endpoint_flag or project):
        return None
    endpoint = service_origin(check_endpoint(endpoint_flag)) if endpoint_flag else ""

    def selected(entry: WatchEntry) -> bool:
        return (
            (not cloud or entry.profile == cloud)
            and (not endpoint or entry.key.endpoint.rstrip("/") == endpoint)
            and (not project or entry.key.project_id == project)
        )

    return selected


def describe_selection(flags: Any) -> str:
    parts = []
    for name, flag in (("os_cloud", "cloud"), ("endpoint", "endpoint"), ("project_id", "project")):
        value = (flag_value(flags, name) or "").strip()
        if value:
            parts.append(f"{flag} {one_line(value, 80)}")
    return ", ".join(parts)


# -- the state of each connection ----------------------------------------------------------

#: Error kinds that say the credentials, not the job, are the problem.
_UNAUTHORIZED_KINDS = ("unauthorized", "forbidden")


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """One connection as the dashboard's header and group rows show it."""

    label: str
    #: "ok", "slow", "throttled", "offline", "unauthorized", "no credentials" or "waiting".
    state: str
    #: How many of its jobs are under each display status.
    counts: Mapping[str, int]


def connection_state(
    errors: Mapping[str, int], fetched: int, endpoint: EndpointState | None
) -> str:
    """The one word for a connection, worst first: an auth failure never reads as ok."""
    if errors.get("no_credentials"):
        return "no credentials"
    if any(errors.get(kind) for kind in _UNAUTHORIZED_KINDS):
        return "unauthorized"
    if endpoint is not None and endpoint.throttled:
        return "throttled"
    if (endpoint is not None and endpoint.offline_reason) or errors.get("network"):
        return "offline"
    if endpoint is not None and endpoint.slow:
        return "slow"
    return "ok" if fetched else "waiting"


def connection_states(
    labels: Mapping[Group, str],
    counts: Mapping[Group, Counter[str]],
    errors: Mapping[Group, Counter[str]],
    fetched: Mapping[Group, int],
    endpoints: Iterable[EndpointState],
) -> list[ConnectionState]:
    """Each connection's state, in `labels` order (costs the number of connections).

    Throttling is tracked per endpoint and account: a connection takes the state that
    names its cloud at its endpoint, else the one its endpoint shares by all."""
    by_endpoint: dict[str, list[EndpointState]] = {}
    for state in endpoints:
        by_endpoint.setdefault(service_origin(state.endpoint), []).append(state)

    def rate_state(group: Group) -> EndpointState | None:
        found = by_endpoint.get(service_origin(group[1]), [])
        cloud = group[0] or AMBIENT
        named = next((state for state in found if cloud in state.accounts), None)
        shared = [state for state in found if not state.accounts]  # accounts not told apart
        return named or (shared[0] if shared else None)

    return [
        ConnectionState(
            label,
            connection_state(
                errors.get(group, Counter()), fetched.get(group, 0), rate_state(group)
            ),
            counts.get(group, Counter()),
        )
        for group, label in labels.items()
    ]
