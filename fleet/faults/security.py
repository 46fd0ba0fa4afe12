"""Security faults: what one BMC security audit of one controller changes (docs/SECURITY.md).

One open fault per server and finding code (slot `BMC`, kind `security`, problem = the code, source `audit`),
critical when the finding gives anyone full control of the server. Each fault has a work order for a technician (a
Swap row with no part: the fix is a setting on the controller) in the same work queue as the swaps; it has no SLA
clock and no customer window, and `fleet swap done` refuses it: the next audit is the verification.

Re-verification: a later audit of the same controller keeps the fault while the finding is still there, and closes it
(recovered) with its work order (done) when the finding is gone; a finding seen again after that opens a new fault.
Only the codes the audit could have reported close anything (`checked`): default credentials that were not tried,
or a cipher-0 probe that did not run, prove nothing. A controller that could not be audited changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from fleet.faults.common import close, escalate, insert_open_fault, lock_server, open_faults
from fleet.health.model import Severity
from fleet.health.rules import SECURITY
from fleet.store import audit
from fleet.store.models import ACTIVE_SWAP_STATES, Fault, FaultSource, Resolution, Server, Swap, SwapState

SLOT = "BMC"  # the management controller: every security fault of a server is about it


@dataclass(frozen=True, slots=True)
class Exposure:
    """One audit finding as the fault service takes it (the collectors' Finding, without importing them)."""

    code: str  # cipher-zero, anonymous-login, ipmi15-none, default-credentials, snmp-default-community ...
    critical: bool  # anyone gets full control of the server
    finding: str
    seen: str
    fix: str


@dataclass
class SecurityResult:
    """What one audit of one controller did to its server's security faults (fault ids)."""

    opened: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)  # still there: fault and work order stay open
    resolved: list[int] = field(default_factory=list)  # gone: fault recovered, work order done
    work_orders: list[int] = field(default_factory=list)  # work orders (swap ids) created by this audit


def _merged(exposures: Sequence[Exposure]) -> dict[str, Exposure]:
    """One exposure per code (two default passwords, `public` and `private`: one fault), worst severity, in order."""
    out: dict[str, Exposure] = {}
    for e in exposures:
        had = out.get(e.code)
        if had is None:
            out[e.code] = e
            continue
        out[e.code] = Exposure(e.code, had.critical or e.critical, f"{had.finding}; {e.finding}", had.seen, had.fix)
    return out


def evidence_of(e: Exposure) -> str:
    return f"{e.finding} (seen by: {e.seen}); fix: {e.fix}"


def apply_audit(
    session: Session,
    server: Server,
    exposures: Sequence[Exposure],
    checked: Collection[str],
    *,
    now: datetime,
    actor: str,
) -> SecurityResult:
    """Record one audit of `server`'s controller (in the caller's transaction); see the module docstring.
    `checked`: the finding codes this audit could have reported (absence of the others proves nothing)."""
    assert server.id is not None
    lock_server(session, server.id)
    found = _merged(exposures)
    current = {f.problem: f for f in open_faults(session, server.id) if f.kind == SECURITY}
    out = SecurityResult()
    for code, e in found.items():
        fault = current.get(code)
        if fault is None:
            fault, created = _open(session, server, e, now=now, actor=actor)
            if created:
                assert fault.id is not None
                out.opened.append(fault.id)
            else:
                out.kept.append(fault.id or 0)
        else:
            _still_there(session, fault, e, now=now, actor=actor)
            out.kept.append(fault.id or 0)
        swap_id = _ensure_work_order(session, fault, server, e, now=now, actor=actor)
        if swap_id is not None:
            out.work_orders.append(swap_id)
    for code, fault in current.items():
        if code not in found and code in checked:
            close(session, fault, resolution=Resolution.RECOVERED, now=now, actor=actor)
            out.resolved.append(fault.id or 0)
    session.flush()
    return out


def _open(session: Session, server: Server, e: Exposure, *, now: datetime, actor: str) -> tuple[Fault, bool]:
    """A new security fault, or the one another writer opened a moment ago (the partial unique index decides)."""
    fault = Fault(
        server_id=server.id,  # type: ignore[arg-type]
        slot=SLOT,
        kind=SECURITY,
        problem=e.code,
        severity=Severity.CRITICAL if e.critical else Severity.NON_CRITICAL,
        evidence=evidence_of(e),
        source=FaultSource.AUDIT,
        detected_at=now,
        notified_at=now,
        critical_since=now if e.critical else None,
        last_seen_at=now,
        last_poll_at=now,
    )
    return insert_open_fault(session, fault, now=now, actor=actor)


def _still_there(session: Session, fault: Fault, e: Exposure, *, now: datetime, actor: str) -> None:
    before = audit.snapshot(fault)
    fault.last_seen_at = now
    fault.last_poll_at = now
    changed = []
    if e.critical and fault.severity != Severity.CRITICAL:
        escalate(fault, at=now)
        changed.append("fault.escalate")
    if fault.evidence != evidence_of(e):
        fault.evidence = evidence_of(e)
        changed.append("fault.update")
    session.add(fault)
    for action in changed:
        audit.record(session, at=now, actor=actor, action=action, entity="fault", entity_id=fault.id, before=before,
                     after=audit.snapshot(fault))  # fmt: skip


def _ensure_work_order(
    session: Session, fault: Fault, server: Server, e: Exposure, *, now: datetime, actor: str
) -> int | None:
    """The fault's work order for a technician, made when it has none still to do (a new fault; one whose order was
    cancelled by hand while the finding stayed). Returns the new swap id, else None."""
    live = session.exec(select(Swap).where(Swap.fault_id == fault.id, col(Swap.state).in_(ACTIVE_SWAP_STATES))).first()
    if live is not None:
        if live.critical != (fault.severity == Severity.CRITICAL):
            live.critical = fault.severity == Severity.CRITICAL
            session.add(live)
        return None
    swap = Swap(
        fault_id=fault.id,  # type: ignore[arg-type]
        server_id=server.id,  # type: ignore[arg-type]
        critical=fault.severity == Severity.CRITICAL,
        state=SwapState.PLANNED,
        note=f"security: {e.fix}",
    )
    session.add(swap)
    session.flush()
    audit.record(session, at=now, actor=actor, action="swap.plan", entity="swap", entity_id=swap.id,
                 after=audit.snapshot(swap))  # fmt: skip
    return swap.id
