"""The `jobdash` command: argument parsing and dispatch. Commands live in sibling modules."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence

from jobdash import __version__
from jobdash.api.errors import ApiError, ConfigError, JobdashError
from jobdash.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_UNFETCHED,
    EXIT_USAGE,
    print_error,
    route_core_warnings,
)
from jobdash.text.safe import printable

EXIT_STORE = 4
#: 128 + SIGPIPE, what a shell reports for a program that wrote into a closed pipe.
EXIT_PIPE = 141

DESCRIPTION = """\
Watch the asynchronous jobs of Open Telekom Cloud and Huawei Cloud.
Without a command, opens the dashboard on the saved watchlist."""

EPILOG = """\
exit codes: 0 ok; 1 a job failed (--exit-status); 2 usage or configuration error;
3 a job could not be fetched; 4 the watchlist database cannot be used;
8 a job has not finished (--exit-status, or --watch timed out); 130 interrupted;
141 the output pipe was closed (e.g. `| head`)."""


#: Each command's help points to the main help for what is said once.
COMMAND_EPILOG = "exit codes, the log file and the config file: see `jobdash --help`"


def _epilog() -> str:
    from jobdash.config import paths

    return f"{EPILOG}\nlog file: {paths.log_file()}\nconfig file: {paths.config_file()}"


COMMANDS = (
    "ui",
    "demo",
    "serve",
    "status",
    "add",
    "discover",
    "rm",
    "ls",
    "history",
    "simulate",
    "completion",
)

#: Commands that read no setting: a broken config.toml does not stop them.
_WITHOUT_CONFIG = ("simulate", "completion")


def _connection_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    _add_connection_group(parent)
    return parent


def _add_connection_group(parser: argparse.ArgumentParser) -> None:
    from jobdash.config.sources import add_connection_arguments

    group = parser.add_argument_group(
        "connection (before or after the command: `jobdash --os-cloud prod status`)"
    )
    add_connection_arguments(group)  # type: ignore[arg-type]


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `only`, just that command's own options are set up.

    Setting up a command's options imports its module, so `jobdash status` does not
    pay for loading the dashboard's or the simulator's code at start-up.
    """
    epilog = _epilog()
    parser = argparse.ArgumentParser(
        prog="jobdash",
        description=DESCRIPTION,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-V", "--version", action="version", version=f"jobdash {__version__}")
    # Listed here for the help only: they are moved after the command before parsing.
    _add_connection_group(parser)
    connection = _connection_parent()
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(
        name: str, help_text: str, *, with_connection: bool = True
    ) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            parents=[connection] if with_connection else [],
            epilog=COMMAND_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    ui = command("ui", "open the dashboard (adding the given job ids first)")
    ui.add_argument("job_ids", nargs="*", metavar="JOB_ID")
    demo = command(
        "demo",
        "open the dashboard on the built-in simulator (no account needed)",
        with_connection=False,
    )
    parsers = {
        "ui": ui,
        "demo": demo,
        "serve": command("serve", "serve the dashboard to web browsers (needs the `web` extra)"),
        "status": command(
            "status", "show jobs (default: the watchlist); --watch follows them to the end"
        ),
        "add": command("add", "add job ids to the watchlist"),
        "discover": command(
            "discover",
            "watch the jobs started recently, from the services' job lists, for every"
            " connection of the watchlist (--os-cloud etc. limit it; the command's own"
            " connection when the watchlist has none)",
        ),
        "rm": command("rm", "remove job ids from the watchlist (--os-cloud etc. limit it)"),
        "ls": command(
            "ls", "list the watchlist with the last known status (--os-cloud etc. limit it)"
        ),
        "history": command(
            "history",
            "per job type: how many finished, median and p95 duration, failure rate, top errors",
            with_connection=False,
        ),
        "simulate": command(
            "simulate",
            "run the IAM + ECS job API simulator in the foreground",
            with_connection=False,
        ),
        "completion": command(
            "completion",
            "print a shell completion script: `source <(jobdash completion bash)`",
            with_connection=False,
        ),
    }
    for name, subparser in parsers.items():
        if only is None or only == name:
            _add_command_arguments(name, subparser)
    return parser


def _add_command_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    if name in ("ui", "demo"):
        _add_tui_arguments(parser, f"add_{name}_arguments")
    elif name == "status":
        from jobdash.cli.status import add_status_arguments

        add_status_arguments(parser)
    elif name == "serve":
        from jobdash.cli.serve import add_serve_arguments

        add_serve_arguments(parser)
    elif name == "simulate":
        from jobdash.simulator.cli import add_simulate_arguments

        add_simulate_arguments(parser)
    elif name == "history":
        from jobdash.cli.history import add_history_arguments

        add_history_arguments(parser)
    elif name == "discover":
        from jobdash.cli.discover import add_discover_arguments

        add_discover_arguments(parser)
    elif name == "completion":
        from jobdash.cli.completion import add_completion_arguments

        add_completion_arguments(parser)
    else:
        from jobdash.cli import watchlist

        getattr(watchlist, f"add_{name}_arguments")(parser)


def _add_tui_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """Let the dashboard add its own options without importing Textual for other commands."""
    try:
        from jobdash.tui import options
    except ImportError:
        return
    adder = getattr(options, name, None)
    if adder is not None:
        adder(parser)


#: Connection flags that take a value; they may come before the command's name.
GLOBAL_VALUE_FLAGS = ("--os-cloud", "--endpoint", "--project-id", "--region", "--ca-file")
GLOBAL_SWITCHES = ("--insecure",)


def _normalise_argv(argv: Sequence[str]) -> list[str]:
    """`jobdash [flags]` means `jobdash ui [flags]`; connection flags given before the
    command's name (`jobdash --os-cloud prod status`) move after it."""
    args = list(argv)
    if any(a in ("-h", "--help", "-V", "--version") for a in args[:1]):
        return args
    leading: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        name = arg.split("=", 1)[0]
        if name in GLOBAL_VALUE_FLAGS and "=" not in arg and index + 1 < len(args):
            leading += args[index : index + 2]
            index += 2
        elif name in GLOBAL_VALUE_FLAGS or arg in GLOBAL_SWITCHES:
            leading.append(arg)
            index += 1
        else:
            break
    rest = args[index:]
    if rest and rest[0] in COMMANDS:
        return [rest[0], *leading, *rest[1:]]
    first = next((a for a in rest if not a.startswith("-")), None)
    if first not in COMMANDS:
        return ["ui", *args]
    return args


#: The commands that talk to no cloud: why connection flags do not apply, what to do instead.
_WITHOUT_CONNECTION = {
    "demo": (
        "the demo runs its own simulator and logs in to it",
        "`jobdash --os-cloud NAME` opens the dashboard on a cloud's jobs",
    ),
    "simulate": (
        "the simulator is the cloud and serves every account it prints",
        "give these flags to the jobdash that talks to it (it prints them)",
    ),
    "history": (
        "it summarises every job the watchlist has seen finish, whatever its cloud",
        "`jobdash ls --os-cloud NAME` lists one cloud's jobs",
    ),
    "serve": (
        "the demo tabs run their own simulator",
        "leave out --demo to serve a cloud's jobs",
    ),
    "completion": (
        "it prints a script for the shell and talks to no cloud",
        "`jobdash completion bash`",
    ),
}


#: Each connection flag and where argparse puts it.
_CONNECTION_DESTS = {
    "--os-cloud": "os_cloud",
    "--endpoint": "endpoint",
    "--project-id": "project_id",
    "--region": "region",
    "--ca-file": "ca_file",
    "--insecure": "insecure",
}


def _refused_connection_flags(command: str | None, words: Sequence[str]) -> list[str]:
    """The connection flags in `words` that `command` has no use for (it talks to no cloud;
    argparse would only say "unrecognized arguments")."""
    if command not in _WITHOUT_CONNECTION or command == "serve":
        return []
    given = dict.fromkeys(word.split("=", 1)[0] for word in words)
    return [flag for flag in given if flag in _CONNECTION_DESTS]


def _serve_demo_flags(args: argparse.Namespace) -> list[str]:
    """Connection flags given to `serve --demo`, whose tabs would not use them."""
    if args.command != "serve" or not getattr(args, "demo", False):
        return []
    return [flag for flag, dest in _CONNECTION_DESTS.items() if getattr(args, dest, None)]


def _refuse(command: str, flags: list[str]) -> int:
    reason, hint = _WITHOUT_CONNECTION[command]
    what = "serve --demo" if command == "serve" else command
    print_error(
        f"`jobdash {what}` takes no connection flags ({', '.join(flags)}): {reason}", hint=hint
    )
    return EXIT_USAGE


def has_terminal() -> bool:
    """Whether the dashboard has a terminal to draw in and read keys from: a real one, or
    a browser tab of `jobdash serve` (Textual's web driver, named by textual-serve)."""
    if "web_driver" in os.environ.get("TEXTUAL_DRIVER", ""):
        return True
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def _dispatch(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.command not in _WITHOUT_CONFIG:
        # config.toml is checked up front, the same way for every command that reads it:
        # a broken file is one message and exit 2, even where the command needs no value
        # from it yet (`ls`, `history`).
        from jobdash.config.config_file import load_config

        load_config()
    if args.command == "completion":
        from jobdash.cli.completion import run_completion

        return run_completion(args, parser)
    if args.command in ("ui", "demo"):
        if not has_terminal():
            # Drawn into a file or a pipe the dashboard would write escape codes for ever.
            print_error(
                f"`jobdash {args.command}` is the dashboard and needs a terminal: its input"
                " or output is not one (a pipe, a file, cron or CI)",
                hint="for scripts and CI: `jobdash status` (--watch, --json, --exit-status)",
            )
            return EXIT_USAGE
        from jobdash.tui import launch

        # The dashboard shows problems on screen; text on stderr would scribble over it.
        route_core_warnings(to_stderr=False)

        if args.command == "demo":
            return launch.run_demo(args)
        return launch.run_dashboard(args, list(args.job_ids))
    if args.command == "serve":
        from jobdash.cli.serve import run_serve

        route_core_warnings(to_stderr=True)
        return run_serve(args)
    if args.command == "simulate":
        from jobdash.simulator.cli import run_simulate

        return run_simulate(args)
    route_core_warnings(to_stderr=True)
    runner = _async_command(args.command)
    return asyncio.run(runner(args))


def _async_command(name: str) -> Callable[[argparse.Namespace], object]:
    if name == "status":
        from jobdash.cli.status import run_status

        return run_status
    if name == "history":
        from jobdash.cli.history import run_history

        return run_history
    if name == "discover":
        from jobdash.cli.discover import run_discover

        return run_discover
    from jobdash.cli import watchlist

    return {
        "add": watchlist.run_add,
        "rm": watchlist.run_rm,
        "ls": watchlist.run_ls,
    }[name]  # type: ignore[return-value]


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit cannot fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # not a real file (a test's capture): nothing is flushed at exit


def _mistyped_command(given: Sequence[str], words: Sequence[str]) -> str | None:
    """The first word when it was taken for a job id but can be none: `jobdash stauts`.
    Job ids of every service hold digits; a word without any is a command mistyped."""
    if not words or words[0] != "ui" or (given and given[0] == "ui"):
        return None
    index = 0
    while index < len(given):  # past the connection flags (and their values) before it
        name = given[index].split("=", 1)[0]
        if name in GLOBAL_VALUE_FLAGS and "=" not in given[index]:
            index += 2
        elif name.startswith("-"):
            index += 1
        else:
            break
    first = given[index] if index < len(given) else None
    if first is None or any(ch.isdigit() for ch in first):
        return None
    return first


def _refuse_mistyped(word: str) -> int:
    import difflib

    close = difflib.get_close_matches(word, COMMANDS, n=1, cutoff=0.6)
    hint = f"did you mean `jobdash {close[0]}`?" if close else "see `jobdash --help`"
    print_error(
        f"unknown command {printable(word[:40])!r}: it is not a command, and not a job id"
        f" (job ids hold digits); commands: {', '.join(COMMANDS)}",
        hint=hint,
    )
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    words = _normalise_argv(given)
    mistyped = _mistyped_command(given, words)
    if mistyped is not None:
        return _refuse_mistyped(mistyped)
    command = next((word for word in words if not word.startswith("-")), None)
    refused = _refused_connection_flags(command, words)
    if refused and command is not None:
        return _refuse(command, refused)
    parser = build_parser(command if command in COMMANDS and command != "completion" else None)
    args = parser.parse_args(words)
    refused = _serve_demo_flags(args)
    if refused:
        return _refuse("serve", refused)
    try:
        code = _dispatch(args, parser)
        sys.stdout.flush()  # a closed pipe shows here rather than at interpreter exit
        return code
    except BrokenPipeError:
        # The reader (`| head -1`) took what it wanted: end quietly, as SIGPIPE would.
        _discard_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt:
        print_error("interrupted")
        return EXIT_INTERRUPTED
    except ConfigError as exc:
        print_error(str(exc))
        return EXIT_USAGE
    except ApiError as exc:
        print_error(f"{exc.kind}: {exc.message}")
        return EXIT_UNFETCHED
    except JobdashError as exc:
        # Imported here: commands that never open the store do not load it.
        from jobdash.store.sqlite import StoreError

        print_error(str(exc))
        return EXIT_STORE if isinstance(exc, StoreError) else EXIT_USAGE
