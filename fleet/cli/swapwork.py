"""`fleet swap start | done`: the technician's side of a swap."""

from __future__ import annotations

from fleet.cli.common import DbOption
from fleet.cli.swaps import swap_app
from fleet.errors import FleetError


@swap_app.command("start")
def swap_start(swap_id: int, db: DbOption = None) -> None:
    """Start a swap (not built yet)."""
    raise FleetError("`fleet swap start` is not built yet (issue 6)")


@swap_app.command("done")
def swap_done(swap_id: int, db: DbOption = None) -> None:
    """Finish a swap with the new part's serial (not built yet)."""
    raise FleetError("`fleet swap done` is not built yet (issue 6)")
