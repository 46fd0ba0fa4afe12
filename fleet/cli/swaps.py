"""`fleet swaps`, `fleet swap plan | agree | decline`, `fleet report sla`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from fleet.cli import app
from fleet.cli.common import DbOption, JsonOption, SiteOption, emit_json, open_db, say
from fleet.cli.table import Column, print_table
from fleet.clock import utcnow
from fleet.config import load_settings
from fleet.sla.report import sla_report
from fleet.store.db import read_session, write_session
from fleet.swaps.plan import escalations, list_swaps, swap_dict
from fleet.swaps.proposals import agree_window, decline_window
from fleet.swaps.rounds import plan_swaps
from fleet.swaps.windows import zone
from fleet.views.text import plain

swap_app = typer.Typer(help="Plan, start and finish part swaps.")
report_app = typer.Typer(help="Reports.")
app.add_typer(swap_app, name="swap")
app.add_typer(report_app, name="report")

ActorOption = Annotated[str, typer.Option("--actor", help="Who records this (for the audit trail).")]
WindowOption = Annotated[int, typer.Option("--window", help="The window id quoted in the customer's mail.")]


def _hhmm(iso: str | None) -> str:
    return iso[:16].replace("T", " ") if iso else "-"


@app.command()
def swaps(db: DbOption = None, site: SiteOption = None, as_json: JsonOption = False) -> None:
    """Planned swaps, nearest hard limit first; customers who have not answered are marked ESCALATED."""
    engine = open_db(db, site=site)
    settings = load_settings()
    now = utcnow()
    with read_session(engine) as session:
        esc = escalations(session, now=now, settings=settings, site=site)
        rows = [swap_dict(session, s, esc) for s in list_swaps(session, site=site)]
    if as_json:
        emit_json({"generated_at": now.isoformat(), "swaps": rows})
        return
    # Times in the site's local time; notes under the table (after the rows, in both forms).
    notes = []
    for r in rows:
        for text in (f"ESCALATED: {r['escalated']}" if r["escalated"] else None, r["warning"], r["note"]):
            if text:
                notes.append(f"#{r['id']} {text}")
    print_table(SWAP_COLUMNS, [
        (r["id"], r["server"], r["state"], _local(r["hard_limit_at"], r["timezone"]),
         ("E" if r["escalated"] else "") + ("B" if r["warning"] else "") + ("N" if r["note"] else ""), r["slot"],
         r["technician"] or "-", _local(r["planned_start"], r["timezone"]), r["site"])
        for r in rows
    ], empty="no planned swaps", styles=[
        "bold red" if r["escalated"] or (r["note"] and r["critical"]) else None for r in rows])  # fmt: skip
    if notes:
        console = Console(highlight=False)
        console.print("times are site-local; E escalated, B no backup, N note:")
        for line in notes:
            console.print(Text(f"  {plain(line)}"))


SWAP_COLUMNS = (
    Column("id", identifier=True, right=True),
    Column("server", identifier=True),
    Column("state"),
    Column("limit"),
    Column("!"),
    Column("slot", identifier=True),
    Column("tech", drop=2),
    Column("start", drop=1),
    Column("site", drop=3),
)


def _local(iso: str | None, tz: str | None) -> str:
    if not iso:
        return "-"
    t = datetime.fromisoformat(iso)
    return (t.astimezone(zone(tz)) if tz else t).strftime("%d %H:%M")


@swap_app.command("plan")
def swap_plan(db: DbOption = None, site: SiteOption = None, as_json: JsonOption = False) -> None:
    """Plan critical swaps inside the SLA and mail customers windows for non-critical ones.

    Exit status 0; 1 when a critical swap cannot meet its hard limit (the reason is in its note)."""
    engine = open_db(db, site=site)
    settings = load_settings()
    now = utcnow()
    with write_session(engine) as session:
        result = plan_swaps(session, now=now, settings=settings, site=site, actor="fleet swap plan")
    data = result.as_dict()
    if as_json:
        emit_json({"generated_at": now.isoformat(), **data})
    else:
        for c in result.critical:
            state = "LATE" if c.late else ("after target" if c.after_target else "on time")
            say(f"swap {c.swap_id} {c.server} ({c.site}): {c.technician or 'nobody'} "
                          f"{_hhmm(c.start.isoformat() if c.start else None)} {state}"
                          + (f" - {c.reason}" if c.reason else ""))  # fmt: skip
        for p in result.proposals:
            where = p.sent_to or "no mail"
            say(f"{p.server}: swaps {p.swap_ids} windows {p.window_ids} ({where})"
                          + (f" - {p.note}" if p.note else ""))  # fmt: skip
        if result.escalated:
            say(f"escalated to staff (customer has not answered): swaps {result.escalated}")
        if not (result.critical or result.proposals or result.escalated):
            say("nothing to plan")
    if result.late:
        raise typer.Exit(1)


@swap_app.command("agree")
def swap_agree(swap_id: int, window: WindowOption, db: DbOption = None, actor: ActorOption = "staff") -> None:
    """Record the window the customer agreed to; the server's other pending swaps join it."""
    engine = open_db(db)
    settings = load_settings()
    now = utcnow()
    with write_session(engine) as session:
        planned = agree_window(session, swap_id, window, now=now, settings=settings, actor=actor)
        ids = [s.id for s in planned]
    say(f"window {window} agreed; swaps {ids} planned in it")


