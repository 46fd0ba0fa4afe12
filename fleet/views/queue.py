"""A technician's work queue: the next swaps in deadline order, with everything needed at the rack.

Where (site, rack, U), which part and which bin the reserved spare sits in, warnings (no backup), and the deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from fleet.store.models import Component, Fault, PartModel, Reservation, Server, Site, Stock, Swap, Technician

QUEUE_STATES = ("planned", "agreed", "in_progress", "awaiting_customer")
FAR = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class WorkItem:
    swap_id: int
    fault_id: int
    server_id: int
    hostname: str
    site: str
    site_tz: str
    rack: str
    unit: int
    slot: str
    kind: str
    problem: str
    part_number: str  # the spare's part number ("" when none is reserved yet)
    bin: str  # where the spare is on the shelf ("" when none is reserved at this site)
    old_serial: str | None
    critical: bool
    state: str
    technician: str | None
    planned_start: datetime | None
    target_at: datetime | None
    hard_limit_at: datetime | None
    warning: str | None
    note: str | None

    @property
    def where(self) -> str:
        return f"{self.site} {self.rack} U{self.unit}"

    @property
    def deadline(self) -> datetime | None:
        return self.hard_limit_at or self.planned_start


def deadline_order(item: WorkItem) -> tuple[bool, datetime, datetime, int]:
    """Hard limit first (critical swaps), then planned start (windows), then the oldest swap."""
    return (item.hard_limit_at is None, item.hard_limit_at or FAR, item.planned_start or FAR, item.swap_id)


def work_queue(session: Session, *, technician: str | None = None, site: str | None = None) -> list[WorkItem]:
    """Open swaps, deadline first. With `technician`: that technician's swaps and the unassigned ones of their site."""
    q = (
        select(Swap, Fault, Server, Site)
        .join(Fault, col(Fault.id) == Swap.fault_id)
        .join(Server, col(Server.id) == Swap.server_id)
        .join(Site, col(Site.id) == Server.site_id)
        .where(col(Swap.state).in_(QUEUE_STATES))
    )
    if site:
        q = q.where(Site.code == site)
    tech_names = {t.id: t.name for t in session.exec(select(Technician)).all()}
    if technician:
        tech = session.exec(select(Technician).where(Technician.name == technician)).first()
        if tech is None:
            return []
        q = q.where(
            or_(
                col(Swap.technician_id) == tech.id,
                and_(col(Swap.technician_id).is_(None), col(Site.id) == tech.site_id),
            )
        )
    items = []
    for swap, fault, server, st in session.exec(q).all():
        assert swap.id is not None and fault.id is not None and server.id is not None
        part_number, bin_ = _spare(session, swap, fault, server)
        old = session.exec(
            select(Component).where(
                Component.server_id == server.id, Component.slot == fault.slot, col(Component.removed_at).is_(None)
            )
        ).first()
        items.append(
            WorkItem(
                swap_id=swap.id,
                fault_id=fault.id,
                server_id=server.id,
                hostname=server.hostname,
                site=st.code,
                site_tz=st.timezone,
                rack=server.rack,
                unit=server.unit,
                slot=fault.slot,
                kind=fault.kind,
                problem=fault.problem,
                part_number=part_number,
                bin=bin_,
                old_serial=old.serial if old else None,
                critical=swap.critical,
                state=swap.state,
                technician=tech_names.get(swap.technician_id),
                planned_start=swap.planned_start,
                target_at=swap.target_at,
                hard_limit_at=swap.hard_limit_at,
                warning=swap.warning,
                note=swap.note,
            )
        )
    return sorted(items, key=deadline_order)


def _spare(session: Session, swap: Swap, fault: Fault, server: Server) -> tuple[str, str]:
    """(part number, bin) of the spare reserved for this swap or its fault; the bin only when it is at this site."""
    res = session.get(Reservation, swap.reservation_id) if swap.reservation_id else None
    if res is None or res.state != "active":
        res = session.exec(
            select(Reservation)
            .where(Reservation.fault_id == fault.id, Reservation.state == "active")
            .order_by(col(Reservation.id))
        ).first()
    if res is None:
        return "", ""
    stock = session.get(Stock, res.stock_id)
    if stock is None:
        return "", ""
    part = session.get(PartModel, stock.part_model_id)
    here = stock.site_id == server.site_id
    return (part.part_number if part else ""), (stock.bin if here else "in transfer")


def technician_names(session: Session) -> list[str]:
    return [t.name for t in session.exec(select(Technician).where(Technician.active == True).order_by(Technician.name))]  # noqa: E712
