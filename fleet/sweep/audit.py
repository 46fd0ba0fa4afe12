"""The BMC security audit as a service: `fleet audit bmc` and the sweep's periodic audit (docs/SECURITY.md).

    targets (servers with an IPMI or SNMP controller) ─> probe each, outside any transaction (observe only)
        ─> record: security faults and their work orders (fleet.faults.security), one bmc_audit_run row

Probing goes through one small dispatch per controller protocol (`probe`); it says which finding codes the probe
could have reported, so that a later audit closes only what it really looked at again.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from fleet.collectors.audit import (
    CAPS_CODES,
    CIPHER_ZERO,
    CRITICAL,
    DEFAULT_CREDENTIALS,
    RAKP_NOTE,
    BmcAudit,
    Finding,
    audit_ipmi,
)
from fleet.collectors.audit import redfish as redfish_audit
from fleet.collectors.audit import snmp as snmp_audit
from fleet.collectors.audit.defaults import VENDOR_DEFAULTS, working_defaults
from fleet.collectors.targets import IpmiOptions
from fleet.config import Settings
from fleet.errors import InputError
from fleet.faults.security import Exposure, apply_audit
from fleet.store.db import read_session, write_session
from fleet.store.models import BmcAuditRun, Customer, Server, ServerModel, Site
from fleet.sweep.ipmi_options import ipmi_options
from fleet.sweep.report import AuditSummary
from fleet.sweep.runs import ABANDON_AFTER

CONCURRENCY = 16
# a full IPMI 2.0 login (pyghmi: open session, RAKP, privilege) may take seconds on a busy BMC or host
LOGIN_TIMEOUT_S = 20.0
AUDITED_PROTOCOLS = ("ipmi", "snmp", "redfish")
AUDIT_LOCK = 0x666C656574 + 1  # the advisory lock key of "who runs the periodic audit" on PostgreSQL


@dataclass(frozen=True, slots=True)
class Target:
    server_id: int
    server: str
    site: str
    customer: str | None
    controller: str  # "family host:port", as people read it
    host: str
    port: int
    user: str | None
    protocol: str
    answered_lately: bool  # the sweep's last poll of this controller got an answer


@dataclass(frozen=True, slots=True)
class DefaultLogins:
    """Vendor default logins to try (opt-in: the operator accepted the lockout risk), one attempt per account."""

    pairs: Sequence[tuple[str, str]]
    options: IpmiOptions | None = None


@dataclass(slots=True)
class Probed:
    target: Target
    audit: BmcAudit
    checked: frozenset[str]  # the codes this probe could have reported: only these may close a fault

    @property
    def exposures(self) -> list[Exposure]:
        return [Exposure(f.code, f.severity == CRITICAL, f.finding, f.seen, f.fix) for f in self.audit.findings]


@dataclass
class AuditOutcome:
    probed: list[Probed]
    summary: AuditSummary | None = None  # None: not recorded (`--no-record`)
    notes: list[str] = field(default_factory=list)


def audit_targets(session: Session, site: str | None) -> list[Target]:
    if site is not None and session.exec(select(Site).where(Site.code == site)).first() is None:
        raise InputError(f"no site {site!r}")
    query = (
        select(Server, Site, ServerModel, Customer)
        .join(Site, col(Server.site_id) == Site.id)
        .join(ServerModel, col(Server.model_id) == ServerModel.id)
        .outerjoin(Customer, col(Server.customer_id) == Customer.id)
        .where(col(Server.controller_protocol).in_(AUDITED_PROTOCOLS), Server.status != "decommissioned")
        .order_by(col(Server.hostname))
    )
    if site is not None:
        query = query.where(Site.code == site)
    return [
        Target(s.id or 0, s.hostname, st.code, c.name if c else None,
               f"{m.controller} {s.controller_host}:{s.controller_port}", s.controller_host, s.controller_port,
               s.controller_user, s.controller_protocol, s.last_polled_at is not None and s.last_poll_error is None)
        for s, st, m, c in session.exec(query)
    ]  # fmt: skip


def probe(t: Target, timeout: float, logins: DefaultLogins | None) -> Probed:
    """One controller, by its protocol (a new protocol is one more branch here)."""
    if t.protocol == "snmp":
        found = snmp_audit.default_communities(t.host, t.port, timeout)
        # A v2c agent that answers neither default community may be hardened or dead: the sweep's last poll says
        # which. An agent not heard from lately proves nothing, and changes nothing.
        alive = bool(found) or t.answered_lately
        return Probed(t, BmcAudit(t.host, t.port, findings=found), frozenset({snmp_audit.CODE} if alive else ()))
    if t.protocol == "redfish":
        rf = redfish_audit.audit_redfish(t.host, t.port, timeout)
        return Probed(t, rf, frozenset() if rf.error else frozenset(redfish_audit.CODES))
    audit = audit_ipmi(t.host, t.port, t.user, timeout)
    if audit.ipmi20 is None:  # the capabilities request got no answer: not audited at all
        return Probed(t, audit, frozenset())
    checked = set(CAPS_CODES)
    if audit.ipmi20 is False or (t.user and audit.error is None):
        checked.add(CIPHER_ZERO)  # probed, or impossible (no IPMI 2.0, no RMCP+)
    if logins is not None and audit.error is None:
        for user in working_defaults(t.host, t.port, list(logins.pairs), LOGIN_TIMEOUT_S, logins.options):
            audit.findings.append(default_finding(user))
        checked.add(DEFAULT_CREDENTIALS)
    return Probed(t, audit, frozenset(checked))


def default_finding(user: str) -> Finding:
    return Finding(
        DEFAULT_CREDENTIALS,
        CRITICAL,
        f"vendor default password works for {user!r}",
        "one IPMI 2.0 login with the vendor's default password (logged out at once)",
        f"change the password of {user!r} (or disable the account)",
    )


def probe_all(targets: Sequence[Target], timeout: float, logins: DefaultLogins | None) -> list[Probed]:
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        return list(pool.map(lambda t: probe(t, timeout, logins), targets))


def notes_for(probed: Sequence[Probed]) -> list[str]:
    notes = [RAKP_NOTE] if any(p.audit.ipmi20 for p in probed) else []
    if self_signed := sum(1 for p in probed if p.audit.self_signed):
        notes.append(redfish_audit.self_signed_note(self_signed))
    return notes


def record(session: Session, run: BmcAuditRun, probed: Sequence[Probed], *, now: datetime) -> AuditSummary:
    """Every audited controller's findings into security faults and work orders; the run's row filled in."""
    summary = AuditSummary(controllers=len(probed))
    for p in probed:
        summary.not_audited += p.audit.error is not None
        if not p.checked and not p.audit.findings:
            continue  # nothing seen, nothing checked: its faults stay as they are
        summary.findings += len(p.audit.findings)
        summary.critical += sum(f.severity == CRITICAL for f in p.audit.findings)
        server = session.get(Server, p.target.server_id)
        if server is None:  # deleted while we probed
            continue
        result = apply_audit(session, server, p.exposures, p.checked, now=now, actor=run.actor)
        summary.faults_opened += len(result.opened)
        summary.faults_resolved += len(result.resolved)
        summary.work_orders += len(result.work_orders)
    run.finished_at = now
    run.audited, run.not_audited, run.findings = summary.controllers, summary.not_audited, summary.findings
    run.faults_opened, run.faults_resolved = summary.faults_opened, summary.faults_resolved
    session.add(run)
    return summary


def run_audit(
    engine: Engine,
    *,
    site: str | None,
    timeout: float,
    logins: DefaultLogins | None,
    now: datetime,
    actor: str,
    keep: bool = True,
) -> AuditOutcome:
    """`fleet audit bmc`: probe the fleet (or a site); with `keep`, record the faults and the run."""
    with read_session(engine) as session:
        targets = audit_targets(session, site)
    probed = probe_all(targets, timeout, logins)
    out = AuditOutcome(probed, notes=notes_for(probed))
    if keep:
        with write_session(engine) as session:
            run = BmcAuditRun(started_at=now, site_code=site, actor=actor)
            out.summary = record(session, run, probed, now=now)
    return out


# --- the sweep's periodic audit ----------------------------------------------------------------------------------


def audit_due(last: datetime | None, now: datetime, every_days: int) -> bool:
    """The periodic audit is due: it is on (`every_days` > 0) and the last one started `every_days` ago or more."""
    return every_days > 0 and (last is None or now - last >= timedelta(days=every_days))


def last_audit(session: Session, site: str | None, now: datetime) -> datetime | None:
    """The start of the latest audit that covered `site` (None: the whole fleet), finished or still running (a run
    left unfinished longer than any audit lasts does not count: it is tried again)."""
    q = select(BmcAuditRun.started_at).where(
        col(BmcAuditRun.finished_at).is_not(None) | (col(BmcAuditRun.started_at) > now - ABANDON_AFTER)
    )
    q = (
        q.where(col(BmcAuditRun.site_code).is_(None) | (BmcAuditRun.site_code == site))
        if site
        else q.where(col(BmcAuditRun.site_code).is_(None))
    )
    return session.exec(q.order_by(col(BmcAuditRun.started_at).desc())).first()


def _claim(engine: Engine, settings: Settings, site: str | None, now: datetime) -> int | None:
    """The id of a new run row when the audit is due, else None; one claimer at a time (sweep workers)."""
    with write_session(engine) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK})
        if not audit_due(last_audit(session, site, now), now, settings.audit_every_days):
            return None
        run = BmcAuditRun(started_at=now, site_code=site, actor="sweep")
        session.add(run)
        session.flush()
        return run.id


def periodic_audit(engine: Engine, settings: Settings, *, site: str | None, now: datetime) -> AuditSummary | None:
    """What the sweep calls every round: the audit when it is due (`audit_every_days`), else None. Vendor default
    logins are tried only when `audit_default_credentials` says the operator accepted the lockout risk."""
    run_id = _claim(engine, settings, site, now)
    if run_id is None:
        return None
    with read_session(engine) as session:
        targets = audit_targets(session, site)
    logins = DefaultLogins(VENDOR_DEFAULTS, ipmi_options(settings)) if settings.audit_default_credentials else None
    probed = probe_all(targets, settings.audit_timeout_s, logins)
    with write_session(engine) as session:
        run = session.get(BmcAuditRun, run_id)
        assert run is not None
        return record(session, run, probed, now=now)
