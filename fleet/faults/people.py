"""Faults from people: a support ticket, a technician's acknowledgement, a fault resolved by hand.

The clocks (docs/SLA.md): a ticket moves the notification to its time when it is earlier than what monitoring saw;
the *critical* clock (`critical_since`) moves only for a report of the critical condition: a critical ticket, or any
ticket on a fault that was critical from its first detection. A back-dated non-critical ticket on a fault that
became critical later changes neither clock of the critical alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from fleet.clock import iso
from fleet.config import Settings
from fleet.errors import InputError
from fleet.faults.common import check_slot, close, escalate, find_component, get_fault, lock_server, open_faults
from fleet.health.model import Kind, Severity
from fleet.health.rules import FAMILY, SECURITY
from fleet.health.slots import slot_key, slot_kind
from fleet.store import audit
from fleet.store.lookup import find_server
from fleet.store.models import Fault, FaultSource, FaultState, Resolution, Server, Ticket

if TYPE_CHECKING:
    from fleet.stock.reserve import SpareOutcome

RESOLUTIONS = tuple(r.value for r in Resolution)


@dataclass
class TicketResult:
    ticket: Ticket
    fault: Fault
    joined: bool  # True: the ticket joined a fault that was already open
    spare: SpareOutcome | None = None  # a critical fault's spare reserved at once, or the no-spare flag


def acknowledge(session: Session, fault_id: int, *, by: str, now: datetime, at: datetime | None = None) -> Fault:
    """A technician has looked at the alert (the SLA's look within the hour), now or at `at` (a look recorded late).
    A look before the alert or in the future is refused. Acknowledging twice keeps the first."""
    by = by.strip()
    if not by:
        raise InputError("who acknowledges? give --by NAME")
    at = at or now
    if at > now:
        raise InputError(f"--at {iso(at)} is in the future")
    fault = get_fault(session, fault_id)
    if fault.resolved_at is not None:
        raise InputError(f"fault {fault_id} is already {fault.state}")
    if at < fault.notified_at:
        raise InputError(f"--at {iso(at)} is before the alert of fault {fault_id} ({iso(fault.notified_at)})")
    if fault.acknowledged_at is not None:
        return fault
    # A rack's power fault is the one alert for the feed faults attached to it (fleet.faults.rack): one look covers
    # them all.
    attached = session.exec(select(Fault).where(Fault.parent_id == fault.id, col(Fault.resolved_at).is_(None))).all()
    for f in [fault, *(a for a in attached if a.acknowledged_at is None and a.notified_at <= at)]:
        before = audit.snapshot(f)
        f.acknowledged_at = at
        f.acknowledged_by = by
        if f.state == FaultState.OPEN:
            f.state = FaultState.ACKNOWLEDGED
        session.add(f)
        audit.record(
            session, at=now, actor=by, action="fault.ack", entity="fault", entity_id=f.id, before=before,
            after=audit.snapshot(f),
        )  # fmt: skip
    return fault


def resolve(session: Session, fault_id: int, *, resolution: str, now: datetime, actor: str) -> Fault:
    """Close a fault by hand: swapped (the part was replaced), recovered, or cancelled (not a fault after all). Its
    swap is closed with it (done when swapped, else cancelled), so the SLA report and the work queue agree."""
    if resolution not in RESOLUTIONS:
        raise InputError(f"resolution must be one of {', '.join(RESOLUTIONS)}, not {resolution!r}")
    fault = get_fault(session, fault_id)
    if fault.resolved_at is not None:
        raise InputError(f"fault {fault_id} is already {fault.state}")
    close(session, fault, resolution=Resolution(resolution), now=now, actor=actor)
    session.flush()
    return fault


def open_ticket(
    session: Session,
    hostname: str,
    slot: str,
    text: str,
    *,
    critical: bool,
    at: datetime | None,
    now: datetime,
    by: str = "support",
    settings: Settings | None = None,
) -> TicketResult:
    """Record a support ticket about a part. It joins the open fault of that slot if there is one (see the module's
    clock rules), else opens one.

    The slot must be one the server has (InputError listing them otherwise: nothing is written). With `settings`, a
    fault that is critical after the ticket gets its spare reserved at once (or the no-spare flag)."""
    at = at or now
    if at > now:
        raise InputError(f"the ticket time {iso(at)} is in the future")
    if not slot.strip():
        raise InputError("which slot? give --slot (e.g. PSU2, Disk 0:1:4)")
    if not text.strip():
        raise InputError("the ticket needs a --text")
    server = find_server(session, hostname)
    assert server.id is not None
    slot = check_slot(session, server, slot)
    lock_server(session, server.id)
    key = slot_key(slot)
    # A ticket is about a part: it never joins a security fault (the audit alone opens and verifies those).
    candidates = [f for f in open_faults(session, server.id) if slot_key(f.slot) == key and f.kind != SECURITY]
    # The part's own health fault first, then the most severe, then the oldest.
    candidates.sort(key=lambda f: (FAMILY.get(f.problem) != "health", Severity(f.severity).rank, f.notified_at))
    ticket = Ticket(server_id=server.id, slot=slot.strip(), text=text.strip(), critical=critical, opened_at=at,
                    opened_by=by)  # fmt: skip
    if candidates:
        fault = candidates[0]
        before = audit.snapshot(fault)
        _join(fault, critical=critical, at=at)
        session.add(fault)
        audit.record(
            session, at=now, actor=by, action="fault.ticket", entity="fault", entity_id=fault.id, before=before,
            after=audit.snapshot(fault),
        )  # fmt: skip
    else:
        fault = _ticket_fault(session, server, slot, text, critical=critical, at=at, now=now, by=by)
    ticket.fault_id = fault.id
    session.add(ticket)
    session.flush()
    audit.record(
        session, at=now, actor=by, action="ticket.open", entity="ticket", entity_id=ticket.id,
        after=audit.snapshot(ticket),
    )  # fmt: skip
    spare = None
    if settings is not None and fault.severity == Severity.CRITICAL and fault.id is not None:
        from fleet.stock.reserve import reserve_for_fault  # stock imports nothing of faults; this keeps it that way

        spare = reserve_for_fault(session, fault.id, now=now, settings=settings, actor=by)
    return TicketResult(ticket=ticket, fault=fault, joined=bool(candidates), spare=spare)


def _ticket_fault(
    session: Session, server: Server, slot: str, text: str, *, critical: bool, at: datetime, now: datetime, by: str
) -> Fault:
    assert server.id is not None
    installed = find_component(session, server.id, slot)
    kind = slot_kind(slot)
    fault = Fault(
        server_id=server.id,
        slot=installed.slot if installed else slot_key(slot),
        kind=kind.value if kind else Kind.OTHER.value,
        problem="reported",
        severity=Severity.CRITICAL if critical else Severity.NON_CRITICAL,
        evidence=f"ticket by {by}: {text.strip()}",
        source=FaultSource.TICKET,
        detected_at=at,
        notified_at=at,
        critical_since=at if critical else None,
    )
    session.add(fault)
    session.flush()
    audit.record(
        session, at=now, actor=by, action="fault.open", entity="fault", entity_id=fault.id,
        after=audit.snapshot(fault),
    )  # fmt: skip
    return fault


def _join(fault: Fault, *, critical: bool, at: datetime) -> None:
    """A ticket joins an open fault (rules in the module docstring)."""
    if fault.severity != Severity.CRITICAL:
        if critical:
            escalate(fault, at=at)  # the ticket reports the critical condition: both clocks start at it
        elif at < fault.notified_at:
            fault.notified_at = at
        return
    # Critical from its first detection (its critical clock never started after the fault was first seen): every
    # report of the fault is a report of the critical condition. Escalated later: only a critical ticket is.
    critical_from_start = fault.critical_since is None or fault.critical_since <= fault.detected_at
    if (critical or critical_from_start) and at < fault.notified_at:
        fault.notified_at = at
        fault.critical_since = at if fault.critical_since is None else min(fault.critical_since, at)
