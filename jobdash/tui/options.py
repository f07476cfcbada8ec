"""Command-line options of `jobdash ui` and `jobdash demo`. Imports no Textual, so the CLI
can build its parser without loading the dashboard."""

from __future__ import annotations

import argparse


def _positive(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return number


def add_ui_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("dashboard")
    group.add_argument(
        "--interval",
        type=_positive,
        default=None,
        help="seconds between polls of a running job (default 3, or [poller] interval in config.toml)",
    )
    group.add_argument(
        "--label", default=None, help="label for the job ids given on the command line"
    )
    group.add_argument(
        "--offline",
        action="store_true",
        help="show the saved snapshots without connecting or polling",
    )


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("demo")
    group.add_argument(
        "--speed",
        type=_positive,
        default=2.0,
        help="simulated seconds per real second (default 2)",
    )
    group.add_argument(
        "--seed", type=int, default=7, help="seed for the simulator's choices (default 7)"
    )
    group.add_argument(
        "--interval",
        type=_positive,
        default=1.0,
        help="seconds between polls of a running job (default 1)",
    )
