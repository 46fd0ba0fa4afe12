"""Open swaps in deadline order: `fleet swaps` (table and JSON), the dashboard's swaps due, the console's work queue.

Everything needed at the rack: where (site, rack, U), which part and which bin the reserved spare sits in, warnings
(no backup), the deadlines, and whether staff must call a customer who has not answered (escalated).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from fleet.clock import iso
from fleet.config import Settings
from fleet.store.models import (
    ACTIVE_SWAP_STATES,
    Component,
    Fault,
    MaintenanceWindow,
    PartModel,
    Reservation,
    ReservationState,
    Server,
    Site,
    Stock,
    Swap,
    SwapState,
    Technician,
)
from fleet.swaps.plan import escalations

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
    state: SwapState
    technician: str | None
    planned_start: datetime | None
    target_at: datetime | None
    hard_limit_at: datetime | None
    warning: str | None
    note: str | None
    window: tuple[int, datetime, datetime] | None  # the agreed (or proposed) customer window: id, start, end
    done_at: datetime | None
    new_serial: str | None
    escalated: str | None  # why staff must call the customer (no answer in time), else None

    @property
    def where(self) -> str:
        return f"{self.site} {self.rack} U{self.unit}"

    @property
    def deadline(self) -> datetime | None:
        return self.hard_limit_at or self.planned_start

    def to_json(self) -> dict[str, Any]:
        """A row of `fleet swaps --json` (docs/CLI.md)."""
        return {
            "id": self.swap_id,
            "fault_id": self.fault_id,
            "server": self.hostname,
            "site": self.site,
            "timezone": self.site_tz,
            "rack": self.rack,
            "unit": self.unit,
            "slot": self.slot,
            "kind": self.kind,
            "critical": self.critical,
            "state": self.state.value,
            "technician": self.technician,
            "planned_start": iso(self.planned_start),
            "target_at": iso(self.target_at),
            "hard_limit_at": iso(self.hard_limit_at),
            "window": None if self.window is None else
            {"id": self.window[0], "start": iso(self.window[1]), "end": iso(self.window[2])},
            "done_at": iso(self.done_at),
            "part_number": self.part_number or None,
            "bin": self.bin or None,
            "old_serial": self.old_serial,
            "new_serial": self.new_serial,
            "warning": self.warning,
            "note": self.note,
            "escalated": self.escalated,
        }  # fmt: skip


def deadline_order(item: WorkItem) -> tuple[bool, datetime, datetime, int]:
    """Nearest hard limit first (critical swaps), then planned start (windows), then the oldest swap."""
    return (item.hard_limit_at is None, item.hard_limit_at or FAR, item.planned_start or FAR, item.swap_id)


def work_queue(
    session: Session,
    *,
    now: datetime,
    settings: Settings,
    technician: str | None = None,
    site: str | None = None,
) -> list[WorkItem]:
    """Open swaps (every state that still has to happen), in `deadline_order`. With `technician`: that technician's
    swaps and the unassigned ones of their site."""
    q = (
        select(Swap, Fault, Server, Site)
        .join(Fault, col(Fault.id) == Swap.fault_id)
        .join(Server, col(Server.id) == Swap.server_id)
        .join(Site, col(Site.id) == Server.site_id)
        .where(col(Swap.state).in_(ACTIVE_SWAP_STATES))
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
    escalated = escalations(session, now=now, settings=settings, site=site)
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
                state=SwapState(swap.state),
                technician=tech_names.get(swap.technician_id),
                planned_start=swap.planned_start,
                target_at=swap.target_at,
                hard_limit_at=swap.hard_limit_at,
                warning=swap.warning,
                note=swap.note,
                window=_window(session, swap),
                done_at=swap.done_at,
                new_serial=swap.new_serial,
                escalated=escalated.get(swap.id),
            )
        )
    return sorted(items, key=deadline_order)


def _window(session: Session, swap: Swap) -> tuple[int, datetime, datetime] | None:
    w = session.get(MaintenanceWindow, swap.window_id) if swap.window_id else None
    return (w.id or 0, w.start_at, w.end_at) if w is not None else None


def _spare(session: Session, swap: Swap, fault: Fault, server: Server) -> tuple[str, str]:
    """(part number, bin) of the spare reserved for this swap or its fault; the bin only when it is at this site."""
    res = session.get(Reservation, swap.reservation_id) if swap.reservation_id else None
    if res is None or res.state != ReservationState.ACTIVE:
        res = session.exec(
            select(Reservation)
            .where(Reservation.fault_id == fault.id, Reservation.state == ReservationState.ACTIVE)
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
