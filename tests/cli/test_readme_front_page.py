"""The README's front page: what a user needs, blocks that run as pasted (no `0123...`
or `<another ...>` placeholders), the promised commands kept, the figures in docs/, the
LICENSE that pyproject names, and a screenshot script that needs only jobdash itself."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DEMO = "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/jobdash demo"
TESTS = "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest"


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, flags=re.S)


def test_no_shell_block_holds_a_placeholder() -> None:
    for block in shell_blocks():
        code = "\n".join(line.split("#", 1)[0] for line in block.splitlines())
        assert "..." not in code, block
        assert not re.search(r"<[a-z][^>]*>", code), block


def test_the_front_page_is_what_a_user_needs_and_the_figures_moved() -> None:
    headings = re.findall(r"^## (.+)$", README, flags=re.M)
    for wanted in ("Try it", "Install", "Connect", "Dashboard keys", "Headless", "serve"):
        assert any(h.startswith(wanted) for h in headings), (wanted, headings)
    assert (
        "## Who polls\n\nOne jobdash process polls for each watchlist; the others follow it."
        in README
    )
    assert len(README.splitlines()) < 450
    tables = re.findall(r"^\| .*\|$", README, flags=re.M)
    assert len(tables) < 120  # keys, commands, auth, exit codes and one summary
    benchmarks = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert "docs/benchmarks.md" in README
    for figure in ("28.7×", "8.5 / 57.9 ms", "0.68 s / 7.05 s = 10.3x"):
        assert figure in benchmarks and figure not in README, figure


def test_the_two_promised_commands_are_kept_and_ci_runs_the_same_tests() -> None:
    blocks = shell_blocks()
    assert any(block.strip() == DEMO for block in blocks)
    assert any(block.strip() == TESTS for block in blocks)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert TESTS.split("&& ", 1)[1] in ci.replace("pip install -q", "pip install")


def test_the_license_file_is_the_one_pyproject_names() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == {"text": "Apache-2.0"}
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert "[LICENSE](LICENSE)" in README


def test_the_screenshot_script_needs_only_jobdash_and_says_what_it_overwrites(
    tmp_path: Path,
) -> None:
    script = ROOT / "scripts" / "screenshots.py"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {re.split(r"[<>=\[ ]", dep)[0].lower() for dep in project["dependencies"]}
    imported = set()
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    outside = imported - set(sys.stdlib_module_names) - runtime - {"jobdash"}
    assert not outside, f"a fresh `pip install -e .` lacks {outside}"
    assert "scripts/screenshots.py" in README and "overwrites the SVGs in `screenshots/`" in README
    # From anywhere, its help names the folder and the files it overwrites.
    done = subprocess.run(
        [sys.executable, str(script), "--help"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert str(ROOT / "screenshots") in text and "overview.svg" in text and "overwritten" in text
