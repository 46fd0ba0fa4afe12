"""`fleet stock [--low]`, `fleet stock order|receive`, `fleet spare reserve|release`, `fleet transfer ship|receive`,
`fleet rma list|ship|credit`."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from fleet.cli import app
from fleet.cli.common import DbOption, JsonOption, SiteOption, emit_json, open_db, say
from fleet.cli.table import Column, print_table
from fleet.clock import iso, utcnow
from fleet.config import load_settings
from fleet.stock.reserve import SpareStatus, release_for_fault, reserve_for_fault
from fleet.stock.rma import advance_rma, list_rmas, rma_dict
from fleet.stock.transfers import receive_transfer, ship_transfer
from fleet.store.db import read_session, write_session
from fleet.views.faults import fault_site_timezone
from fleet.views.stock import stock_lines
from fleet.views.text import plain
from fleet.views.timefmt import site_time

stock_app = typer.Typer(
    help="Spare stock per site and part; orders to the supplier.", invoke_without_command=True, no_args_is_help=False
)
spare_app = typer.Typer(help="Reserve or release the spare of a fault.")
transfer_app = typer.Typer(help="Move spares between sites.")
rma_app = typer.Typer(help="Defective parts going back to the vendor: open -> shipped -> credited.")
app.add_typer(stock_app, name="stock")
app.add_typer(spare_app, name="spare")
app.add_typer(transfer_app, name="transfer")
app.add_typer(rma_app, name="rma")

LowOption = Annotated[
    bool, typer.Option("--low", help="Only the low lines (at or under their reorder level), with the level's math.")
]


def cli_actor(name: str | None = None) -> str:
    """Who the audit trail names: the technician when given, else the login running the command."""
    if name:
        return name
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (containers without a passwd entry)
        return "cli"


@stock_app.callback()
def stock(
    ctx: typer.Context,
    db: DbOption = None,
    site: SiteOption = None,
    low: LowOption = False,
    as_json: JsonOption = False,
) -> None:
    """Spare stock per site and part, low lines first: on hand, reserved, available, reorder level, what to order."""
    if ctx.invoked_subcommand is not None:
        return
    engine = open_db(db, site=site)
    settings = load_settings()
    now = utcnow()
    with read_session(engine) as session:
        lines = stock_lines(session, now=now, settings=settings, site=site, low_only=low)
    if as_json:
        if low:
            emit_json({"generated_at": iso(now), "low": [x.to_json_with_math() for x in lines]})
        else:
            emit_json({"generated_at": iso(now), "stock": [x.to_json() for x in lines]})
        return
    if low:
        print_table(LOW_COLUMNS, [
            (x.site, x.part_number, x.order, x.available, x.on_order, x.reorder_level, f"{x.reorder.target:.0%}",
             f"{x.reorder.demand:.2f}", x.reorder.installed, x.kind)
            for x in lines
        ], empty="nothing low", styles=["bold red" if x.available <= 0 else "yellow" for x in lines])  # fmt: skip
        return
    print_table(STOCK_COLUMNS, [
        (x.site, x.part_number, "LOW" if x.low else "", x.available, x.on_hand, x.reserved, x.reorder_level,
         x.order or "", x.bin or "-", x.kind)
        for x in lines
    ], empty="no stock recorded", styles=[
        "bold red" if x.low and x.available <= 0 else ("yellow" if x.low else None) for x in lines])  # fmt: skip


STOCK_COLUMNS = (
    Column("site", identifier=True),
    Column("part", identifier=True),
    Column("low"),
    Column("avail", right=True),
    Column("on hand", right=True),
    Column("reserved", right=True, drop=2),
    Column("reorder", right=True, drop=1),
    Column("order", right=True, drop=4),
    Column("bin", identifier=True),
    Column("kind", drop=3),
)


LOW_COLUMNS = (
    Column("site", identifier=True),
    Column("part", identifier=True),
    Column("order", right=True),
    Column("avail", right=True),
    Column("on order", right=True, drop=5),
    Column("level", right=True),
    Column("target", right=True, drop=2),
    Column("demand", right=True, drop=3),
    Column("installed", right=True, drop=4),
    Column("kind", drop=1),
)


@stock_app.command("order")
def stock_order(
    site: Annotated[str, typer.Argument(help="Site code.")],
    part: Annotated[str, typer.Argument(help="Part number.")],
    quantity: Annotated[int, typer.Argument(help="Units ordered.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record an order to the supplier: on order, it counts against the reorder level until received."""
    from fleet.stock.orders import order_dict, place_order

    engine = open_db(db)
    with write_session(engine) as session:
        row = order_dict(session, place_order(session, site, part, quantity, now=utcnow(), actor=cli_actor()))
    if as_json:
        emit_json(row)
        return
    print(plain(f"order {row['order_id']}: {row['quantity']} x {row['part_number']} for {row['site']}"))


