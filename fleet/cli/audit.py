"""`fleet audit bmc`: which management controllers an attacker would use, across the fleet (docs/SECURITY.md)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text
from sqlmodel import select

from fleet.cli import app
from fleet.cli.common import DbOption, JsonOption, SiteOption, emit_json, open_db
from fleet.cli.table import Column, print_table
from fleet.clock import iso, utcnow
from fleet.collectors.audit import CRITICAL, RAKP_NOTE, BmcAudit, Finding, audit_ipmi
from fleet.collectors.audit.defaults import VENDOR_DEFAULTS, read_extra, working_defaults
from fleet.collectors.audit.redfish import audit_redfish, self_signed_note
from fleet.collectors.audit.snmp import default_communities
from fleet.errors import InputError
from fleet.store.db import read_session
from fleet.store.models import Customer, Server, ServerModel, Site
from fleet.sweep.ipmi_options import ipmi_options
from fleet.views.text import plain

audit_app = typer.Typer(help="Security audits of the fleet's management controllers.")
app.add_typer(audit_app, name="audit")

CONCURRENCY = 16
# a full IPMI 2.0 login (pyghmi: open session, RAKP, privilege) may take seconds on a busy BMC or host
LOGIN_TIMEOUT_S = 20.0


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
            .where(Server.controller_protocol.in_(("ipmi", "snmp", "redfish")), Server.status != "decommissioned")  # type: ignore[attr-defined]
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
                "protocol": s.controller_protocol,
            }
            for s, st, m, c in session.exec(query)
        ]


@audit_app.command("bmc")
def audit_bmc(
    db: DbOption = None,
    site: SiteOption = None,
    as_json: JsonOption = False,
    timeout: Annotated[float, typer.Option(help="Seconds per probe answer.")] = 2.0,
    default_credentials: Annotated[
        bool, typer.Option("--default-credentials", help="Also try vendor default logins (one per account).")
    ] = False,
    lockout_unknown_ok: Annotated[
        bool,
        typer.Option("--lockout-unknown-ok", help="Try them although the BMCs' lockout policy is unknown."),
    ] = False,
    extra_credentials: Annotated[
        str | None, typer.Option(help="Owner-only file of user:password lines to try as well.")
    ] = None,
) -> int:
    """Probe every controller (observe only): IPMI cipher 0, anonymous/null user, IPMI 1.5 and its auth types;
    SNMP default communities; Redfish over plain HTTP, TLS certificate expired or not yet valid.
    Exit 0 nothing found, 1 warnings or controllers that could not be audited, 2 a critical exposure."""
    if not 0 < timeout < 60:
        raise InputError("--timeout must be between 0 and 60 seconds")
    if (lockout_unknown_ok or extra_credentials) and not default_credentials:
        raise InputError("--lockout-unknown-ok and --extra-credentials go with --default-credentials")
    pairs = [*VENDOR_DEFAULTS, *(read_extra(extra_credentials) if extra_credentials else [])]
    targets = _targets(db, site)
    options = ipmi_options() if default_credentials and lockout_unknown_ok else None

    def one(t: dict[str, Any]) -> BmcAudit:
        if t["protocol"] == "snmp":
            return BmcAudit(t["host"], t["port"], findings=default_communities(t["host"], t["port"], timeout))
        if t["protocol"] == "redfish":
            return audit_redfish(t["host"], t["port"], timeout)
        audit = audit_ipmi(t["host"], t["port"], t["user"], timeout)
        if default_credentials and lockout_unknown_ok and audit.error is None:
            for user in working_defaults(t["host"], t["port"], pairs, LOGIN_TIMEOUT_S, options):
                audit.findings.append(_default_finding(user))
        return audit

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        audits = list(pool.map(one, targets))
    rows, errors = [], []
    for t, a in zip(targets, audits, strict=True):
        where = {k: t[k] for k in ("server", "site", "customer", "controller")}
        if a.error:
            errors.append({**where, "error": a.error})
        rows += [{**where, **f.to_dict()} for f in a.findings]
    notes = [RAKP_NOTE] if any(a.ipmi20 for a in audits) else []
    if self_signed := sum(1 for a in audits if a.self_signed):
        notes.append(self_signed_note(self_signed))
    if default_credentials and not lockout_unknown_ok:
        notes.append(
            "default credentials not tried: the controllers' lockout policy is unknown (a failed login can lock an "
            "account); add --lockout-unknown-ok to try each account once"
        )
    status = 2 if any(r["severity"] == CRITICAL for r in rows) else 1 if rows or errors else 0
    if as_json:
        emit_json({"generated_at": iso(utcnow()), "audited": len(targets), "findings": rows,
                   "errors": errors, "notes": notes})  # fmt: skip
        return status
    _print(rows, errors, notes, len(targets))
    return status


def _default_finding(user: str) -> Finding:
    return Finding(
        "default-credentials",
        CRITICAL,
        f"vendor default password works for {user!r}",
        "one IPMI 2.0 login with the vendor's default password (logged out at once)",
        f"change the password of {user!r} (or disable the account)",
    )


AUDIT_COLUMNS = (
    Column("server", identifier=True),
    Column("severity"),
    Column("finding"),
    Column("controller", identifier=True, drop=1),
    Column("fix", drop=2),
    Column("site", drop=3),
    Column("customer", drop=5),
    Column("seen", drop=4),
)


def _print(rows: list[dict[str, Any]], errors: list[dict[str, Any]], notes: list[str], audited: int) -> None:
    console = Console()
    print_table(AUDIT_COLUMNS, [
        (r["server"], r["severity"], r["finding"], r["controller"], r["fix"], r["site"], r["customer"] or "-",
         r["seen"])
        for r in rows
    ], empty=f"no finding on {audited} controller(s)", styles=[
        "bold red" if r["severity"] == CRITICAL else None for r in rows])  # fmt: skip
    for e in errors:
        console.print(Text(plain(f"not audited: {e['server']} ({e['controller']}): {e['error']}")))
    for n in notes:
        console.print(Text(f"note: {n}"))
