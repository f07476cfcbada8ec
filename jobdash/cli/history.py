"""`jobdash history`: what the watchlist's finished jobs say, per job type."""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from jobdash.cli.common import EXIT_OK, console, error_console
from jobdash.text.format import format_duration
from jobdash.text.jsonsafe import json_text
from jobdash.text.safe import one_line
from jobdash.watch.history import summarize


def add_history_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON array, one per type")


async def run_history(args: argparse.Namespace) -> int:
    from jobdash.store.core import Store

    with Store() as store:
        records = store.finished_jobs()
    stats = summarize(records)
    if args.json:
        print(json_text([item.as_json() for item in stats], indent=2))
        return EXIT_OK
    if not stats:
        error_console().print(
            "no finished jobs yet: the history grows as watched jobs end", markup=False
        )
        return EXIT_OK
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("job type", no_wrap=True)
    for name in ("jobs", "median", "p95", "failed"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("most frequent error codes")
    for item in stats:
        codes = ", ".join(f"{one_line(code, 30)} ×{count}" for code, count in item.top_errors)
        table.add_row(
            Text(one_line(item.job_type, 40)),
            str(item.count),
            format_duration(item.median),
            format_duration(item.p95),
            f"{item.failure_rate:.0%}",
            Text(codes or "-", style="red" if codes else "dim"),
        )
    console().print(table)
    return EXIT_OK