@stock_app.command("receive")
def stock_receive(
    order_id: Annotated[int, typer.Argument(help="The order's id (fleet stock order prints it).")],
    db: DbOption = None,
) -> None:
    """The supplier's delivery arrived: its units go on the site's shelf."""
    from fleet.stock.orders import order_dict, receive_order

    engine = open_db(db)
    with write_session(engine) as session:
        row = order_dict(session, receive_order(session, order_id, now=utcnow(), actor=cli_actor()))
    print(plain(f"order {row['order_id']} received: {row['quantity']} x {row['part_number']} at {row['site']}"))


@spare_app.command("reserve")
def spare_reserve(fault_id: int, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Reserve a spare for a fault: at its site, else the fastest transfer from another site."""
    engine = open_db(db)
    with write_session(engine) as session:
        outcome = reserve_for_fault(session, fault_id, now=utcnow(), settings=load_settings(), actor=cli_actor())
        tz = fault_site_timezone(session, fault_id)
    if as_json:
        emit_json(outcome.to_dict())
        return
    if outcome.status == SpareStatus.RESERVED:
        say(f"fault {fault_id}: {outcome.part_number} reserved at {outcome.site}")
    elif outcome.status == SpareStatus.TRANSFER:
        eta = site_time(outcome.eta, tz) if outcome.eta else "?"
        say(f"fault {fault_id}: {outcome.part_number} reserved at {outcome.site}, transfer {outcome.transfer_id} "
              f"proposed, arrives {eta}")  # fmt: skip
    elif outcome.status == SpareStatus.NO_PART:
        say(f"fault {fault_id}: an inspection, no spare part needed")
    else:
        say(f"fault {fault_id}: no compatible spare at any site")
    if outcome.flag:
        say(f"fault {fault_id}: {outcome.flag}")


@spare_app.command("release")
def spare_release(fault_id: int, db: DbOption = None) -> None:
    """Give back the spare a fault holds (and cancel its transfer)."""
    engine = open_db(db)
    with write_session(engine) as session:
        n = release_for_fault(session, fault_id, now=utcnow(), actor=cli_actor())
    say(f"fault {fault_id}: {n} reservation(s) released")


@transfer_app.command("ship")
def transfer_ship(transfer_id: int, db: DbOption = None) -> None:
    """A proposed transfer leaves its site (in transit)."""
    engine = open_db(db)
    with write_session(engine) as session:
        ship_transfer(session, transfer_id, now=utcnow(), actor=cli_actor())
    say(f"transfer {transfer_id}: in transit")


@transfer_app.command("receive")
def transfer_receive(transfer_id: int, db: DbOption = None) -> None:
    """The part arrived: move it onto the destination's shelf (still reserved for its fault)."""
    engine = open_db(db)
    with write_session(engine) as session:
        receive_transfer(session, transfer_id, now=utcnow(), actor=cli_actor())
    say(f"transfer {transfer_id}: received")


@rma_app.command("list")
def rma_list(
    db: DbOption = None,
    include_closed: Annotated[bool, typer.Option("--all", help="Credited RMAs too.")] = False,
    as_json: JsonOption = False,
) -> None:
    """RMAs not yet credited (--all: every one)."""
    engine = open_db(db)
    with read_session(engine) as session:
        rows = [rma_dict(session, r) for r in list_rmas(session, include_closed=include_closed)]
    if as_json:
        emit_json({"rmas": rows})
        return
    print_table(RMA_COLUMNS, [
        (r["id"], r["state"], r["part_number"] or "-", r["serial"] or "-", r["server"] or "-", r["fault_id"] or "-",
         (r["opened_at"] or "")[:16])
        for r in rows
    ], empty="no open RMAs")  # fmt: skip


RMA_COLUMNS = (
    Column("id", identifier=True, right=True),
    Column("state"),
    Column("part", identifier=True),
    Column("serial", identifier=True),
    Column("server", identifier=True, drop=2),
    Column("fault", right=True, drop=1),
    Column("opened", drop=3),
)


@rma_app.command("ship")
def rma_ship(rma_id: int, db: DbOption = None) -> None:
    """The defective part left for the vendor: open -> shipped."""
    _advance(rma_id, "shipped", db)


@rma_app.command("credit")
def rma_credit(rma_id: int, db: DbOption = None) -> None:
    """The vendor credited (or replaced) it: shipped -> credited."""
    _advance(rma_id, "credited", db)


def _advance(rma_id: int, to: str, db: str | None) -> None:
    engine = open_db(db)
    with write_session(engine) as session:
        advance_rma(session, rma_id, to=to, now=utcnow(), actor=cli_actor())
    say(f"RMA {rma_id}: {to}")
