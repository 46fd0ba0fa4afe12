"""`fleet stock`."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from fleet.cli import app
from fleet.cli.common import DbOption, JsonOption, SiteOption, emit_json, open_db
from fleet.db import read_session
from fleet.stock import list_stock, stock_dict


@app.command()
def stock(db: DbOption = None, site: SiteOption = None, as_json: JsonOption = False) -> None:
    """Spare stock per site and part: on hand, reserved, available, reorder level."""
    engine = open_db(db)
    with read_session(engine) as session:
        rows = [stock_dict(*r) for r in list_stock(session, site=site)]
    if as_json:
        emit_json({"stock": rows})
        return
    table = Table("site", "part", "kind", "bin", "on hand", "reserved", "avail", "reorder", box=None)
    for r in rows:
        style = "bold red" if r["available"] == 0 else ("yellow" if r["low"] else None)
        table.add_row(r["site"], r["part_number"], r["kind"], r["bin"], str(r["on_hand"]), str(r["reserved"]),
                      str(r["available"]), str(r["reorder_level"]), style=style)  # fmt: skip
    Console().print(table if rows else "no stock recorded")
