"""The core stays free of UI: importing it must not pull in Textual."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import jobdash

#: Every module outside `jobdash.tui`, found by walking the package, so new ones are covered.
CORE_MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(jobdash.__path__, "jobdash.")
    if not info.name.startswith("jobdash.tui") and not info.name.endswith("__main__")
)


def test_core_does_not_import_textual() -> None:
    # The walk itself must have found the layers DESIGN.md names.
    for layer in (
        "api.model",
        "api.client",
        "auth.methods",
        "store",
        "poll.poller",
        "cli.status",
        "simulator.server",
    ):
        assert f"jobdash.{layer}" in CORE_MODULES
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
