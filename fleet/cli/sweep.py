"""`fleet sweep` and `fleet demo`."""

from __future__ import annotations

from fleet.cli import app
from fleet.cli.common import DbOption
from fleet.errors import FleetError


@app.command()
def sweep(db: DbOption = None) -> None:
    """Poll every server, assess, open faults, reserve spares, propose swaps (not built yet)."""
    raise FleetError("`fleet sweep` is not built yet (issue 8)")


@app.command()
def demo() -> None:
    """The TUI on a throwaway copy of the sample fleet with simulated controllers (not built yet)."""
    raise FleetError("`fleet demo` is not built yet (issue 9)")
