"""`fleet faults [ack | resolve]`, `fleet ticket open`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from fleet.cli import app
from fleet.cli.common import DbOption, JsonOption, SiteOption, emit_json, open_db, say
from fleet.cli.table import Column, print_table
from fleet.clock import iso, parse_time, utcnow
from fleet.config import load_settings
from fleet.errors import InputError
from fleet.faults import RESOLUTIONS, acknowledge, open_ticket, resolve
from fleet.stock.reserve import SpareStatus
from fleet.store.db import read_session, write_session
from fleet.views.faults import fault_rows
from fleet.views.timefmt import site_time

faults_app = typer.Typer(
    help="Open faults, critical first; `ack` and `resolve` subcommands.",
    invoke_without_command=True,
    no_args_is_help=False,
)
ticket_app = typer.Typer(help="Support tickets: a customer or staff report of a failing part.")
app.add_typer(faults_app, name="faults")
app.add_typer(ticket_app, name="ticket")

ByOption = Annotated[str, typer.Option("--by", help="Who does it (technician or staff name).")]
AtOption = Annotated[
    str | None, typer.Option("--at", help="When (ISO 8601, naive = UTC; default now).", show_default=False)
]


def _time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError as exc:
        raise InputError(f"--at: {exc}") from None


@faults_app.callback()
def faults(
    ctx: typer.Context,
    db: DbOption = None,
    site: SiteOption = None,
    as_json: JsonOption = False,
    security: Annotated[
        bool, typer.Option("--security", help="Only security faults (BMC audit findings, `fleet audit bmc`).")
    ] = False,
) -> None:
    """Open faults, critical first, with whether the one-hour acknowledgement is due or overdue."""
    if ctx.invoked_subcommand is not None:
        return
    engine = open_db(db, site=site)
    settings = load_settings()
    now = utcnow()
    with read_session(engine) as session:
        rows = fault_rows(session, now=now, settings=settings, site=site, security=security)
    if as_json:
        emit_json({"generated_at": iso(now), "faults": [r.to_json() for r in rows]})
        return
    print_table(FAULT_COLUMNS, [
        (r.id, r.hostname, r.severity, r.ack, r.slot, r.problem + (" (flapping)" if r.flapping else ""), r.site,
         site_time(r.notified_at, r.site_tz))
        for r in rows
    ], empty="no open security faults" if security else "no open faults",
       styles=["bold red" if r.critical else None for r in rows])  # fmt: skip


FAULT_COLUMNS = (
    Column("id", identifier=True, right=True),
    Column("server", identifier=True),
    Column("severity"),
    Column("ack"),
    Column("slot", identifier=True),
    Column("problem", drop=2),
    Column("site", drop=3),
    Column("notified (site time)", drop=1),
)


@faults_app.command("ack")
def faults_ack(
    fault_id: Annotated[int, typer.Argument(help="The fault's id (see `fleet faults`).")],
    by: ByOption,
    at: AtOption = None,
    db: DbOption = None,
) -> None:
    """Acknowledge a fault: a technician has looked at it (the SLA's look within the hour)."""
    engine = open_db(db)
    settings = load_settings()
    now = utcnow()
    with write_session(engine) as session:
        fault = acknowledge(session, fault_id, by=by, now=now, at=_time(at))
        who = fault.acknowledged_by
        [row] = fault_rows(session, now=now, settings=settings, fault_id=fault_id)
    say(f"fault {fault_id} acknowledged by {who} at {site_time(row.acknowledged_at, row.site_tz)}")


@faults_app.command("resolve")
def faults_resolve(
    fault_id: Annotated[int, typer.Argument(help="The fault's id.")],
    by: ByOption,
    resolution: Annotated[str, typer.Option("--resolution", help=f"One of {', '.join(RESOLUTIONS)}.")] = "recovered",
    db: DbOption = None,
) -> None:
    """Close a fault by hand: swapped, recovered, or cancelled (not a fault after all)."""
    engine = open_db(db)
    with write_session(engine) as session:
        fault = resolve(session, fault_id, resolution=resolution, now=utcnow(), actor=by)
        state = fault.state
    say(f"fault {fault_id} {state} ({resolution})")


@ticket_app.command("open")
def ticket_open(
    server: Annotated[str, typer.Option("--server", help="Hostname of the server (a unique prefix is enough).")],
    slot: Annotated[str, typer.Option("--slot", help="The part's slot: PSU2, FAN3, Disk 0:1:4, DIMM_A1 ...")],
    text: Annotated[str, typer.Option("--text", help="What the ticket says.")],
    critical: Annotated[bool, typer.Option("--critical", help="The server is down because of the part.")] = False,
    at: Annotated[
        str | None, typer.Option("--at", help="When the ticket was opened (ISO 8601; default now).", show_default=False)
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Who opened the ticket.")] = "support",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a support ticket: joins the open fault of that slot (the earlier time wins) or opens one."""
    engine = open_db(db)
    settings = load_settings()
    now = utcnow()
    when = _time(at)
    with write_session(engine) as session:
        res = open_ticket(session, server, slot, text, critical=critical, at=when, now=now, by=by, settings=settings)
        assert res.fault.id is not None
        [row] = fault_rows(session, now=now, settings=settings, fault_id=res.fault.id)
        ticket_id = res.ticket.id
    spare = res.spare.to_dict() if res.spare is not None else None
    if as_json:
        emit_json({"ticket": ticket_id, "joined": res.joined, "fault": row.to_json(), "spare": spare})
        return
    verb = "joined" if res.joined else "opened"
    say(f"ticket {ticket_id}: {verb} fault {row.id} ({row.hostname} {row.slot}, {row.severity}, "
          f"notified {site_time(row.notified_at, row.site_tz)}, "
          f"acknowledge by {site_time(row.ack_due_at, row.site_tz)})")  # fmt: skip
    if spare is not None:
        say(f"fault {row.id}: spare {spare_line(spare)}")


def spare_line(spare: dict[str, object]) -> str:
    """What a critical fault's spare reservation came to, in words."""
    if spare["status"] == SpareStatus.RESERVED:
        text = f"{spare['part_number']} reserved at {spare['site']}"
    elif spare["status"] == SpareStatus.TRANSFER:
        text = f"{spare['part_number']} reserved at {spare['site']}, transfer {spare['transfer_id']} proposed"
    else:
        text = "none compatible at any site"
    return text + (f" ({spare['flag']})" if spare.get("flag") else "")
