"""Launching the TUI from the command line (textual is imported only inside tui/)."""

from __future__ import annotations

from fleet.errors import FleetError


def run_tui(db: str | None) -> None:
    raise FleetError("the TUI is not built yet")
