"""`fleet swaps`, `fleet swap plan | agree | decline`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text
from sqlmodel import select

from fleet.cli import app
from fleet.cli.common import DbOption, JsonOption, SiteOption, emit_json, open_db, say
from fleet.cli.table import Column, print_table
from fleet.clock import iso, utcnow
from fleet.config import load_settings
from fleet.store.db import read_session, write_session
from fleet.store.models import Site
from fleet.swaps.proposals import agree_window, decline_window
from fleet.swaps.rounds import plan_swaps
from fleet.views.queue import work_queue
from fleet.views.text import plain
from fleet.views.timefmt import site_time

swap_app = typer.Typer(help="Plan, start and finish part swaps.")
app.add_typer(swap_app, name="swap")

ActorOption = Annotated[str, typer.Option("--actor", help="Who records this (for the audit trail).")]
WindowOption = Annotated[int, typer.Option("--window", help="The window id quoted in the customer's mail.")]


@app.command()
def swaps(db: DbOption = None, site: SiteOption = None, as_json: JsonOption = False) -> None:
    """Open swaps, nearest hard limit first; customers who have not answered are marked ESCALATED."""
    engine = open_db(db, site=site)
    settings = load_settings()
    now = utcnow()
    with read_session(engine) as session:
        rows = work_queue(session, now=now, settings=settings, site=site)
    if as_json:
        emit_json({"generated_at": iso(now), "swaps": [r.to_json() for r in rows]})
        return
    # Times on the site's clock with its zone; notes under the table (after the rows, in both forms).
    notes = []
    for r in rows:
        for text in (f"ESCALATED: {r.escalated}" if r.escalated else None, r.warning, r.note):
            if text:
                notes.append(f"#{r.swap_id} {text}")
    print_table(SWAP_COLUMNS, [
        (r.swap_id, r.hostname, r.state, site_time(r.hard_limit_at, r.site_tz) or "-",
         ("E" if r.escalated else "") + ("B" if r.warning else "") + ("N" if r.note else ""), r.slot,
         r.technician or "-", site_time(r.planned_start, r.site_tz) or "-", r.site)
        for r in rows
    ], empty="no open swaps", styles=[
        "bold red" if r.escalated or (r.note and r.critical) else None for r in rows])  # fmt: skip
    if notes:
        console = Console(highlight=False)
        console.print("E escalated, B no backup, N note:")
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


@swap_app.command("plan")
def swap_plan(db: DbOption = None, site: SiteOption = None, as_json: JsonOption = False) -> None:
    """Plan critical swaps inside the SLA and mail customers windows for non-critical ones.

    Exit status 0; 1 when a critical swap cannot meet its hard limit (the reason is in its note)."""
    engine = open_db(db, site=site)
    settings = load_settings()
    now = utcnow()
    with write_session(engine) as session:
        result = plan_swaps(session, now=now, settings=settings, site=site, actor="fleet swap plan")
        zones = {code: tz for code, tz in session.exec(select(Site.code, Site.timezone)).all()}
    data = result.as_dict()
    if as_json:
        emit_json({"generated_at": iso(now), **data})
    else:
        for c in result.critical:
            state = "LATE" if c.late else ("after target" if c.after_target else "on time")
            say(f"swap {c.swap_id} {c.server} ({c.site}): {c.technician or 'nobody'} "
                          f"{site_time(c.start, zones.get(c.site)) or '-'} {state}"
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
