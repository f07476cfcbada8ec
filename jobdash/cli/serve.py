"""`jobdash serve`: the dashboard in a browser, through textual-serve (the `web` extra).

Each browser tab gets its own dashboard process, all on the same watchlist (or, with
`--demo`, on one simulator that this process runs for every tab). Safe by default:
loopback only, and a random access token in the printed URL.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import secrets
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TextIO

from jobdash.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    print_error,
    print_warning,
)
from jobdash.web.session import SharedDemo, TabSession, tab_command

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: The demo's pace, as `jobdash demo` has it by default.
DEMO_SPEED = 2.0
DEMO_SEED = 7

MISSING_EXTRA = (
    "`jobdash serve` needs the optional web extra (textual-serve), which is not installed"
)
MISSING_EXTRA_HINT = (
    "install it with: pip install 'jobdash[web]'   (from a checkout: pip install -e '.[web]')"
)

#: Connection flags a tab's `jobdash ui` gets as the serve command got them.
_FORWARDED = (
    ("os_cloud", "--os-cloud"),
    ("endpoint", "--endpoint"),
    ("project_id", "--project-id"),
    ("region", "--region"),
    ("ca_file", "--ca-file"),
)


def _port(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {number}")
    return number


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("serve")
    group.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to listen on (default %(default)s: this machine only; anything else "
        "lets others reach the dashboard, which acts with your cloud credentials)",
    )
    group.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help="port (default %(default)s; 0: any free)"
    )
    group.add_argument(
        "--demo",
        action="store_true",
        help="serve the dashboard on the built-in simulator (no account needed)",
    )


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    """How a browser should name `host`: the machine's name for a wildcard address."""
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = socket.gethostname()
    bare = host.strip("[]")
    return f"[{bare}]" if ":" in bare else bare


def forwarded_flags(args: argparse.Namespace) -> list[str]:
    flags: list[str] = []
    for dest, flag in _FORWARDED:
        value = getattr(args, dest, None)
        if value:
            if dest == "ca_file":
                value = str(Path(value).expanduser().resolve())
            flags += [flag, str(value)]
    if getattr(args, "insecure", None):
        flags.append("--insecure")
    return flags


def run_serve(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Serve until Ctrl-C (exit 130) or SIGTERM (exit 0).

    Exit 2 when the web extra is missing, the settings are incomplete or the address
    cannot be used.
    """
    try:
        from jobdash.tui.web_server import DashboardServer
    except ImportError:
        print_error(MISSING_EXTRA, hint=MISSING_EXTRA_HINT)
        return EXIT_USAGE
    stream = out or sys.stdout
    if not args.demo:
        from jobdash.config.settings import require_complete
        from jobdash.config.sources import load_settings

        require_complete(load_settings(args))  # ConfigError: exit 2, before anything starts
    if not is_loopback(args.host):
        print_warning(
            f"serving on {args.host}, beyond this machine: whoever has the URL below uses "
            "the dashboard with your cloud credentials. Share it only with people you would "
            "lend them to."
        )
    token = secrets.token_urlsafe(24)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="jobdash-serve-")))
        session = stack.enter_context(_session(args))
        what = "the demo simulator" if args.demo else "the saved watchlist"
        server = DashboardServer(
            tab_command(session.write(workdir / "session.json")),
            host=args.host,
            port=args.port,
            token=token,
            title="jobdash" + (" demo" if args.demo else ""),
        )

        def ready(port: int) -> None:
            url = f"http://{_url_host(args.host)}:{port}/?token={token}"
            print(
                f"jobdash serve: the dashboard on {what}, one for each browser tab, at\n"
                f"    {url}\n"
                "Ctrl-C stops the server and every dashboard it started.",
                file=stream,
                flush=True,
            )

        loop = asyncio.new_event_loop()
        try:
            interrupted = loop.run_until_complete(server.run(ready))
        except OSError as exc:
            loop.close()
            print_error(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
            return EXIT_USAGE
        if server.tabs_started == 0:
            loop.close()
        # Otherwise the loop stays open: a tab's process reports its exit to it a moment
        # after its session has ended, which on a closed loop is an error at exit.
    if interrupted:
        print_error("interrupted")
        return EXIT_INTERRUPTED
    return EXIT_OK


@contextmanager
def _session(args: argparse.Namespace) -> Iterator[TabSession]:
    """What every tab runs; with --demo, the simulator and its jobs live as long as this."""
    if not args.demo:
        yield TabSession(serve_pid=os.getpid(), argv=["ui", *forwarded_flags(args)])
        return
    from jobdash.tui.demo import demo_world  # the demo's jobs; imports no Textual

    with demo_world(speed=DEMO_SPEED, seed=DEMO_SEED) as (sim, store):
        demo = SharedDemo.of(sim, Path(store.path))
        yield TabSession(serve_pid=os.getpid(), demo=demo)
