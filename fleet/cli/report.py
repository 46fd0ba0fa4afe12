"""`fleet report sla`: the month's SLA figures."""

from __future__ import annotations

from typing import Annotated

import typer

from fleet.cli import app
from fleet.cli.common import DbOption, JsonOption, SiteOption, emit_json, open_db, say
from fleet.clock import parse_time, utcnow
from fleet.config import load_settings
from fleet.sla.report import sla_report
from fleet.store.db import read_session
from fleet.views.timefmt import site_time

report_app = typer.Typer(help="Reports.")
app.add_typer(report_app, name="report")


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
            + ("" if rep["period"]["complete"] else f" (to {site_time(now, 'UTC')})"))  # fmt: skip
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
        end = _utc(o["end"]) if o["end"] else "open"
        say(f"  {o['server']} {o['service']}: {o['cause']}, {_utc(o['start'])} to {end}")
    say(f"outage credits: {cr['total_cents'] / 100:.2f}")
    for r in cr["servers"]:
        say(f"  {r['server']} ({r['billing']}): {r['periods']} period(s), {r['credit_cents'] / 100:.2f}"
                + (" (cap)" if r["capped"] else ""))  # fmt: skip
    say(f"monitoring gaps over {mon['interval_min']} min: {len(mon['gaps'])}, {mon['gap_minutes']} min in all, "
            f"longest {mon['longest_gap_minutes']} min")  # fmt: skip
    if rep["excluded"]["servers"]:
        say(f"excluded (VPS, shared hosting): {len(rep['excluded']['servers'])} servers")


def _utc(text: str) -> str:
    """A report time (ISO 8601 from the JSON) as people read times: `site_time` in UTC."""
    return site_time(parse_time(text), "UTC")
