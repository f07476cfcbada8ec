"""What every headless command shares: exit codes, consoles, error printing, connections."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.text import Text

from jobdash.text.safe import one_line, printable
from jobdash.watch.values import WatchEntry, WatchKey

if TYPE_CHECKING:
    from jobdash.config.config_file import Config
    from jobdash.config.settings import Settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNFETCHED = 3
EXIT_UNFINISHED = 8
EXIT_INTERRUPTED = 130


def console(stream: TextIO | None = None) -> Console:
    """A Rich console that never interprets markup or emoji in what we print."""
    return Console(
        file=stream or sys.stdout,
        markup=False,
        emoji=False,
        highlight=False,
        soft_wrap=False,
    )


def error_console() -> Console:
    console_ = console(sys.stderr)
    console_.soft_wrap = True  # messages stay whole lines, whatever the width
    return console_


def print_error(message: str, *, hint: str | None = None) -> None:
    err = error_console()
    line = Text("jobdash: ", style="bold red")
    line.append(printable(message, keep_newlines=True))
    err.print(line)
    if hint:
        err.print(Text(printable(hint, keep_newlines=True), style="dim"))


def print_warning(message: str) -> None:
    line = Text("warning: ", style="bold yellow")
    line.append(printable(message, keep_newlines=True))
    error_console().print(line)


class WarningPrinter(logging.Handler):
    """Prints the core's logged warnings as `warning:` lines on stderr, each message once.

    Looks up `sys.stderr` per line, so under a live display the line lands above it.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self._printed: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message not in self._printed:
            self._printed.add(message)
            print_warning(message)


def route_core_warnings(*, to_stderr: bool) -> None:
    """Send jobdash's log records to the log file, and warnings also to stderr unless a
    dashboard owns the screen (it shows what it can; the rest is in the file)."""
    from jobdash.cli.logfile import is_log_handler, open_log_handler

    logger = logging.getLogger("jobdash")
    for handler in list(logger.handlers):
        if isinstance(handler, (WarningPrinter, logging.NullHandler)) or is_log_handler(handler):
            logger.removeHandler(handler)
            handler.close()
    logger.setLevel(logging.INFO)
    log_handler = open_log_handler()
    if log_handler is not None:
        logger.addHandler(log_handler)
    logger.addHandler(WarningPrinter() if to_stderr else logging.NullHandler())


@asynccontextmanager
async def open_connection_from_args(
    args: argparse.Namespace, config: Config | None = None
) -> AsyncIterator[object]:
    """Load settings from flags/env/files, check them, connect; close the pool afterwards.

    `config`: config.toml as the command already loaded it (else it is loaded here).
    Raises ConfigError (exit 2) when something is missing.
    """
    from jobdash.config.config_file import load_config
    from jobdash.config.settings import require_complete
    from jobdash.config.sources import load_settings
    from jobdash.connections.connection import open_connection

    config = config or load_config()
    settings = load_settings(args, loaded_config=config)
    require_complete(settings)
    in_flight = config.poller.max_in_flight
    connection = await open_connection(
        settings, max_connections=max(20, in_flight), deadline=config.http.deadline
    )
    for warning in getattr(connection, "warnings", []) or []:
        print_warning(warning)
    try:
        yield connection
    finally:
        await connection.aclose()


async def current_target(
    args: argparse.Namespace, config: Config | None = None, settings: Settings | None = None
) -> WatchEntry:
    """Where ids given on the command line live: the given (or ambient) connection's
    endpoint and project, from the settings alone when they say, else by logging in.

    Returns a `jobdash.watch.values.WatchEntry` template (job id empty) that records the
    connection, so entries made from it are fetched with the same credentials later.
    `settings`: those of `args` as the command already loaded them (else loaded here).
    """
    from jobdash.config.config_file import load_config
    from jobdash.config.sources import load_settings
    from jobdash.connections.connection import target_without_login

    config = config or load_config()
    settings = settings or load_settings(args, loaded_config=config)
    known = target_without_login(settings)
    project_name = settings.project_name
    if known is not None:
        endpoint, project_id = known
    else:
        async with open_connection_from_args(args, config) as connection:
            endpoint, project_id = connection.endpoint, connection.project_id  # type: ignore[attr-defined]
            token = getattr(connection.auth, "token_info", None)  # type: ignore[attr-defined]
            project_name = project_name or getattr(token, "project_name", None)
    return WatchEntry(
        WatchKey(endpoint, project_id, ""),
        profile=settings.profile,
        auth_method=settings.auth_method,
        region=settings.region,
        project_name=project_name,
    )


