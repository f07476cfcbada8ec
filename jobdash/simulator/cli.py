"""`jobdash simulate`: run the simulator in the foreground and say how to connect to it."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from typing import TYPE_CHECKING, TextIO

from jobdash.simulator.config import SimulatorConfig

if TYPE_CHECKING:
    from jobdash.simulator.server import Simulator


def _non_negative(value: str) -> float:
    number = float(value)
    if number < 0 or number != number:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {value!r}")
    return number


def _rate(value: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value!r}")
    return number


def _positive(value: str) -> float:
    number = _non_negative(value)
    if number == 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return number


def add_simulate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    parser.add_argument(
        "--port", type=int, default=8787, help="port to listen on, 0 for any (%(default)s)"
    )
    parser.add_argument(
        "--speed",
        type=_non_negative,
        default=1.0,
        help="simulated seconds per real second (%(default)s)",
    )
    parser.add_argument(
        "--fail-rate",
        type=_rate,
        default=0.1,
        help="share of sub-jobs that fail, 0..1 (%(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (%(default)s)")
    parser.add_argument(
        "--latency-ms",
        type=_non_negative,
        default=0.0,
        help="delay added to every API response, in ms (%(default)s)",
    )
    parser.add_argument(
        "--token-ttl",
        type=_positive,
        default=86400.0,
        help="IAM token lifetime in simulated seconds (%(default)s)",
    )
    parser.add_argument(
        "--purge-after",
        type=_non_negative,
        default=86400.0,
        help="finished jobs disappear this many simulated seconds after ending (%(default)s)",
    )
    parser.add_argument(
        "--not-found-style",
        choices=("404", "400"),
        default="404",
        help="answer unknown jobs with 404, or with 400 Common.0011 (%(default)s)",
    )
    parser.add_argument(
        "--extra-project",
        dest="extra_projects",
        action="append",
        default=[],
        metavar="NAME",
        help="another project of the same account (repeatable); printed with its id",
    )
    parser.add_argument(
        "--extra-accounts",
        type=int,
        default=0,
        metavar="N",
        help="N more accounts, each with its own user, key pair, token and project",
    )
    parser.add_argument(
        "--rate-limit",
        type=_positive,
        default=None,
        metavar="RPS",
        help="let through at most RPS job requests per second for each account (a token "
        "bucket per account; default: no limit)",
    )
    parser.add_argument(
        "--rate-limit-answer",
        choices=("429", "202"),
        default="429",
        help="answer requests above the limit with 429 Common.1503 or 202 Common.0024 "
        "(%(default)s)",
    )
    parser.add_argument(
        "--demo-jobs",
        type=int,
        default=0,
        metavar="N",
        help="create N server-creation jobs at start and print their ids (%(default)s)",
    )


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    return SimulatorConfig(
        host=args.host,
        port=args.port,
        speed=args.speed,
        fail_rate=args.fail_rate,
        seed=args.seed,
        latency_ms=args.latency_ms,
        token_ttl=args.token_ttl,
        purge_after=args.purge_after,
        not_found_style=args.not_found_style,
        extra_projects=tuple(getattr(args, "extra_projects", None) or ()),
        extra_accounts=int(getattr(args, "extra_accounts", 0) or 0),
        rate_limit=getattr(args, "rate_limit", None),
        rate_limit_answer=getattr(args, "rate_limit_answer", "429"),
    )


#: Every variable a block may set; each block unsets the others' so that it works alone,
#: also pasted into a shell where another block was pasted before.
_METHOD_VARIABLES: dict[str, tuple[str, ...]] = {
    "token": ("OS_AUTH_TOKEN",),
    "password": (
        "OS_AUTH_URL",
        "OS_USERNAME",
        "OS_PASSWORD",
        "OS_USER_DOMAIN_NAME",
        "OS_PROJECT_NAME",
    ),
    "aksk": ("OS_ACCESS_KEY", "OS_SECRET_KEY"),
}


def connection_lines(sim: Simulator) -> list[str]:
    """The banner line, then one block of shell lines per way of authenticating.

    Each block works on its own: it unsets the other methods' variables, and gives the
    endpoint, project and region, plus SIMULATOR_TOKEN for creating jobs with curl.
    """
    creds = sim.credentials
    banner = (
        f"jobdash simulator on {sim.url} project_id={sim.project_id} "
        f"project_name={creds.project_name} region={sim.region} "
        f"user={creds.username} password={creds.password} domain={creds.user_domain_name} "
        f"ak={creds.access_key} sk={creds.secret_key} token={creds.token}"
    )

    def export(name: str, value: str) -> str:
        return f"export {name}={shlex.quote(value)}"

    def block(title: str, method: str, own: list[str]) -> list[str]:
        others = [v for m, names in _METHOD_VARIABLES.items() if m != method for v in names]
        return [
            f"# {title}:",
            "unset OS_CLOUD " + " ".join(others),
            export("JOBDASH_ENDPOINT", sim.url),
            export("OS_PROJECT_ID", sim.project_id),
            export("OS_REGION_NAME", sim.region),
            # Only for creating jobs in the simulator with curl; jobdash does not read it.
            export("SIMULATOR_TOKEN", creds.token),
            *own,
        ]

    extras = [
        f"# another project of {creds.username}: project_name={name} project_id={project_id}"
        for name, project_id in list(sim.accounts[0].projects.items())[1:]
    ]
    for number, account in enumerate(sim.accounts[1:], start=1):
        other = account.credentials
        extras.append(
            f"# account {number + 1}: project_id={account.project_id} "
            f"project_name={other.project_name} user={other.username} "
            f"password={other.password} domain={other.user_domain_name} "
            f"ak={other.access_key} sk={other.secret_key} token={other.token}"
        )
    return [
        banner,
        *extras,
        *block("static token", "token", [export("OS_AUTH_TOKEN", creds.token)]),
        *block(
            "or IAM password",
            "password",
            [
                export("OS_AUTH_URL", sim.auth_url),
                export("OS_USERNAME", creds.username),
                export("OS_PASSWORD", creds.password),
                export("OS_USER_DOMAIN_NAME", creds.user_domain_name),
                export("OS_PROJECT_NAME", creds.project_name),
            ],
        ),
        *block(
            "or AK/SK",
            "aksk",
            [
                export("OS_ACCESS_KEY", creds.access_key),
                export("OS_SECRET_KEY", creds.secret_key),
            ],
        ),
    ]


def run_simulate(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Serve until interrupted. Exit 0 on Ctrl-C, 2 when the settings or the port are unusable."""
    from jobdash.simulator.server import Simulator

    stream = out or sys.stdout
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"jobdash simulate: {exc}", file=sys.stderr)
        return 2
    demo_jobs = max(0, int(getattr(args, "demo_jobs", 0) or 0))

    def ready(sim: Simulator) -> None:
        lines = connection_lines(sim)
        for index in range(demo_jobs):
            job_id = sim.create_servers(1 + (index * 3) % 8, f"demo{index}")
            lines.append(f"# demo job: {job_id}")
        print("\n".join(lines), file=stream, flush=True)

    try:
        asyncio.run(Simulator(config).serve(ready))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"jobdash simulate: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    return 0
