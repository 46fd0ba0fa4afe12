"""`fleet swaps`, swap planning and customer windows, `fleet report sla`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from fleet.cli import app
from fleet.cli.common import DbOption, JsonOption, SiteOption, emit_json, open_db
from fleet.db import read_session
from fleet.errors import FleetError
from fleet.schedule import list_swaps, swap_dict

swap_app = typer.Typer(help="Plan, start and finish part swaps.")
report_app = typer.Typer(help="Reports.")
app.add_typer(swap_app, name="swap")
app.add_typer(report_app, name="report")


@app.command()
def swaps(db: DbOption = None, site: SiteOption = None, as_json: JsonOption = False) -> None:
    """Planned swaps, nearest hard limit first."""
    engine = open_db(db)
    with read_session(engine) as session:
        rows = [swap_dict(session, s) for s in list_swaps(session, site=site)]
    if as_json:
        emit_json({"swaps": rows})
        return
    table = Table("id", "server", "site", "slot", "state", "technician", "target", "limit", box=None)
    for r in rows:
        table.add_row(str(r["id"]), r["server"], r["site"], r["slot"], r["state"], r["technician"] or "-",
                      (r["target_at"] or "-")[:16], (r["hard_limit_at"] or "-")[:16])  # fmt: skip
    Console().print(table if rows else "no planned swaps")


@report_app.command("sla")
def report_sla(db: DbOption = None) -> None:
    """The month's SLA report (not built yet)."""
    raise FleetError("`fleet report sla` is not built yet (SLA accounting: issue 7)")
