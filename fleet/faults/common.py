"""What the fault services share: finding a fault, locking a server's faults, escalating and closing a fault.

Closing a fault closes what hangs on it: a swap not yet done is called off (or, when the part was swapped by hand,
closed as done) and the spare it held goes back on the shelf (or, swapped by hand, is taken off it).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from fleet.errors import NotFound
from fleet.health.model import Severity
from fleet.health.slots import slot_key
from fleet.store import audit
from fleet.store.models import (
    ACTIVE_SWAP_STATES,
    Component,
    Fault,
    FaultState,
    Resolution,
    Server,
    Swap,
    SwapState,
)


def get_fault(session: Session, fault_id: int) -> Fault:
    fault = session.get(Fault, fault_id)
    if fault is None:
        raise NotFound(f"no fault {fault_id}")
    return fault


def open_faults(session: Session, server_id: int) -> list[Fault]:
    q = select(Fault).where(Fault.server_id == server_id, col(Fault.resolved_at).is_(None))
    return list(session.exec(q.order_by(col(Fault.id))).all())


def find_component(session: Session, server_id: int, slot: str) -> Component | None:
    """The part installed in a slot, whatever the slot's spelling ("PSU 2" finds "PSU2")."""
    key = slot_key(slot)
    q = select(Component).where(Component.server_id == server_id, col(Component.removed_at).is_(None))
    return next((c for c in session.exec(q) if slot_key(c.slot) == key), None)


def lock_server(session: Session, server_id: int) -> None:
    """Serialise fault changes of one server (a ticket and a sweep at the same moment) on PostgreSQL; SQLite's write
    sessions are serialised already (FOR UPDATE renders as nothing there)."""
    session.exec(select(Server.id).where(col(Server.id) == server_id).with_for_update())


def escalate(fault: Fault, *, at: datetime) -> None:
    """Non-critical -> critical: the critical clock starts now, and it is a new alert someone must look at."""
    fault.severity = Severity.CRITICAL
    fault.critical_since = at
    fault.notified_at = at
    fault.acknowledged_at = None
    fault.acknowledged_by = None
    if fault.state == FaultState.ACKNOWLEDGED:
        fault.state = FaultState.OPEN


def close(session: Session, fault: Fault, *, resolution: Resolution, now: datetime, actor: str) -> None:
    before = audit.snapshot(fault)
    fault.resolved_at = now
    fault.resolution = resolution
    fault.state = FaultState.CANCELLED if resolution == Resolution.CANCELLED else FaultState.RESOLVED
    session.add(fault)
    audit.record(
        session, at=now, actor=actor, action="fault.resolve", entity="fault", entity_id=fault.id, before=before,
        after=audit.snapshot(fault),
    )  # fmt: skip
    _close_swaps(session, fault, now=now, actor=actor)


def _close_swaps(session: Session, fault: Fault, *, now: datetime, actor: str) -> None:
    """The fault's swaps that have not happened in the swap service: swapped by hand, they are done now (the SLA
    report measures the fault's clock to this moment) and the spare at the site left the shelf; otherwise nothing
    is left to swap: the swap is called off and the spare goes back."""
    from fleet.stock.reserve import consume_for_fault, release_for_fault  # stock imports nothing of faults

    assert fault.id is not None
    swapped = fault.resolution == Resolution.SWAPPED
    if swapped:
        consume_for_fault(session, fault.id, now=now, actor=actor)
    else:
        release_for_fault(session, fault.id, now=now, actor=actor)
    states = ACTIVE_SWAP_STATES if swapped else tuple(s for s in ACTIVE_SWAP_STATES if s != SwapState.IN_PROGRESS)
    for swap in session.exec(select(Swap).where(Swap.fault_id == fault.id, col(Swap.state).in_(states))).all():
        before = audit.snapshot(swap)
        if swapped:
            swap.state = SwapState.DONE
            swap.done_at = now
            swap.note = "fault resolved by hand as swapped"
        else:
            swap.state = SwapState.CANCELLED
            swap.note = f"fault {fault.resolution} before the swap"
        session.add(swap)
        action = "swap.done" if swapped else "swap.cancel"
        audit.record(session, at=now, actor=actor, action=action, entity="swap", entity_id=swap.id,
                     before=before, after=audit.snapshot(swap))  # fmt: skip