@swap_app.command("decline")
def swap_decline(swap_id: int, window: WindowOption, db: DbOption = None, actor: ActorOption = "staff") -> None:
    """Record that the customer cannot make a window (when none is left, `swap plan` proposes new ones)."""
    engine = open_db(db)
    with write_session(engine) as session:
        decline_window(session, swap_id, window, now=utcnow(), actor=actor)
    say(f"window {window} declined")


@report_app.command("sla")
def report_sla(
    month: Annotated[str, typer.Option("--month", help="The month, YYYY-MM (UTC).")],
    db: DbOption = None,
    site: SiteOption = None,
    as_json: JsonOption = False,
) -> None:
    """The month's SLA figures: acknowledgements, critical swaps, availability, outage credits, monitoring gaps."""
    engine = open_db(db, site=site)
    settings = load_settings()
    now = utcnow()
    with read_session(engine) as session:
        rep = sla_report(session, month, now=now, settings=settings, site=site)
    if as_json:
        emit_json(rep)
        return
    ack, sw, av, cr, mon = rep["acknowledgement"], rep["swaps"], rep["availability"], rep["credits"], rep["monitoring"]
    say(f"SLA report {rep['month']}" + (f" site {rep['site']}" if rep["site"] else "")
            + ("" if rep["period"]["complete"] else f" (to {_hhmm(rep['period']['end'])} UTC)"))  # fmt: skip
    say(f"alerts acknowledged within {ack['within_min']} min: {ack['within']}/{ack['alerts']}"
            f" (late {ack['late']}, pending {ack['pending']})")  # fmt: skip
    say(f"critical swaps: {sw['critical_swaps']}; within {sw['target_min']} min {sw['within_target']}, "
            f"within {sw['limit_min']} min {sw['within_limit']}, late {sw['late']}, "
            f"pending {sw['pending']}")  # fmt: skip
    if mon["measured_minutes"] <= 0:
        say("network availability: not measured (no sweep ran in this month)")
    else:
        say(f"network availability below {av['target_pct']} %: {av['breaches']} of {len(av['servers'])} servers")
    for r in av["servers"]:
        if r["met"] is False:
            say(f"  {r['server']}: {r['availability_pct']} % ({r['down_minutes']} min down)")
    say(f"outages: {len(rep['outages'])} (credited: network only)")
    for o in rep["outages"]:
        end = _hhmm(o["end"]) if o["end"] else "open"
        say(f"  {o['server']} {o['service']}: {o['cause']}, {_hhmm(o['start'])} to {end} UTC")
    say(f"outage credits: {cr['total_cents'] / 100:.2f}")
    for r in cr["servers"]:
        say(f"  {r['server']} ({r['billing']}): {r['periods']} period(s), {r['credit_cents'] / 100:.2f}"
            + (" (cap)" if r["capped"] else ""))  # fmt: skip
    say(f"monitoring gaps over {mon['interval_min']} min: {len(mon['gaps'])}, {mon['gap_minutes']} min in all, "
            f"longest {mon['longest_gap_minutes']} min")  # fmt: skip
    if rep["excluded"]["servers"]:
        say(f"excluded (VPS, shared hosting): {len(rep['excluded']['servers'])} servers")
