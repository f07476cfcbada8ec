"""`jobdash add`, `jobdash rm` and `jobdash ls`: edit and list the watchlist."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from rich.table import Table
from rich.text import Text

from jobdash.api.ids import extract_job_ids
from jobdash.cli.common import (
    EXIT_OK,
    EXIT_UNFETCHED,
    EXIT_USAGE,
    add_job_id_arguments,
    console,
    current_target,
    error_console,
    id_problems,
    print_error,
    print_invalid_ids,
    service_target,
    takes_any_id,
)
from jobdash.cli.tree import status_text
from jobdash.connections.groups import (
    cloud_name,
    describe_selection,
    project_label,
    region_of,
    selection,
)
from jobdash.text.format import ago
from jobdash.text.jsonsafe import json_text
from jobdash.text.safe import one_line
from jobdash.watch.values import Snapshot, WatchEntry, WatchKey

if TYPE_CHECKING:
    from jobdash.api.errors import NetworkError
    from jobdash.config.settings import Settings


def add_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "job_ids",
        nargs="*",
        metavar="JOB_ID",
        help="job ids to watch; '-' reads ids, JSON or free text from standard input",
    )
    parser.add_argument("--label", default=None, help="a label shown next to these jobs")
    add_job_id_arguments(parser)


def add_rm_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job_ids", nargs="*", metavar="JOB_ID", help="job ids to stop watching")
    parser.add_argument("--finished", action="store_true", help="remove every job that has ended")


def collect_ids(args_ids: list[str], stdin: TextIO) -> tuple[list[str], str]:
    """The ids given on the command line, and the text read from stdin ("" when none): it
    is read for `-`, or when no ids are given and input is piped."""
    read_stdin = "-" in args_ids or (not args_ids and not stdin.isatty())
    given = [value for value in args_ids if value != "-"]
    return given, stdin.read() if read_stdin else ""


def piped_ids(piped: str, service_name: str | None) -> tuple[list[str], str | None]:
    """The job ids in piped input and the service it was recognised as (None when it was
    not: a bare `{"job_id": ...}`, plain ids, free text). With a service named, an answer
    recognised as that service's gives its ids; any other input is searched for ids."""
    from jobdash.services.recognise import recognise_text

    recognised = recognise_text(piped)
    if recognised is not None and service_name in (None, recognised[0]):
        return recognised[1], recognised[0]
    return extract_job_ids(piped), None


def _no_ids_in(piped: str) -> str:
    """Why piped input gave no id: an API error answer (e.g. a failed create) says so itself."""
    from jobdash.api.client import parse_error_body

    try:
        body = parse_error_body(json.loads(piped))
    except ValueError:
        body = None
    if body is not None and (body.code or body.message):
        said = ": ".join(part for part in (body.code, body.message) if part)
        return f"the input is an API error, not a job: {one_line(said, 200)}"
    return f"found no job id in the {len(piped.encode(errors='replace'))} bytes of input"


def _article(title: str) -> str:
    # Service names are read letter by letter (an RDS, a CCE), so the first letter decides.
    return "an" if title[:1].upper() in "AEFHILMNORSX" else "a"


async def _add_target(args: argparse.Namespace, settings: Settings) -> WatchEntry | None:
    """Where the ids go (`current_target`: without a login whenever `settings`, those of
    `args`, or an earlier login tell). When it needs a login and IAM cannot be reached,
    what is certain without one; else None, after saying why the login failed and how to
    add without it."""
    from jobdash.api.errors import NetworkError
    from jobdash.api.ids import validate_id
    from jobdash.auth.service_catalog import service_origin
    from jobdash.config.checks import check_endpoint
    from jobdash.connections.connection import region_endpoint

    try:
        return await current_target(args, settings=settings)
    except NetworkError as exc:
        failure = exc
    endpoint = check_endpoint(settings.endpoint) if settings.endpoint else None
    endpoint = endpoint or region_endpoint(settings)
    if endpoint is None or not settings.project_id:
        _say_login_needed(settings, failure, endpoint_known=endpoint is not None)
        return None
    # A host no catalog confirmed this time: say which, and why.
    error_console().print(
        Text(
            f"without an IAM login ({failure.message}): the jobs go to {endpoint}, the ECS"
            f" host that region {settings.region}'s IAM names",
            style="yellow",
        )
    )
    return WatchEntry(
        WatchKey(service_origin(endpoint), validate_id(settings.project_id, "project id"), ""),
        profile=settings.profile,
        auth_method=settings.auth_method,
        region=settings.region,
        project_name=settings.project_name,
    )


