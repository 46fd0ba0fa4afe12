"""Textual's private names: the console relies on none, and the few the tests read still exist.

A private name changes without notice between Textual releases. An override of a private hook would silently become
dead code (a table that stops resizing), a read of a private attribute an AttributeError in front of a user. So the
console overrides no private Textual method and reads no private attribute of another object; and the tests that
read `App._notifications` (the toasts, which Textual has no public list of) fail here, loudly, if it goes.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil

import fleet.tui
from tests.conftest import REPO

HELPERS = [REPO / "tests" / "tui" / "test_snapshots.py", REPO / "bench" / "screenshots.py"]


def _textual_private_overrides() -> list[str]:
    found = []
    for info in pkgutil.iter_modules(fleet.tui.__path__, "fleet.tui."):
        module = importlib.import_module(info.name)
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != module.__name__:
                continue
            textual_bases = [b for b in cls.__mro__[1:] if b.__module__.split(".")[0] == "textual"]
            for name, value in vars(cls).items():
                # Methods written in fleet (Textual itself sets private attributes on every subclass it sees).
                ours = inspect.isfunction(value) and value.__module__ == module.__name__
                if (
                    ours
                    and name.startswith("_")
                    and not name.startswith("__")
                    and any(name in vars(b) for b in textual_bases)
                ):
                    found.append(f"{cls.__module__}.{cls.__name__}.{name}")
    return found


def test_the_console_overrides_no_private_textual_hook():
    assert _textual_private_overrides() == []


def test_the_console_and_snapshot_helpers_read_no_private_attribute_of_another_object():
    sources = sorted((REPO / "fleet" / "tui").glob("*.py")) + [p for p in HELPERS if p.is_file()]
    reads = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                reads.append(f"{path.relative_to(REPO)}:{node.lineno}: .{node.attr}")
    assert reads == []


async def test_the_notifications_the_flow_tests_read_are_still_there():
    from textual.app import App

    app: App[None] = App()
    async with app.run_test() as pilot:
        app.notify("spare reserved", severity="warning")
        await pilot.pause()
        notes = list(app._notifications)
    assert [(n.message, n.severity) for n in notes] == [("spare reserved", "warning")], (
        "App._notifications changed: tests/tui/test_flows.py reads it to see the console's toasts"
    )
