"""The schedule as the console draws it: each technician's planned swaps in time order, and customer windows
(proposed and agreed) for the non-critical ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from fleet.store.models import (
    ACTIVE_SWAP_STATES,
    Customer,
    Fault,
    MaintenanceWindow,
    Server,
    Site,
    Swap,
    Technician,
    WindowState,
)


@dataclass(frozen=True, slots=True)
class Slot:
    technician: str  # "" for a swap nobody is assigned to yet
    site: str
    site_tz: str
    swap_id: int
    hostname: str
    slot: str
    critical: bool
    state: str
    start: datetime | None
    hard_limit_at: datetime | None


@dataclass(frozen=True, slots=True)
class WindowLine:
    id: int
    hostname: str
    customer: str
    customer_tz: str
    start: datetime
    end: datetime
    state: str


@dataclass(frozen=True, slots=True)
class Timeline:
    slots: list[Slot]  # by technician, then start
    windows: list[WindowLine]  # by start


def load_timeline(session: Session, *, now: datetime) -> Timeline:
    techs = {t.id: t.name for t in session.exec(select(Technician)).all()}
    slots = []
    for swap, fault, server, site in session.exec(
        select(Swap, Fault, Server, Site)
        .join(Fault, col(Fault.id) == Swap.fault_id)
        .join(Server, col(Server.id) == Swap.server_id)
        .join(Site, col(Site.id) == Server.site_id)
        .where(col(Swap.state).in_(ACTIVE_SWAP_STATES))
    ).all():
        slots.append(Slot(techs.get(swap.technician_id, ""), site.code, site.timezone, swap.id or 0, server.hostname,
                          fault.slot, swap.critical, swap.state, swap.planned_start, swap.hard_limit_at))  # fmt: skip
    slots.sort(key=lambda s: (s.technician == "", s.technician, s.start or now, s.swap_id))
    windows = [
        WindowLine(w.id or 0, server.hostname, cust.name if cust else "", cust.timezone if cust else "UTC",
                   w.start_at, w.end_at, w.state)
        for w, server, cust in session.exec(
            select(MaintenanceWindow, Server, Customer)
            .join(Server, col(Server.id) == MaintenanceWindow.server_id)
            .join(Customer, col(Customer.id) == MaintenanceWindow.customer_id, isouter=True)
            .where(col(MaintenanceWindow.state).in_((WindowState.PROPOSED, WindowState.AGREED)))
            .where(MaintenanceWindow.end_at > now)
            .order_by(col(MaintenanceWindow.start_at))
        ).all()
    ]  # fmt: skip
    return Timeline(slots, windows)
