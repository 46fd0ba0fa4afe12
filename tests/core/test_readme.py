"""The README's two commands are the contract with a newcomer; CI runs the second one exactly as written."""

from __future__ import annotations

from tests.conftest import REPO


def readme_commands() -> list[str]:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.startswith("    ") and "python3 -m venv" in ln]


def test_readme_starts_with_install_and_run_then_install_and_test():
    run, test = readme_commands()[:2]
    # The first command lands on live data: the console on the demo fleet (simulated controllers on loopback).
    assert run.endswith(".venv/bin/fleet demo") and "pip install ." in run
    assert test.endswith(".venv/bin/pytest") and "[test]" in test


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert readme_commands()[1] in [ln.strip() for ln in ci]