def add_job_id_arguments(parser: argparse.ArgumentParser) -> None:
    """`--service` and `--any-id`: whose jobs the ids name, and which ids are taken."""
    from jobdash.services.registry import services

    parser.add_argument(
        "--service",
        default=None,
        metavar="NAME",
        help=f"whose jobs these are: {', '.join(services())} (default: ecs); the endpoint is"
        " the service's in the connection's region",
    )
    parser.add_argument(
        "--any-id",
        action="store_true",
        help="accept ids that are not 32 hex characters (jobs of other services)",
    )


def takes_any_id(any_id_flag: bool, service_name: str | None) -> bool:
    """The one id rule: ECS job ids are 32 hex characters; other services' ids, or any id
    with `--any-id`, need only be safe in a URL."""
    from jobdash.services.registry import DEFAULT_SERVICE

    return any_id_flag or (service_name or DEFAULT_SERVICE) != DEFAULT_SERVICE


def id_problems(ids: list[str], *, any_id: bool) -> list[tuple[str, str]]:
    """Each id that breaks the rule, with why (`jobdash.api.ids.job_id_problem`)."""
    from jobdash.api.ids import job_id_problem

    found = [(value, job_id_problem(value, any_id=any_id)) for value in ids]
    return [(value, problem) for value, problem in found if problem is not None]


def print_invalid_ids(invalid: list[tuple[str, str]], *, any_id: bool, verb: str) -> None:
    """`skipped 2 invalid ids:` and one line per id with its problem, on stderr."""
    from jobdash.api.ids import id_problem

    out = error_console()
    count = len(invalid)
    out.print(Text(f"{verb} {count} invalid id{'s' if count != 1 else ''}:", style="bold red"))
    for value, problem in invalid:
        out.print(Text(f"  {one_line(repr(value), 90)}: {problem}"))
    if not any_id and any(id_problem(value) is None for value, _ in invalid):
        out.print(Text("  (--any-id takes ids of another form, for jobs of other services)", "dim"))


def refuse_invalid_ids(args: argparse.Namespace) -> int | None:
    """EXIT_USAGE, having said why, when an id on the command line breaks the id rule
    (before anything is sent); None when all are fine."""
    from jobdash.services.registry import UnknownServiceError, service

    try:
        chosen = service(args.service).name
    except UnknownServiceError as exc:
        print_error(str(exc))
        return EXIT_USAGE
    any_id = takes_any_id(args.any_id, chosen)
    invalid = id_problems(list(args.job_ids), any_id=any_id)
    if not invalid:
        return None
    print_invalid_ids(invalid, any_id=any_id, verb="refused")
    print_error("nothing was fetched: every id must be valid")
    return EXIT_USAGE


def service_target(template: WatchEntry, name: str | None, settings: Settings) -> WatchEntry:
    """`template` moved to the service called `name`: the endpoint configured for it in
    `settings` (clouds.yaml's `<service>_endpoint_override`), else its endpoint in the same
    region. Raises `UnknownServiceError` for a name jobdash does not know."""
    from jobdash.connections.connection import service_endpoint
    from jobdash.services.registry import service

    found = service(name)
    endpoint = service_endpoint(settings, template.key.endpoint, found)
    return replace(template, key=replace(template.key, endpoint=endpoint, service=found.name))
