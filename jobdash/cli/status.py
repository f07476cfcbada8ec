"""`jobdash status`: fetch jobs once, or follow them to the end with `--watch`."""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rich.console import Group
from rich.text import Text

from jobdash.cli.common import (
    EXIT_OK,
    EXIT_UNFINISHED,
    EXIT_USAGE,
    add_job_id_arguments,
    console,
    print_error,
    refuse_invalid_ids,
)
from jobdash.cli.status_view import (
    ChangeLog,
    Results,
    Target,
    progress_line,
    render_results,
    result_json,
    summary_line,
)
from jobdash.cli.tree import plain_lines
from jobdash.config.config_file import load_config
from jobdash.connections.connection import service_endpoint
from jobdash.connections.groups import describe_selection, selection
from jobdash.connections.registry import Connections
from jobdash.poll.options import PollerOptions
from jobdash.services.registry import UnknownServiceError, service
from jobdash.text.jsonsafe import json_text
from jobdash.watch.history import History
from jobdash.watch.servers import ServerJoin, fetch_all
from jobdash.watch.values import PollUpdate, WatchEntry, WatchKey


def _seconds(*, allow_zero: bool) -> Callable[[str], float]:
    """An argparse type for a finite number of seconds (argparse reports misuse as exit 2)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
            least = "zero or more" if allow_zero else "more than zero"
            raise argparse.ArgumentTypeError(f"must be a finite number {least}, not {text!r}")
        return value

    return parse


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "job_ids", nargs="*", metavar="JOB_ID", help="jobs to show (default: the watchlist)"
    )
    add_job_id_arguments(parser)
    parser.add_argument(
        "--json", action="store_true", help="print a JSON array, one object per job"
    )
    parser.add_argument(
        "--exit-status",
        action="store_true",
        help="exit 1 if any job failed, 8 if any has not finished, 0 if all succeeded",
    )
    parser.add_argument(
        "--watch", action="store_true", help="keep refreshing until every job has ended"
    )
    parser.add_argument(
        "--interval",
        type=_seconds(allow_zero=False),
        default=None,
        metavar="S",
        help="base poll interval in seconds (default 3, or [poller] interval in config.toml)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds(allow_zero=True),
        default=None,
        metavar="S",
        help="give up watching after S seconds (exit 8)",
    )


#: The width printed into a pipe or file: wide enough that no line is cut or wrapped.
WHOLE_LINE_WIDTH = 10_000


def _watchlist_entries(args: argparse.Namespace) -> tuple[list[WatchEntry], Any, bool]:
    """The watchlist's entries (those of one connection with --os-cloud / --endpoint /
    --project-id), with the store to record into, and whether the watchlist has any."""
    from jobdash.store.core import Store

    store = Store()
    try:
        entries: list[WatchEntry] = store.entries()
        selected = selection(args)
    except BaseException:
        store.close()
        raise
    any_entries = bool(entries)
    if selected is not None:
        entries = [entry for entry in entries if selected(entry)]
    return entries, store, any_entries


async def run_status(args: argparse.Namespace) -> int:
    if args.job_ids and (refused := refuse_invalid_ids(args)) is not None:
        return refused  # the id rule of `add`: nothing is sent for an id that breaks it
    config = load_config()
    options = config.poller_with(args.interval)
    targets: list[Target] = []
    store: Any = None
    connections = Connections(
        args, config=config, max_connections=max(20, config.poller.max_in_flight)
    )
    if args.job_ids:
        try:
            current = await connections.open_current()
        except BaseException:
            await connections.aclose()
            raise
        try:
            chosen = service(args.service)
        except UnknownServiceError as exc:
            await connections.aclose()
            print_error(str(exc))
            return EXIT_USAGE
        endpoint = service_endpoint(current.settings, current.endpoint, chosen, current.auth)
        targets = [
            Target(WatchKey(endpoint, current.project_id, job_id, chosen.name))
            for job_id in args.job_ids
        ]
    else:
        entries, store, any_entries = _watchlist_entries(args)
        if not entries:
            store.close()
            return _nothing_to_show(args, limited=any_entries)
        by_key = {entry.key: entry for entry in entries}
        connections.entry_for = by_key.get
        if any(connections.source_of(entry) == ("current",) for entry in entries):
            # Entries from before connections were recorded use this command's: say
            # what is missing up front (exit 2), as for ids given on the command line.
            try:
                await connections.open_current()
            except BaseException:
                store.close()
                await connections.aclose()
                raise
        targets = [Target(entry.key, entry.label) for entry in entries]
    try:
        results = Results(targets)
        _learned_before(results, store)
        if args.watch:
            finished = await _watch(args, options, connections, results, store)
        else:
            await _fetch_once(options, connections, results, store)
            finished = True
    finally:
        await connections.aclose()
        if store is not None:
            store.close()
    now = datetime.now(UTC)
    if args.json:
        print(
            json_text(
                [
                    result_json(t, results.updates.get(t.key), results.jobdash_extra(t.key, now))
                    for t in targets
                ],
                indent=2,
            )
        )
    else:
        print_results(results, now, summary=len(targets) > 1)
    if not finished:
        print_error(f"timed out after {args.timeout:g}s with jobs still running")
        return EXIT_UNFINISHED
    return results.exit_code(exit_status=args.exit_status)


def print_results(results: Results, now: datetime, *, summary: bool) -> None:
    out = console()
    parts: list[Text | Group] = [render_results(results, now)]
    if summary:
        parts.append(summary_line(results))
    if sys.stdout.isatty():
        for part in parts:
            out.print(part)  # Rich wraps at the terminal's width
    elif out.color_system is None:
        # Into a pipe or file, without colour: the same lines, whole, without Rich's layout.
        ascii_only = not out.encoding.lower().startswith("utf")
        out.file.write(
            "".join(
                line + "\n" for part in parts for line in plain_lines(part, ascii_only=ascii_only)
            )
        )
    else:
        # Colour asked for (FORCE_COLOR) into a pipe: lines stay whole for grep and logs.
        out.soft_wrap = True
        out.width = WHOLE_LINE_WIDTH
        for part in parts:
            out.print(part)


def _nothing_to_show(args: argparse.Namespace, *, limited: bool) -> int:
    """An empty watchlist (or none of its entries in the connection asked for): fine to
    look at, but nothing a watch or a status check can pass on."""
    hint = "add jobs with `jobdash add JOB_ID` or pass ids"
    if limited:
        if args.json:
            print("[]")
        print_error(
            f"no watched job matches {describe_selection(args)}",
            hint="`jobdash ls` lists every entry",
        )
        return EXIT_USAGE if args.watch or args.exit_status else EXIT_OK
    if args.json:
        print("[]")
    if args.watch or args.exit_status:
        # Exit 0 here would tell a CI step that every job succeeded.
        print_error("nothing to watch: the watchlist is empty", hint=hint)
        return EXIT_USAGE
    print_error("the watchlist is empty", hint=hint)
    return EXIT_OK


def _make_poller(
    options: PollerOptions,
    connections: Connections,
    store: Any,
    on_update: Callable[[PollUpdate], None] | None = None,
) -> Any:
    from jobdash.poll.poller import Poller

    return Poller(
        connections.client_for,
        store=store,
        on_update=on_update,
        rate_group=connections.rate_group,
        **options.as_kwargs(),
    )


async def _fetch_once(
    options: PollerOptions, connections: Connections, results: Results, store: Any
) -> None:
    poller = _make_poller(options, connections, store)
    try:
        updates = await poller.refresh_all_once([t.key for t in results.targets])
        for update in updates:
            results.updates[update.key] = update
        await _join_servers(poller, results, store)
    finally:
        await poller.aclose()


def _learned_before(results: Results, store: Any) -> None:
    """Servers and history from the watchlist database: the one in use, or (for ids given
    on the command line) the default one if it exists, read only for this."""
    if store is not None:
        results.servers = ServerJoin(store.servers())
        results.history = History(store.finished_jobs())
        return
    from jobdash.config.paths import database_file
    from jobdash.store.core import Store
    from jobdash.store.sqlite import StoreError

    if not database_file().exists():
        return
    try:
        with Store(database_file()) as other:
            results.servers = ServerJoin(other.servers())
            results.history = History(other.finished_jobs())
    except StoreError as exc:
        print_error(f"warning: no estimates: {exc}")


async def _join_servers(poller: Any, results: Results, store: Any) -> None:
    """Fetch the servers behind failed sub-jobs, and other services' failed resources (once
    per failure when there is a store)."""
    requests = [
        request
        for target in results.targets
        if (update := results.updates.get(target.key)) is not None
        for request in results.servers.wanted(target.key, update.job)
    ]
    found = await fetch_all(poller, results.servers, requests)
    if store is None:
        return
    from jobdash.store.sqlite import StoreError

    for info in found:
        try:
            store.record_server(info)
        except StoreError as exc:
            print_error(f"warning: could not save {info.kind} {info.server_id}: {exc}")


async def _watch(
    args: argparse.Namespace,
    options: PollerOptions,
    connections: Connections,
    results: Results,
    store: Any,
) -> bool:
    """Follow the targets until all have settled; False when the timeout passed first."""
    settled = asyncio.Event()
    interactive_stream = sys.stderr if args.json else sys.stdout
    interactive = interactive_stream.isatty()
    changes = ChangeLog(console(sys.stdout), {t.key: t.label for t in results.targets})
    changes.console.soft_wrap = True  # a line per change, whole, whatever the width

    def on_update(update: PollUpdate) -> None:
        results.updates[update.key] = update
        if not interactive and not args.json:
            changes.note(update)
        if results.done():
            settled.set()

    poller: Any
    if store is not None:
        from jobdash.poll.sharing import SharedPoller

        # A dashboard may poll this watchlist already: then follow it, asking nothing of
        # the cloud; otherwise poll for this command only (it never takes the lease).
        poller = SharedPoller(
            lambda sink: _make_poller(options, connections, store, sink),
            store,
            on_update,
            lead=False,
            since=store.change_number(),
        )
    else:
        poller = _make_poller(options, connections, store, on_update)
    snapshots = store.snapshots() if store is not None else None
    poller.set_watchlist([t.key for t in results.targets], snapshots)
    for key, snapshot in (snapshots or {}).items():
        if key in changes.labels and snapshot.job is not None:
            seen = PollUpdate(
                key,
                snapshot.fetched_at or datetime.now(UTC),
                job=snapshot.job,
                expired=snapshot.expired,
            )
            results.updates.setdefault(key, seen)
    for target in results.targets:
        poller.refresh(target.key)
    started = time.monotonic()
    runner = asyncio.create_task(poller.run())
    try:
        finished = await _follow(args, results, settled, started, poller, interactive_stream)
        if store is not None:
            # Servers the polling process fetched meanwhile are not fetched again.
            results.servers = ServerJoin(store.servers())
        await _join_servers(poller, results, store)
        return finished
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await poller.aclose()


async def _follow(
    args: argparse.Namespace,
    results: Results,
    settled: asyncio.Event,
    started: float,
    poller: Any,
    interactive_stream: Any,
) -> bool:
    """Wait (with live progress on a terminal) until every job settled or time ran out."""
    if interactive_stream.isatty():
        from rich.console import Group
        from rich.live import Live

        live_console = console(interactive_stream)
        with Live(console=live_console, refresh_per_second=4, transient=True) as live:
            while True:
                live.update(
                    Group(
                        progress_line(
                            results,
                            started,
                            poller.endpoint_states(),
                            _polling_note(poller),
                        ),
                        render_results(results, datetime.now(UTC), in_progress=True),
                    )
                )
                if await _wait(settled, 1.0):
                    return True
                if args.timeout is not None and time.monotonic() - started >= args.timeout:
                    return False
    remaining = (
        None if args.timeout is None else max(0.0, args.timeout - (time.monotonic() - started))
    )
    return await _wait(settled, remaining)


def _polling_note(poller: Any) -> str | None:
    """ "following host:pid" while a dashboard polls for this command, else None."""
    if getattr(poller, "polling", True):
        return None
    describe = getattr(poller, "describe", None)
    return describe() if describe is not None else None


async def _wait(event: asyncio.Event, timeout: float | None) -> bool:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    return True
