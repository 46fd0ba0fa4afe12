"""`fleet faults [ack | resolve]`, `fleet ticket open`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from sqlmodel import select

from fleet.cli import app
from fleet.cli.common import DbOption, JsonOption, SiteOption, emit_json, open_db, say
from fleet.cli.table import Column, print_table
from fleet.clock import parse_time, utcnow
from fleet.config import load_settings
from fleet.errors import InputError
from fleet.faults import RESOLUTIONS, acknowledge, fault_dict, list_faults, open_ticket, resolve
from fleet.store.db import read_session, write_session
from fleet.store.models import Site

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


def _local(iso: str, tz: str | None) -> str:
    """A UTC time as the site's wall clock (local time only at the display)."""
    when = datetime.fromisoformat(iso)
    try:
        return when.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z") if tz else iso[:16] + " UTC"
    except (ZoneInfoNotFoundError, ValueError):
        return iso[:16] + " UTC"


@faults_app.callback()
def faults(ctx: typer.Context, db: DbOption = None, site: SiteOption = None, as_json: JsonOption = False) -> None:
    """Open faults, critical first, with whether the one-hour acknowledgement is due or overdue."""
    if ctx.invoked_subcommand is not None:
        return
    engine = open_db(db, site=site)
    settings = load_settings()
    now = utcnow()
    with read_session(engine) as session:
        rows = [fault_dict(session, f, now, settings) for f in list_faults(session, site=site)]
        zones = {s.code: s.timezone for s in session.exec(select(Site))}
    if as_json:
        emit_json({"generated_at": now.isoformat(), "faults": rows})
        return
    print_table(FAULT_COLUMNS, [
        (r["id"], r["server"], r["severity"], r["ack"], r["slot"],
         r["problem"] + (" (flapping)" if r["flapping"] else ""), r["site"],
         _local(r["notified_at"], zones.get(r["site"])))
        for r in rows
    ], empty="no open faults", styles=["bold red" if r["severity"] == "critical" else None for r in rows])  # fmt: skip


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
    now = utcnow()
    when = _time(at) or now
    with write_session(engine) as session:
        fault = acknowledge(session, fault_id, by=by, now=when)
        who, ack_at = fault.acknowledged_by, fault.acknowledged_at
    stamp = ack_at.isoformat(timespec="minutes") if ack_at else "?"
    say(f"fault {fault_id} acknowledged by {who} at {stamp}")


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
        row = fault_dict(session, res.fault, now, settings)
        ticket_id = res.ticket.id
    spare = res.spare.to_dict() if res.spare is not None else None
    if as_json:
        emit_json({"ticket": ticket_id, "joined": res.joined, "fault": row, "spare": spare})
        return
    verb = "joined" if res.joined else "opened"
    say(f"ticket {ticket_id}: {verb} fault {row['id']} ({row['server']} {row['slot']}, {row['severity']}, "
          f"notified {row['notified_at'][:16]}, acknowledge by {row['ack_due_at'][:16]})")  # fmt: skip
    if spare is not None:
        say(f"fault {row['id']}: spare {spare_line(spare)}")


def spare_line(spare: dict[str, object]) -> str:
    """What a critical fault's spare reservation came to, in words."""
    if spare["status"] == "reserved":
        text = f"{spare['part_number']} reserved at {spare['site']}"
    elif spare["status"] == "transfer":
        text = f"{spare['part_number']} reserved at {spare['site']}, transfer {spare['transfer_id']} proposed"
    else:
        text = "none compatible at any site"
    return text + (f" ({spare['flag']})" if spare.get("flag") else "")
