"""The house rules of the layout, proven: the core runs without the TUI, rules are pure, collectors are I/O only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

PKG = REPO / "fleet"


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(under: Path) -> list[Path]:
    return sorted(p for p in under.rglob("*.py") if "migrations" not in p.parts)


def test_nothing_outside_tui_imports_textual():
    offenders = [
        str(p.relative_to(REPO))
        for p in modules(PKG)
        if "tui" not in p.relative_to(PKG).parts[:1] and any(m.split(".")[0] == "textual" for m in imports_of(p))
    ]
    assert offenders == []


def test_health_imports_nothing_of_the_project_but_itself():
    offenders = {
        str(p.relative_to(REPO)): sorted(
            m for m in imports_of(p) if m.startswith("fleet") and not m.startswith("fleet.health")
        )
        for p in modules(PKG / "health")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_collectors_never_touch_the_database():
    banned = ("fleet.store.db", "fleet.store.models", "sqlmodel", "sqlalchemy", "fleet.faults", "fleet.stock.reserve")
    offenders = {
        str(p.relative_to(REPO)): sorted(m for m in imports_of(p) if m.startswith(banned))
        for p in modules(PKG / "collectors")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_core_commands_run_without_loading_textual(tmp_path):
    # Not just the source text: run a real command and look at what the interpreter loaded.
    code = (
        "import sys\n"
        "from fleet.cli import main\n"
        "try:\n"
        f"    main(['init', '--db', {str(tmp_path / 'x.db')!r}])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_modules_and_functions_fit_one_screen_of_thought():
    # docs/ARCHITECTURE.md: a module past ~500 lines or a function past ~80 is split along a real seam. The
    # simulators' record tables and the frozen migrations are data, not thought.
    too_long, too_big = [], []
    for path in modules(PKG):
        rel = path.relative_to(PKG).as_posix()
        if rel.startswith("sim/"):
            continue
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > 510:
            too_big.append(f"{rel}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 85:
                    too_long.append(f"{rel}:{node.lineno} {node.name}: {length} lines")
    assert too_big == [] and too_long == []
