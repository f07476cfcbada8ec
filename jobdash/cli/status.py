"""`jobdash status`: fetch jobs once, or follow them to the end with `--watch`."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.console import Group
from rich.live import Live
from rich.text import Text

from jobdash.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNFETCHED,
    EXIT_UNFINISHED,
    console,
    open_connection_from_args,
    print_error,
)
from jobdash.cli.tree import error_label, job_tree, status_text
from jobdash.client import JobsClient
from jobdash.errors import ErrorKind
from jobdash.model import JobStatus, raw_dict
from jobdash.poller_options import poller_options
from jobdash.settings import load_config_toml
from jobdash.textsafe import one_line
from jobdash.watch import PollUpdate, WatchEntry, WatchKey

#: Errors that will not go away by asking again; `--watch` stops waiting for such entries.
PERMANENT_ERRORS = frozenset(
    {ErrorKind.NOT_FOUND, ErrorKind.INVALID_ID, ErrorKind.FORBIDDEN, ErrorKind.UNAUTHORIZED}
)


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


@dataclass
class Target:
    key: WatchKey
    label: str | None = None


@dataclass
class Results:
    """The latest update per target, in the order the user asked for them."""

    targets: list[Target]
    updates: dict[WatchKey, PollUpdate] = field(default_factory=dict)

    def done(self) -> bool:
        return all(self._settled(t.key) for t in self.targets)

    def _settled(self, key: WatchKey) -> bool:
        update = self.updates.get(key)
        if update is None:
            return False
        if update.job is not None and (update.expired or update.job.is_terminal):
            return True
        return update.error is not None and update.error.kind in PERMANENT_ERRORS

    def exit_code(self, *, exit_status: bool) -> int:
        updates = [self.updates.get(t.key) for t in self.targets]
        if any(
            u is None or (u.job is None or (u.error is not None and not u.expired)) for u in updates
        ):
            return EXIT_UNFETCHED
        if not exit_status:
            return EXIT_OK
        jobs = [u.job for u in updates if u is not None and u.job is not None]
        if any(job.status == JobStatus.FAIL for job in jobs):
            return EXIT_FAILED
        if any(not job.is_terminal for job in jobs):
            return EXIT_UNFINISHED
        return EXIT_OK


def result_json(target: Target, update: PollUpdate | None) -> dict[str, Any]:
    """One element of `status --json`: the job as the API sent it plus `project_id`, or an error."""
    key = target.key
    if update is not None and update.job is not None and (update.error is None or update.expired):
        body = raw_dict(update.job)
        body.setdefault("job_id", key.job_id)
        body["project_id"] = key.project_id
        if update.expired:
            body["expired"] = True
        return body
    if update is None or update.error is None:
        error = {
            "kind": "network",
            "message": "no answer before the watch ended",
            "http_status": None,
            "code": None,
        }
    else:
        error = update.error.as_dict()
    return {"job_id": key.job_id, "project_id": key.project_id, "status": None, "error": error}


def render_results(results: Results, now: datetime, *, in_progress: bool = False) -> Group:
    """The tree of every target. `in_progress`: a watch is still running, so passing errors
    are being retried and the last known job stays in view."""
    parts: list[Any] = []
    for target in results.targets:
        update = results.updates.get(target.key)
        if update is None:
            line = Text("… ", style="dim")
            line.append(one_line(target.key.job_id, 64))
            line.append("  waiting for the first answer", style="dim")
            parts.append(line)
            continue
        error = None if update.expired else update.error
        permanent = error is not None and error.kind in PERMANENT_ERRORS
        if update.job is None:
            assert error is not None
            parts.append(
                error_label(target.key.job_id, error, retrying=in_progress and not permanent)
            )
        elif error is None:
            note = "expired: the cloud has purged this finished job" if update.expired else None
            parts.append(job_tree(update.job, now, label=target.label, note=note))
        elif permanent or not in_progress:
            tree = job_tree(update.job, now, label=target.label, note="last known")
            parts.append(Group(error_label(target.key.job_id, error), tree))
        else:
            # A passing hiccup: keep showing the job, say that its refresh is being retried.
            note = f"last known; {error.kind}, retrying"
            parts.append(job_tree(update.job, now, label=target.label, note=note))
    return Group(*parts)


def summary_line(results: Results) -> Text:
    """`5 jobs: ✓3 succeeded  ✗1 failed  ●1 not finished  !0 not fetched`, zero counts left out."""
    counts = {"succeeded": 0, "failed": 0, "not finished": 0, "not fetched": 0}
    for target in results.targets:
        update = results.updates.get(target.key)
        job = update.job if update is not None else None
        if job is None or (update is not None and update.error is not None and not update.expired):
            counts["not fetched"] += 1
        elif job.failed:
            counts["failed"] += 1
        elif job.is_terminal:
            counts["succeeded"] += 1
        else:
            counts["not finished"] += 1
    line = Text(f"{len(results.targets)} jobs:", style="bold")
    styles = {
        "succeeded": ("✓", "green"),
        "failed": ("✗", "bold red"),
        "not finished": ("●", "yellow"),
    }
    for name, count in counts.items():
        if count:
            icon, style = styles.get(name, ("!", "red"))
            line.append(f"  {icon}{count} {name}", style=style)
    return line


def progress_line(results: Results, started: float, states: Sequence[Any]) -> Text:
    finished = sum(
        1
        for t in results.targets
        if (u := results.updates.get(t.key)) and u.job and u.job.is_terminal
    )
    failed = sum(
        1 for t in results.targets if (u := results.updates.get(t.key)) and u.job and u.job.failed
    )
    line = Text(f"{finished}/{len(results.targets)} jobs finished", style="bold")
    if failed:
        line.append(f"  ✗{failed} failed", style="bold red")
    line.append(f"  watching for {int(time.monotonic() - started)}s", style="dim")
    for state in states:
        if getattr(state, "throttled", False):
            line.append(
                f"  throttled by {one_line(state.endpoint, 60)}: backing off {state.backoff_seconds:.0f}s",
                style="yellow",
            )
        elif getattr(state, "offline_reason", None):
            line.append(f"  offline: {one_line(state.offline_reason, 80)}", style="red")
    return line


def transition_line(update: PollUpdate, label: str | None) -> Text | None:
    """One log line for a status change, for non-interactive output."""
    stamp = update.fetched_at.astimezone(UTC).strftime("%H:%M:%S")
    if update.error is not None and not update.expired:
        line = Text(f"{stamp}  ")
        line.append_text(error_label(update.key.job_id, update.error))
        return line
    if update.job is None or not (update.changed or update.previous_status is None):
        return None
    line = Text(f"{stamp}  {one_line(update.key.job_id, 64)}  ")
    if label:
        line.append(f"«{one_line(label, 40)}»  ")
    line.append_text(status_text(update.job.status))
    if update.job.total_sub_jobs:
        counts = update.job.status_counts()
        line.append(
            f"  {update.job.finished_sub_jobs}/{update.job.total_sub_jobs} sub-jobs done"
            f", {counts.get(JobStatus.FAIL, 0)} failed"
        )
    return line


async def _targets(args: argparse.Namespace, connection: Any) -> tuple[list[Target], Any]:
    """The jobs to show: the ids given, else the whole watchlist (with the store to record into)."""
    if args.job_ids:
        return [
            Target(WatchKey(connection.endpoint, connection.project_id, job_id))
            for job_id in args.job_ids
        ], None
    from jobdash.store import Store

    store = Store()
    entries: list[WatchEntry] = store.entries()
    return [Target(entry.key, entry.label) for entry in entries], store


def _client_factory(connection: Any) -> Callable[[WatchKey], JobsClient]:
    clients: dict[tuple[str, str], JobsClient] = {}

    def client_for(key: WatchKey) -> JobsClient:
        if key.endpoint == connection.endpoint:
            return connection.client
        # Other endpoints (other regions or services) share the pool and credentials.
        return clients.setdefault(
            (key.endpoint, key.project_id),
            JobsClient(connection.http, key.endpoint, key.project_id),
        )

    return client_for


async def run_status(args: argparse.Namespace) -> int:
    async with open_connection_from_args(args) as connection:
        targets, store = await _targets(args, connection)
        try:
            if not targets:
                print_error(
                    "the watchlist is empty", hint="add jobs with `jobdash add JOB_ID` or pass ids"
                )
                if args.json:
                    print("[]")
                return EXIT_OK
            results = Results(targets)
            if args.watch:
                finished = await _watch(args, connection, results, store)
            else:
                await _fetch_once(args, connection, results, store)
                finished = True
        finally:
            if store is not None:
                store.close()
    out = console()
    if args.json:
        print(
            json.dumps(
                [result_json(t, results.updates.get(t.key)) for t in targets],
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        out.print(render_results(results, datetime.now(UTC)))
        if len(targets) > 1:
            out.print(summary_line(results))
    if not finished:
        print_error(f"timed out after {args.timeout:g}s with jobs still running")
        return EXIT_UNFINISHED
    return results.exit_code(exit_status=args.exit_status)


def _make_poller(
    args: argparse.Namespace, connection: Any, store: Any, on_update: Callable[[PollUpdate], None]
) -> Any:
    from jobdash.poller import Poller

    options = poller_options(load_config_toml(), interval=args.interval)
    return Poller(
        _client_factory(connection), store=store, on_update=on_update, **options.as_kwargs()
    )


async def _fetch_once(
    args: argparse.Namespace, connection: Any, results: Results, store: Any
) -> None:
    poller = _make_poller(args, connection, store, lambda update: None)
    try:
        updates = await poller.refresh_all_once([t.key for t in results.targets])
    finally:
        await poller.aclose()
    for update in updates:
        results.updates[update.key] = update


async def _watch(args: argparse.Namespace, connection: Any, results: Results, store: Any) -> bool:
    """Follow the targets until all have settled; False when the timeout passed first."""
    labels = {t.key: t.label for t in results.targets}
    settled = asyncio.Event()
    interactive_stream = sys.stderr if args.json else sys.stdout
    interactive = interactive_stream.isatty()
    log = console(sys.stdout if not args.json else sys.stderr)

    def on_update(update: PollUpdate) -> None:
        results.updates[update.key] = update
        if not interactive and not args.json:
            line = transition_line(update, labels.get(update.key))
            if line is not None:
                log.print(line)
        if results.done():
            settled.set()

    poller = _make_poller(args, connection, store, on_update)
    snapshots = store.snapshots() if store is not None else None
    poller.set_watchlist([t.key for t in results.targets], snapshots)
    for key, snapshot in (snapshots or {}).items():
        if key in labels and snapshot.job is not None:
            results.updates.setdefault(
                key,
                PollUpdate(
                    key,
                    snapshot.fetched_at or datetime.now(UTC),
                    job=snapshot.job,
                    expired=snapshot.expired,
                ),
            )
    poller.refresh()
    started = time.monotonic()
    runner = asyncio.create_task(poller.run())
    try:
        if interactive:
            live_console = console(interactive_stream)
            with Live(console=live_console, refresh_per_second=4, transient=True) as live:
                while True:
                    live.update(
                        Group(
                            progress_line(results, started, poller.endpoint_states()),
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
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await poller.aclose()


async def _wait(event: asyncio.Event, timeout: float | None) -> bool:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    return True
