"""`fleet faults`, `fleet ticket open`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from fleet.cli import app
from fleet.cli.common import DbOption, JsonOption, SiteOption, emit_json, open_db
from fleet.clock import utcnow
from fleet.config import load_settings
from fleet.db import read_session
from fleet.errors import FleetError
from fleet.faults import fault_dict, list_faults

ticket_app = typer.Typer(help="Support tickets: a customer or staff report of a failing part.")
app.add_typer(ticket_app, name="ticket")


@app.command()
def faults(db: DbOption = None, site: SiteOption = None, as_json: JsonOption = False) -> None:
    """Open faults, critical first, with whether the one-hour acknowledgement is due or overdue."""
    engine = open_db(db)
    settings = load_settings()
    now = utcnow()
    with read_session(engine) as session:
        rows = [fault_dict(session, f, now, settings) for f in list_faults(session, site=site)]
    if as_json:
        emit_json({"generated_at": now.isoformat(), "faults": rows})
        return
    table = Table("id", "server", "site", "slot", "problem", "severity", "ack", "notified", box=None)
    for r in rows:
        table.add_row(str(r["id"]), r["server"], r["site"], r["slot"], r["problem"], r["severity"], r["ack"],
                      r["notified_at"][:16])  # fmt: skip
    Console().print(table if rows else "no open faults")


@ticket_app.command("open")
def ticket_open(db: DbOption = None) -> None:
    """Open a fault from a support ticket (not built yet)."""
    raise FleetError("`fleet ticket open` is not built yet (faults and tickets: issue 5)")