def _say_login_needed(settings: Settings, failure: NetworkError, *, endpoint_known: bool) -> None:
    needs: list[str] = []
    gives: list[str] = []
    if not settings.project_id:
        needs.append(f"the id of project {settings.project_name!r}")
        gives.append("--project-id ID (or project_id in clouds.yaml)")
    if not endpoint_known:
        needs.append("the ECS endpoint")
        gives.append("--endpoint URL (or ecs_endpoint_override in clouds.yaml)")
    print_error(
        f"cannot add: {' and '.join(needs)} {'come' if len(needs) > 1 else 'comes'} from"
        f" an IAM login, and it failed: "
        f"{failure.message}",
        hint=f"give {' and '.join(gives)} to add without a login, or add again once IAM "
        "answers (one login is enough: later adds reuse what it told, offline too); "
        "nothing was added to the watchlist",
    )


async def run_add(args: argparse.Namespace) -> int:
    from jobdash.config.sources import load_settings
    from jobdash.services.registry import UnknownServiceError, service
    from jobdash.store.core import Store

    ids, piped = collect_ids(args.job_ids, sys.stdin)
    try:
        named = service(args.service).name if args.service is not None else None
    except UnknownServiceError as exc:
        print_error(str(exc), hint="nothing was added to the watchlist")
        return EXIT_USAGE
    found, recognised = piped_ids(piped, named)
    ids.extend(found)
    if not ids and piped.strip():
        print_error(_no_ids_in(piped), hint="nothing was added to the watchlist")
        return EXIT_USAGE
    if not ids:
        print_error(
            "no job ids given",
            hint="pass ids as arguments, or pipe them in: `... | jobdash add -` (one per line, JSON or text)",
        )
        return EXIT_USAGE
    # `--service` always wins; else an answer that names its service; else ECS.
    chosen = service(named or recognised)
    if recognised is not None and named is None:
        error_console().print(Text(f"recognised {_article(chosen.title)} {chosen.title} answer"))
    any_id = takes_any_id(args.any_id, chosen.name)
    invalid = id_problems(ids, any_id=any_id)
    refused = {value for value, _ in invalid}
    accepted = [value for value in ids if value not in refused]
    valid = list(dict.fromkeys(accepted))
    repeated = len(accepted) - len(valid)
    added: list[WatchKey] = []
    duplicates: list[WatchKey] = []
    if valid:
        # Read once: the target, and the endpoint of the chosen service, both come from them.
        settings = load_settings(args)
        target = await _add_target(args, settings)
        if target is None:
            return EXIT_UNFETCHED
        template = service_target(target, chosen.name, settings)
        now = datetime.now(UTC)
        entries = [
            replace(
                template,
                key=replace(template.key, job_id=job_id),
                label=args.label,
                added_at=now,
            )
            for job_id in valid
        ]
        with Store() as store:
            result = store.add(entries)
        added, duplicates = result.added, result.duplicates
    out = error_console()
    if added:
        out.print(
            Text(
                f"added {len(added)} job{'s' if len(added) != 1 else ''} to the watchlist",
                style="green",
            )
        )
        for key in added:
            print(key.job_id)
    if duplicates or repeated:
        count = len(duplicates) + repeated
        line = Text(
            f"ignored {count} duplicate{'s' if count != 1 else ''} (already watched or repeated)",
            style="yellow",
        )
        out.print(line)
        for key in duplicates:
            out.print(Text(f"  {key.job_id}", style="dim"))
    if invalid:
        print_invalid_ids(invalid, any_id=any_id, verb="skipped")
        return EXIT_USAGE
    return EXIT_OK


