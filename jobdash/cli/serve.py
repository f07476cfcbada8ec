"""`jobdash serve`: the dashboard in a browser, through textual-serve (the `web` extra).

Each browser tab gets its own dashboard process, all on the same watchlist (or, with
`--demo`, on one simulator that this process runs for every tab), up to `--max-tabs` of
them. Safe by default: loopback only, and a random access token in the printed URL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
#: Tabs served at once: each is a dashboard process (tens of MB, its own redraws), so a
#: script or a stuck browser must not start a hundred. `--max-tabs` raises it.
DEFAULT_MAX_TABS = 4
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


def _max_tabs(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
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
        "--max-tabs",
        type=_max_tabs,
        default=DEFAULT_MAX_TABS,
        metavar="N",
        help="browser tabs served at once, each a dashboard process (default %(default)s); "
        "a tab beyond them gets a page saying why",
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


def url_hosts(host: str) -> list[str]:
    """How a browser should name `host`: for a wildcard address, the machine's name and
    then each of its addresses beyond loopback (a name may not resolve on the other
    machines; an address does)."""
    bare = host.strip("[]")
    if bare in ("", "0.0.0.0", "::"):
        family = socket.AF_INET6 if bare == "::" else socket.AF_INET
        names = [socket.gethostname(), *machine_addresses(family)]
    else:
        names = [bare]
    return [f"[{name}]" if ":" in name else name for name in names]


def machine_addresses(family: socket.AddressFamily) -> list[str]:
    """This machine's addresses of `family` that another machine could use: not loopback,
    not link-local. Best effort: what cannot be read is left out."""
    found: set[str] = set()
    if family == socket.AF_INET:
        found.update(_linux_ipv4_addresses())
    elif family == socket.AF_INET6:
        found.update(_linux_ipv6_addresses())
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None, family, socket.SOCK_STREAM):
            found.add(str(info[4][0]))
    kept = []
    for text in found:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            continue
        if not (address.is_loopback or address.is_link_local or address.is_unspecified):
            kept.append(address)
    return [str(address) for address in sorted(kept)]


#: ioctl that reads an interface's IPv4 address (Linux's <linux/sockios.h>).
_SIOCGIFADDR = 0x8915


def _linux_ipv4_addresses() -> list[str]:
    if not sys.platform.startswith("linux"):
        return []
    import fcntl
    import struct

    addresses = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                answer = fcntl.ioctl(probe.fileno(), _SIOCGIFADDR, request)
            except OSError:
                continue  # an interface without an IPv4 address
            addresses.append(socket.inet_ntoa(answer[20:24]))
    return addresses


def _linux_ipv6_addresses() -> list[str]:
    """From /proc/net/if_inet6: one line per address, its 32 hex digits first."""
    try:
        lines = Path("/proc/net/if_inet6").read_text().splitlines()
    except OSError:
        return []
    addresses = []
    for line in lines:
        digits = line.split()[0] if line.split() else ""
        if len(digits) == 32:
            with contextlib.suppress(ValueError):
                addresses.append(str(ipaddress.IPv6Address(int(digits, 16))))
    return addresses


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
    """Serve until Ctrl-C (exit 130), SIGTERM or SIGHUP (exit 0).

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
            max_tabs=args.max_tabs,
        )

        def ready(port: int) -> None:
            urls = "".join(
                f"    http://{name}:{port}/?token={token}\n" for name in url_hosts(args.host)
            )
            tabs = "1 tab" if args.max_tabs == 1 else f"{args.max_tabs} tabs"
            print(
                f"jobdash serve: the dashboard on {what}, one for each browser tab, at\n"
                f"{urls}"
                f"Up to {tabs} at once (--max-tabs); Ctrl-C stops the server and every "
                "dashboard it started.",
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
