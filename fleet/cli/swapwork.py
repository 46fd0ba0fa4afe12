"""`fleet swap start | done`: the technician's side of a swap."""

from __future__ import annotations

from typing import Annotated

import typer

from fleet.cli.common import DbOption, JsonOption, emit_json, open_db, say
from fleet.cli.stock import cli_actor
from fleet.cli.swaps import swap_app
from fleet.clock import utcnow
from fleet.store.db import write_session
from fleet.store.models import SwapState
from fleet.swaps.work import complete_swap, start_swap

TechnicianOption = Annotated[
    str | None, typer.Option("--technician", help="Who does the swap (a technician's name).", show_default=False)
]


@swap_app.command("start")
def swap_start(swap_id: int, technician: TechnicianOption = None, db: DbOption = None) -> None:
    """Start a swap: it and its fault become in progress."""
    engine = open_db(db)
    with write_session(engine) as session:
        start_swap(session, swap_id, technician=technician, now=utcnow(), actor=cli_actor(technician))
    say(f"swap {swap_id}: in progress")


@swap_app.command("done")
def swap_done(
    swap_id: int,
    new_serial: Annotated[str, typer.Option("--new-serial", help="Serial number of the part just installed.")],
    technician: TechnicianOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Finish a swap: spare consumed, new serial installed, old part to an RMA, fault resolved (all or nothing)."""
    engine = open_db(db)
    with write_session(engine) as session:
        rma = complete_swap(session, swap_id, new_serial=new_serial, technician=technician, now=utcnow(),
                            actor=cli_actor(technician))  # fmt: skip
        rma_id, old_serial = rma.id, rma.serial
    if as_json:
        emit_json({"swap_id": swap_id, "state": SwapState.DONE.value, "new_serial": new_serial,
                   "old_serial": old_serial, "rma_id": rma_id})  # fmt: skip
        return
    say(f"swap {swap_id}: done, {new_serial} installed; old part {old_serial or '(unknown serial)'} -> RMA {rma_id}")
