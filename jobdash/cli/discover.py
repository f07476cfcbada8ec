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
    open_connection_from_args,
    print_error,
)
from jobdash.services.base import JobService
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
from jobdash.watch.values import WatchKey


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
    target = await current_target(args)
    async with open_connection_from_args(args) as connection:
        from jobdash.api.client import JobsClient
        from jobdash.services.registry import service

        http = connection.http  # type: ignore[attr-defined]

        def client_for(key: WatchKey) -> JobsClient:
            return JobsClient(http, key.endpoint, key.project_id, service=service(key.service))

        found = await discover(client_for, replace(target, label=None), since, listed, now=now)
    with Store() as store:
        result = store.add(found.entries)
    added = set(result.added)
    if args.json:
        print(json_text(_as_json(found, added, unlisted), indent=2))
    else:
        _print_text(found, added, unlisted)
    return EXIT_UNFETCHED if found.failed else EXIT_OK


def _as_json(
    found: Discovery, added: set[WatchKey], unlisted: list[JobService]
) -> dict[str, object]:
    return {
        "since": found.since.isoformat(),
        "services": {
            one.service.name: {
                "added": [e.key.job_id for e in one.entries if e.key in added],
                "duplicates": [e.key.job_id for e in one.entries if e.key not in added],
                "older": one.older,
                "error": one.error,
            }
            for one in found.found
        },
        "without_list": [one.name for one in (unlisted or unlisted_services())],
    }


def _print_text(found: Discovery, added: set[WatchKey], unlisted: list[JobService]) -> None:
    out = error_console()
    for one in found.found:
        title = one.service.title
        if one.error is not None:
            out.print(Text(f"{title}: the job list failed: {one_line(one.error, 300)}", "bold red"))
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
