"""`fleet audit bmc`: which management controllers an attacker would use, across the fleet (docs/SECURITY.md)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from fleet.cli import app
from fleet.cli.common import DbOption, JsonOption, SiteOption, emit_json, open_db, say
from fleet.cli.stock import cli_actor
from fleet.cli.table import Column, print_table
from fleet.clock import iso, utcnow
from fleet.collectors.audit import CRITICAL
from fleet.collectors.audit.defaults import VENDOR_DEFAULTS, read_extra
from fleet.errors import InputError
from fleet.sweep.audit import DefaultLogins, run_audit
from fleet.sweep.ipmi_options import ipmi_options
from fleet.sweep.report import AuditSummary
from fleet.views.text import plain

audit_app = typer.Typer(help="Security audits of the fleet's management controllers.")
app.add_typer(audit_app, name="audit")


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
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Only report: open, keep or close no security fault.")
    ] = False,
) -> int:
    """Probe every controller (observe only): IPMI cipher 0, anonymous/null user, IPMI 1.5 and its auth types;
    SNMP default communities; Redfish over plain HTTP, TLS certificate expired or not yet valid. Each finding is
    recorded as a security fault with a work order, and a finding that is
    gone closes its fault (unless --no-record).
    Exit 0 nothing found, 1 warnings or controllers that could not be audited, 2 a critical exposure."""
    if not 0 < timeout < 60:
        raise InputError("--timeout must be between 0 and 60 seconds")
    if (lockout_unknown_ok or extra_credentials) and not default_credentials:
        raise InputError("--lockout-unknown-ok and --extra-credentials go with --default-credentials")
    pairs = [*VENDOR_DEFAULTS, *(read_extra(extra_credentials) if extra_credentials else [])]
    logins = DefaultLogins(pairs, ipmi_options()) if default_credentials and lockout_unknown_ok else None
    engine = open_db(db)
    now = utcnow()
    outcome = run_audit(engine, site=site, timeout=timeout, logins=logins, now=now, actor=cli_actor(),
                        keep=not no_record)  # fmt: skip
    rows, errors = [], []
    for p in outcome.probed:
        t, a = p.target, p.audit
        where = {"server": t.server, "site": t.site, "customer": t.customer, "controller": t.controller}
        if a.error:
            errors.append({**where, "error": a.error})
        rows += [{**where, **f.to_dict()} for f in a.findings]
    notes = list(outcome.notes)
    if default_credentials and not lockout_unknown_ok:
        notes.append(
            "default credentials not tried: the controllers' lockout policy is unknown (a failed login can lock an "
            "account); add --lockout-unknown-ok to try each account once"
        )
    status = 2 if any(r["severity"] == CRITICAL for r in rows) else 1 if rows or errors else 0
    recorded = asdict(outcome.summary) if outcome.summary is not None else None
    if as_json:
        emit_json({"generated_at": iso(now), "audited": len(outcome.probed), "findings": rows,
                   "errors": errors, "notes": notes, "recorded": recorded})  # fmt: skip
        return status
    _print(rows, errors, notes, len(outcome.probed))
    _print_recorded(outcome.summary)
    return status


def _print_recorded(summary: AuditSummary | None) -> None:
    if summary is None:
        say("not recorded (--no-record): no security fault opened or closed")
        return
    say(f"recorded: {summary.faults_opened} security fault(s) opened with {summary.work_orders} work order(s), "
        f"{summary.faults_resolved} closed (finding gone); see `fleet faults --security`, `fleet swaps`")  # fmt: skip


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
