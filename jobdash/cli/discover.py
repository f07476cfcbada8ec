"""`jobdash discover`: watch the jobs the connection started recently, found through the
lists of the services that have one (`jobdash.watch.discovery`)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import UTC, datetime

from rich.text import Text

from jobdash.cli.common import (
    EXIT_OK,
    EXIT_UNFETCHED,
    EXIT_USAGE,
    current_target,
    error_console,
    print_error,
)
from jobdash.config.config_file import load_config
from jobdash.connections.groups import connection_label, selection
from jobdash.connections.registry import Connections
from jobdash.services.base import JobService
from jobdash.services.registry import ecs_endpoint_of
from jobdash.text.jsonsafe import json_text
from jobdash.text.safe import one_line
from jobdash.watch.discovery import (
    DEFAULT_SINCE,
    Discovery,
    discover,
    listed_services,
    parse_window,
    unlisted_services,
)
from jobdash.watch.values import WatchEntry, WatchKey


def add_discover_arguments(parser: argparse.ArgumentParser) -> None:
    listed = ",".join(one.name for one in listed_services())
    unlisted = ", ".join(one.title for one in unlisted_services())
    parser.add_argument(
        "--since",
        default=DEFAULT_SINCE,
        metavar="WINDOW",
        help=f"how far back to look: 30m, 6h, 2d (default: {DEFAULT_SINCE})",
    )
    parser.add_argument(
        "--service",
        default=None,
        metavar="NAMES",
        help=f"comma-separated services to search (default: every one with a list: {listed});"
        f" {unlisted} have no job list, so their jobs are added by id (`jobdash add`)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print what was found and added as JSON"
    )


def _chosen(names: str | None) -> tuple[list[JobService], list[JobService]]:
    """(services with a list, services without one) named by `--service`; every listed
    one when none is named. Raises UnknownServiceError."""
    from jobdash.services.registry import service

    if names is None:
        return listed_services(), []
    picked = list(
        {service(name).name: service(name) for name in names.split(",") if name.strip()}.values()
    )
    return [one for one in picked if one.listing], [one for one in picked if not one.listing]


async def run_discover(args: argparse.Namespace) -> int:
    from jobdash.services.registry import UnknownServiceError
    from jobdash.store.core import Store

    try:
        window = parse_window(args.since)
    except ValueError as exc:
        print_error(f"--since: {exc}", hint="nothing was added to the watchlist")
        return EXIT_USAGE
    try:
        listed, unlisted = _chosen(args.service)
    except UnknownServiceError as exc:
        print_error(str(exc), hint="nothing was added to the watchlist")
        return EXIT_USAGE
    if not listed:
        names = ", ".join(one.title for one in unlisted) or "none"
        print_error(
            f"no job list to search: {names} cannot list their jobs",
            hint=f"discover searches {', '.join(one.name for one in listed_services())};"
            " add other services' jobs by id with `jobdash add --service NAME ID`",
        )
        return EXIT_USAGE
    now = datetime.now(UTC)
    since = now - window
    templates = _watched_connections(args)
    if not templates:
        templates = [await current_target(args)]
    connections = Connections(args, config=load_config())
    searched: list[tuple[WatchEntry, Discovery]] = []
    try:
        for template in templates:
            connection = replace(template, label=None)
            # Every key searched for this connection is fetched with its credentials.
            connections.entry_for = lambda key, c=connection: replace(c, key=key)
            found = await discover(connections.client_for, connection, since, listed, now=now)
            searched.append((connection, found))
    finally:
        await connections.aclose()
    with Store() as store:
        result = store.add(entry for _, found in searched for entry in found.entries)
    added = set(result.added)
    if args.json:
        print(json_text(_as_json(searched, added, unlisted), indent=2))
    else:
        _print_text(searched, added, unlisted)
    return EXIT_UNFETCHED if any(found.failed for _, found in searched) else EXIT_OK


def _watched_connections(args: argparse.Namespace) -> list[WatchEntry]:
    """One template (no job id) per connection the watchlist's entries were added with, at
    its ECS endpoint; only those the connection flags select, when given. [] for an empty
    watchlist or one whose entries the flags do not select: then the command's own
    connection is searched."""
    from jobdash.store.core import Store

    with Store() as store:
        entries = store.entries()
    chosen = selection(args)
    if chosen is not None:
        entries = [entry for entry in entries if chosen(entry)]
    templates: dict[tuple[object, ...], WatchEntry] = {}
    for entry in entries:
        ecs = ecs_endpoint_of(entry.key.endpoint, entry.key.service)
        template = replace(entry, key=WatchKey(ecs, entry.key.project_id, ""), label=None)
        group = (
            ecs,
            entry.key.project_id,
            entry.profile,
            entry.auth_method,
            entry.region,
        )
        templates.setdefault(group, template)
    return list(templates.values())


def _as_json(
    searched: list[tuple[WatchEntry, Discovery]],
    added: set[WatchKey],
    unlisted: list[JobService],
) -> dict[str, object]:
    since = searched[0][1].since if searched else None
    services: dict[str, dict[str, object]] = {}
    for _, found in searched:
        for one in found.found:
            into = services.setdefault(
                one.service.name, {"added": [], "duplicates": [], "older": 0, "error": None}
            )
            into["added"] += [e.key.job_id for e in one.entries if e.key in added]  # type: ignore[operator]
            into["duplicates"] += [e.key.job_id for e in one.entries if e.key not in added]  # type: ignore[operator]
            into["older"] += one.older  # type: ignore[operator]
            if one.error is not None:
                into["error"] = one.error
    return {
        "since": since.isoformat() if since else None,
        "connections": [connection_label(connection) for connection, _ in searched],
        "services": services,
        "without_list": [one.name for one in (unlisted or unlisted_services())],
    }


def _print_text(
    searched: list[tuple[WatchEntry, Discovery]],
    added: set[WatchKey],
    unlisted: list[JobService],
) -> None:
    out = error_console()
    for connection, found in searched:
        if len(searched) > 1:
            out.print(Text(connection_label(connection), style="bold"))
        for one in found.found:
            title = one.service.title
            if one.error is not None:
                out.print(
                    Text(f"{title}: the job list failed: {one_line(one.error, 300)}", "bold red")
                )
                continue
            new = [e.key.job_id for e in one.entries if e.key in added]
            known = len(one.entries) - len(new)
            line = f"{title}: added {len(new)} job{'s' if len(new) != 1 else ''}"
            if known:
                line += f", skipped {known} already watched"
            out.print(Text(line, style="green" if new else ""))
            for job_id in new:
                print(job_id)
    without = unlisted or unlisted_services()
    out.print(
        Text(
            f"{', '.join(one.title for one in without)}: no job list; add their jobs by id"
            " (`jobdash add --service NAME ID`)",
            style="dim",
        )
    )
