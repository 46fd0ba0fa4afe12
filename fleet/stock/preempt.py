"""A critical fault takes the site's last unit from a non-critical one.

When every unit of a matching part at the server's site is held, a critical fault (the server is down, 4 hours to
fix it) must not wait a day for a transfer while a non-critical fault (the server still runs, a swap at the
customer's window) keeps the unit on the shelf. The non-critical fault's reservation passes to the critical one; the
non-critical fault then looks for a spare again, like a new fault would: a transfer from another site, or it waits.
Both moves are in the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from fleet.health.model import Severity
from fleet.store import audit
from fleet.store.models import Fault, FaultState, Reservation, ReservationState, Server, Stock, Swap

IN_HANDS = (FaultState.IN_PROGRESS,)  # a swap a technician has started keeps its part


def take_from_noncritical(
    session: Session,
    fault: Fault,
    server: Server,
    part_ids: Sequence[int],
    *,
    now: datetime,
    actor: str,
) -> tuple[Reservation, int, Fault] | None:
    """Move a unit held at the server's site by a non-critical fault to this critical fault: (its new reservation,
    part model id, the fault that gave way), or None when no such unit exists. The caller (fleet.stock.reserve) then
    looks for a spare for the fault that gave way, like for a new fault: a transfer, or it waits for stock."""
    order = {pid: i for i, pid in enumerate(part_ids)}
    rows = session.exec(
        select(Reservation, Stock, Fault)
        .join(Stock, col(Stock.id) == col(Reservation.stock_id))
        .join(Fault, col(Fault.id) == col(Reservation.fault_id))
        .where(
            Reservation.state == ReservationState.ACTIVE,
            Stock.site_id == server.site_id,
            col(Stock.part_model_id).in_(list(part_ids)),
            Fault.severity != Severity.CRITICAL,
            col(Fault.resolved_at).is_(None),
            col(Fault.state).not_in(IN_HANDS),
        )
    ).all()
    if not rows:
        return None
    # The preferred part first; among its holders the fault noticed last gives way.
    old, stock, victim = min(rows, key=lambda r: (order[r[1].part_model_id], -r[2].notified_at.timestamp()))
    old.state, old.closed_at = ReservationState.RELEASED, now
    session.add(old)
    new = Reservation(stock_id=stock.id or 0, fault_id=fault.id, quantity=1, state=ReservationState.ACTIVE,
                      created_at=now, actor=actor)  # fmt: skip
    session.add(new)
    for swap in session.exec(select(Swap).where(Swap.reservation_id == old.id)).all():
        swap.reservation_id = None
        session.add(swap)
    session.flush()
    audit.record(session, at=now, actor=actor, action="stock.preempt", entity="stock", entity_id=stock.id,
                 before={"reservation_id": old.id, "fault_id": victim.id, "severity": victim.severity},
                 after={"reservation_id": new.id, "fault_id": fault.id, "severity": fault.severity,
                        "on_hand": stock.on_hand, "reserved": stock.reserved})  # fmt: skip
    return new, stock.part_model_id, victim
