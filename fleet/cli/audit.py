"""`fleet audit bmc`: which management controllers an attacker would use, across the fleet (docs/SECURITY.md)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlmodel import select

from fleet.cli import app
from fleet.cli.common import DbOption, JsonOption, SiteOption, emit_json, open_db
from fleet.clock import utcnow
from fleet.collectors.audit import CRITICAL, RAKP_NOTE, BmcAudit, audit_ipmi
from fleet.errors import InputError
from fleet.store.db import read_session
from fleet.store.models import Customer, Server, ServerModel, Site
from fleet.views.text import plain

audit_app = typer.Typer(help="Security audits of the fleet's management controllers.")
app.add_typer(audit_app, name="audit")

CONCURRENCY = 16


def _targets(db: str | None, site: str | None) -> list[dict[str, Any]]:
    engine = open_db(db)
    with read_session(engine) as session:
        if site is not None and session.exec(select(Site).where(Site.code == site)).first() is None:
            raise InputError(f"no site {site!r}")
        query = (
            select(Server, Site, ServerModel, Customer)
            .join(Site, Server.site_id == Site.id)  # type: ignore[arg-type]
            .join(ServerModel, Server.model_id == ServerModel.id)  # type: ignore[arg-type]
            .outerjoin(Customer, Server.customer_id == Customer.id)  # type: ignore[arg-type]
            .where(Server.controller_protocol == "ipmi", Server.status != "decommissioned")
            .order_by(Server.hostname)
        )
        if site is not None:
            query = query.where(Site.code == site)
        return [
            {
                "server": s.hostname,
                "site": st.code,
                "customer": c.name if c else None,
                "controller": f"{m.controller} {s.controller_host}:{s.controller_port}",
                "host": s.controller_host,
                "port": s.controller_port,
                "user": s.controller_user,
            }
            for s, st, m, c in session.exec(query)
        ]


@audit_app.command("bmc")
def audit_bmc(
    db: DbOption = None,
    site: SiteOption = None,
    as_json: JsonOption = False,
    timeout: Annotated[float, typer.Option(help="Seconds per probe answer.")] = 2.0,
) -> int:
    """Probe every IPMI controller (observe only): cipher 0, anonymous/null user, IPMI 1.5 and its auth types.
    Exit 0 nothing found, 1 warnings or controllers that could not be audited, 2 a critical exposure."""
    if not 0 < timeout < 60:
        raise InputError("--timeout must be between 0 and 60 seconds")
    targets = _targets(db, site)

    def one(t: dict[str, Any]) -> BmcAudit:
        return audit_ipmi(t["host"], t["port"], t["user"], timeout)

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        audits = list(pool.map(one, targets))
    rows, errors = [], []
    for t, a in zip(targets, audits, strict=True):
        where = {k: t[k] for k in ("server", "site", "customer", "controller")}
        if a.error:
            errors.append({**where, "error": a.error})
        rows += [{**where, **f.to_dict()} for f in a.findings]
    notes = [RAKP_NOTE] if any(a.ipmi20 for a in audits) else []
    status = 2 if any(r["severity"] == CRITICAL for r in rows) else 1 if rows or errors else 0
    if as_json:
        emit_json({"generated_at": utcnow().isoformat(), "audited": len(targets), "findings": rows,
                   "errors": errors, "notes": notes})  # fmt: skip
        return status
    _print(rows, errors, notes, len(targets))
    return status


def _print(rows: list[dict[str, Any]], errors: list[dict[str, Any]], notes: list[str], audited: int) -> None:
    console = Console()
    if rows:
        table = Table("server", "site", "customer", "controller", "severity", "finding", "seen", "fix", box=None)
        for r in rows:
            style = "bold red" if r["severity"] == CRITICAL else None
            cells = [r["server"], r["site"], r["customer"] or "-", r["controller"], r["severity"], r["finding"],
                     r["seen"], r["fix"]]  # fmt: skip
            table.add_row(*(Text(plain(c)) for c in cells), style=style)
        console.print(table)
    else:
        console.print(f"no finding on {audited} IPMI controller(s)")
    for e in errors:
        console.print(Text(plain(f"not audited: {e['server']} ({e['controller']}): {e['error']}")))
    for n in notes:
        console.print(Text(f"note: {n}"))
