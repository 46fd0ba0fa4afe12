"""Launching the TUI from the command line (textual is imported only here, lazily, and inside tui/)."""

from __future__ import annotations

from fleet.cli.common import open_db


def run_tui(db: str | None) -> None:
    engine = open_db(db)
    from fleet.tui.app import make_app

    make_app(engine).run()
