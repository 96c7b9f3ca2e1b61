"""The tree's arrows point down: import-linter's layers contract holds, and it breaks on an upward arrow or a circle."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from tests.helpers import REPO

PACKAGE = REPO / "storepipe"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
# the CLI imports inside its handlers to start fast; nothing else may (style rule 16)
LATE_IMPORTS_ALLOWED = {"storepipe/cli/commands.py"}


def _lint(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` with the repository's contracts, on the package found under `root`."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(REPO / "setup.cfg"), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_contracts_are_kept():
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("storepipe/sources/orders_bucket.py", "from storepipe.warehouse import quarantine"),
        ("storepipe/window.py", "from storepipe.tasks import base"),
        ("storepipe/lake/landing.py", "from storepipe.warehouse import db"),
        ("storepipe/tasks/run.py", "from storepipe.ops import backfill"),
    ],
)
def test_an_arrow_pointing_up_breaks_the_contract(tmp_path, module, upward):
    copy = tmp_path / "tree"
    shutil.copytree(PACKAGE, copy / "storepipe", ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / module
    path.write_text(path.read_text() + f"\n{upward}  # noqa\n")
    result = _lint(copy)
    assert result.returncode != 0 and "BROKEN" in result.stdout, result.stdout


def _cycles(graph, package: str) -> list[tuple[str, str]]:
    """Pairs (a, b) where a imports b and b leads back to a: each is part of a circle."""
    found = []
    for importer in sorted(graph.modules):
        if importer == package:
            continue  # the package's __init__ registers the tasks for `luigi --module storepipe`
        for imported in graph.find_modules_directly_imported_by(importer):
            if imported != package and graph.find_shortest_chain(importer=imported, imported=importer):
                found.append((importer, imported))
    return found


def test_no_module_imports_in_a_circle():
    assert _cycles(grimp.build_graph("storepipe"), "storepipe") == []


def test_the_circle_check_finds_a_circle(tmp_path, monkeypatch):
    copy = tmp_path / "tree"
    shutil.copytree(PACKAGE, copy / "storepipe", ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / "storepipe/tasks/base.py"
    path.write_text(path.read_text() + "\nfrom storepipe.tasks import run  # noqa\n")
    monkeypatch.syspath_prepend(str(copy))
    for name in [m for m in sys.modules if m == "storepipe" or m.startswith("storepipe.")]:
        monkeypatch.delitem(sys.modules, name)
    assert ("storepipe.tasks.base", "storepipe.tasks.run") in _cycles(grimp.build_graph("storepipe"), "storepipe")


def test_imports_sit_at_the_top_of_each_module_but_the_cli():
    late = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = str(path.relative_to(REPO))
        if relative in LATE_IMPORTS_ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                late += [
                    f"{relative}:{inner.lineno}"
                    for inner in ast.walk(node)
                    if isinstance(inner, ast.Import | ast.ImportFrom)
                ]
    assert late == []