async def run_rm(args: argparse.Namespace) -> int:
    from jobdash.store.core import Store

    if not args.job_ids and not args.finished:
        print_error(
            "nothing to remove", hint="give job ids, or --finished to drop every job that has ended"
        )
        return EXIT_USAGE
    removed: list[WatchKey] = []
    missing: list[str] = []
    with Store() as store:
        selected = selection(args)
        within = None if selected is None else {e.key for e in store.entries() if selected(e)}
        if args.finished:
            removed.extend(store.remove_finished(within))
        for job_id in args.job_ids:
            keys = [k for k in store.find(job_id) if within is None or k in within]
            if not keys:
                missing.append(job_id)
                continue
            removed.extend(store.remove(keys))
    out = error_console()
    out.print(
        Text(f"removed {len(removed)} job{'s' if len(removed) != 1 else ''} from the watchlist")
    )
    for key in removed:
        print(key.job_id)
    if missing:
        for job_id in missing:
            out.print(Text(f"not in the watchlist: {one_line(job_id, 80)}", style="yellow"))
        return EXIT_USAGE
    return EXIT_OK


def _age(snapshot: Snapshot | None, now: datetime) -> str:
    return ago(snapshot.fetched_at if snapshot else None, now)


def entry_json(entry: WatchEntry, snapshot: Snapshot | None) -> dict[str, Any]:
    job = snapshot.job if snapshot else None
    return {
        "job_id": entry.key.job_id,
        "project_id": entry.key.project_id,
        "endpoint": entry.key.endpoint,
        "service": entry.key.service,
        "label": entry.label,
        "cloud": entry.profile,
        "region": region_of(entry),
        "project_name": entry.project_name,
        "auth_method": entry.auth_method,
        "profile": entry.profile,
        "added_at": entry.added_at.isoformat() if entry.added_at else None,
        "status": job.status if job else None,
        "job_type": job.job_type if job else None,
        "fetched_at": snapshot.fetched_at.isoformat() if snapshot and snapshot.fetched_at else None,
        "expired": bool(snapshot and snapshot.expired),
        "error": (
            {"kind": snapshot.error_kind, "message": snapshot.error_message}
            if snapshot and snapshot.error_kind
            else None
        ),
    }


#: The columns `jobdash ls` prints into a pipe or file, tab-separated, one job a line.
PLAIN_COLUMNS = (
    "job_id",
    "status",
    "service",
    "job_type",
    "label",
    "fetched_at",
    "cloud",
    "region",
    "project_id",
    "endpoint",
)


def add_ls_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the watchlist as JSON")
    parser.epilog = (
        f"{parser.epilog or ''}\ninto a pipe or file: a header line, then one job a line,"
        f" whole values separated by tabs: {', '.join(PLAIN_COLUMNS)} ('-' for none)"
    ).strip()


async def run_ls(args: argparse.Namespace) -> int:
    from jobdash.store.core import Store

    with Store() as store:
        entries = store.entries()
        snapshots = store.snapshots()
    selected = selection(args)
    if selected is not None:
        entries = [entry for entry in entries if selected(entry)]
    if args.json:
        print(json_text([entry_json(e, snapshots.get(e.key)) for e in entries], indent=2))
        return EXIT_OK
    if not entries:
        limited = describe_selection(args)
        error_console().print(
            f"no watched job matches {limited}; `jobdash ls` lists every entry"
            if limited
            else "the watchlist is empty; add jobs with `jobdash add JOB_ID`"
        )
        return EXIT_OK
    if not sys.stdout.isatty():
        # Scripts read it: whole values, never cut or wrapped to a width nobody has.
        header = "\t".join(PLAIN_COLUMNS) + "\n"
        sys.stdout.write(header + "".join(_plain_line(e, snapshots.get(e.key)) for e in entries))
        return EXIT_OK
    _print_table(entries, snapshots)
    return EXIT_OK


