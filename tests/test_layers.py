"""The core stays free of UI: importing it must not pull in Textual."""

from __future__ import annotations

import subprocess
import sys

CORE_MODULES = [
    "jobdash.model",
    "jobdash.errors",
    "jobdash.ids",
    "jobdash.client",
    "jobdash.auth",
    "jobdash.settings",
    "jobdash.connection",
    "jobdash.store",
    "jobdash.poller",
    "jobdash.catalog",
    "jobdash.simulator",
    "jobdash.cli",
    "jobdash.cli.status",
    "jobdash.cli.watchlist",
]


def test_core_does_not_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {CORE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"textual imported by the core: {result.stdout.strip()}"


def test_the_check_would_notice_textual() -> None:
    # Guard against a check that cannot fail: importing the TUI does load textual.
    code = "import sys, jobdash.tui.app; print('textual' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True"


def test_headless_parser_does_not_import_textual() -> None:
    code = (
        "import sys\n"
        "from jobdash.cli import build_parser\n"
        "build_parser()\n"
        "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