def _state_note(snapshot: Snapshot | None) -> str:
    if snapshot and snapshot.expired:
        return " (expired)"
    if snapshot and snapshot.error_kind:
        return f" ({snapshot.error_kind})"
    return ""


def _plain_line(entry: WatchEntry, snapshot: Snapshot | None) -> str:
    job = snapshot.job if snapshot else None
    fetched = snapshot.fetched_at if snapshot else None
    values = (
        entry.key.job_id,
        f"{job.status if job else 'unknown'}{_state_note(snapshot)}",
        entry.key.service,
        job.job_type if job else None,
        entry.label,
        fetched.astimezone(UTC).isoformat(timespec="seconds") if fetched else None,
        entry.profile,
        region_of(entry),
        entry.key.project_id,
        entry.key.endpoint,
    )
    # one_line turns tabs and line breaks into spaces: a value never splits a field.
    return "\t".join(one_line(value) or "-" for value in values) + "\n"


def _print_table(entries: list[WatchEntry], snapshots: dict[WatchKey, Snapshot]) -> None:
    now = datetime.now(UTC)
    places = {(cloud_name(e), e.key.project_id, e.key.endpoint) for e in entries}
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("status", no_wrap=True)
    table.add_column("job id", no_wrap=True, min_width=32)  # ids are copied: never cut them
    # Type and label wrap between words when the terminal is narrow; nothing is dropped.
    table.add_column("type", no_wrap=True)  # one word (`batchCreateServers`): kept whole
    table.add_column("label", min_width=8, ratio=1)
    table.add_column("updated", no_wrap=True)
    if len(places) > 1:
        table.add_column("cloud", min_width=6)
        table.add_column("region", min_width=6)
        table.add_column("project / endpoint", overflow="fold", min_width=12, ratio=1)
    for entry in entries:
        snapshot = snapshots.get(entry.key)
        job = snapshot.job if snapshot else None
        status = status_text(job.status) if job else Text("… unknown", style="dim")
        note = _state_note(snapshot)
        if note:
            status.append(note, style="magenta" if snapshot and snapshot.expired else "red")
        row = [
            status,
            Text(one_line(entry.key.job_id, 64)),
            Text(one_line(job.job_type if job else "", 80)),
            Text(one_line(entry.label or "", 200)),
            Text(_age(snapshot, now), style="dim"),
        ]
        if len(places) > 1:
            row.append(Text(one_line(cloud_name(entry), 40)))
            row.append(Text(one_line(region_of(entry) or "", 30)))
            row.append(
                Text(
                    f"{one_line(project_label(entry), 40)} {one_line(entry.key.endpoint, 120)}",
                    style="dim",
                )
            )
        table.add_row(*row)
    out = console()
    natural = out.measure(table, options=out.options.update_width(10_000)).maximum
    table.expand = natural > out.width  # only then do the ratios share out what is left
    out.print(table)
    if len(places) == 1:
        ((cloud, project_id, endpoint),) = places
        first = entries[0]
        region = region_of(first)
        where = f"cloud {cloud}, " if first.profile else ""
        if region:
            where += f"region {region}, "
        name = project_label(first)
        footer = (
            f"{len(entries)} job{'s' if len(entries) != 1 else ''} in {where}project {name}"
            f"{'' if name == project_id else f' ({project_id})'} at {endpoint}"
        )
        footer_console = console()
        footer_console.soft_wrap = True  # the terminal wraps it; the endpoint stays whole
        footer_console.print(Text(one_line(footer), style="dim"))
