"""Spare stock for the console: levels per site (low ones flagged), active reservations, transfers, RMAs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from fleet.store.models import Fault, PartModel, Reservation, Rma, Server, Site, Stock, Transfer


@dataclass(frozen=True, slots=True)
class StockLine:
    site: str
    part_number: str
    kind: str
    description: str
    bin: str
    on_hand: int
    reserved: int
    reorder_level: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def low(self) -> bool:
        return self.available <= self.reorder_level


@dataclass(frozen=True, slots=True)
class ReservationLine:
    id: int
    site: str
    part_number: str
    bin: str
    fault_id: int | None
    hostname: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TransferLine:
    id: int
    part_number: str
    from_site: str
    to_site: str
    quantity: int
    state: str
    eta: datetime | None


@dataclass(frozen=True, slots=True)
class RmaLine:
    id: int
    part_number: str
    serial: str | None
    hostname: str
    state: str
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class StockBoard:
    levels: list[StockLine]
    reservations: list[ReservationLine]
    transfers: list[TransferLine]
    rmas: list[RmaLine]


def load_stock_board(session: Session, *, site: str | None = None) -> StockBoard:
    sites = {s.id: s.code for s in session.exec(select(Site)).all()}
    parts = {p.id: p for p in session.exec(select(PartModel)).all()}
    hosts = {i: h for i, h in session.exec(select(Server.id, Server.hostname)).all()}
    stocks = {s.id: s for s in session.exec(select(Stock)).all()}

    levels = [
        StockLine(sites[s.site_id], parts[s.part_model_id].part_number, parts[s.part_model_id].kind,
                  parts[s.part_model_id].description, s.bin, s.on_hand, s.reserved, s.reorder_level)
        for s in stocks.values()
        if site is None or sites[s.site_id] == site
    ]  # fmt: skip
    # Low levels first: they are the alerts; then by site and part.
    levels.sort(key=lambda x: (not x.low, x.site, x.part_number))

    fault_host = {
        f.id: hosts.get(f.server_id, "")
        for f in session.exec(select(Fault).where(col(Fault.resolved_at).is_(None))).all()
    }
    reservations = []
    for r in session.exec(select(Reservation).where(Reservation.state == "active").order_by(col(Reservation.id))):
        stock = stocks[r.stock_id]
        if site is not None and sites[stock.site_id] != site:
            continue
        part = parts[stock.part_model_id].part_number
        host = fault_host.get(r.fault_id, "")
        reservations.append(
            ReservationLine(r.id or 0, sites[stock.site_id], part, stock.bin, r.fault_id, host, r.created_at)
        )
    transfers = [
        TransferLine(t.id or 0, parts[t.part_model_id].part_number, sites[t.from_site_id], sites[t.to_site_id],
                     t.quantity, t.state, t.eta)
        for t in session.exec(
            select(Transfer).where(col(Transfer.state).in_(("proposed", "in_transit"))).order_by(col(Transfer.id))
        ).all()
        if site is None or site in (sites[t.from_site_id], sites[t.to_site_id])
    ]  # fmt: skip
    rmas = [
        RmaLine(m.id or 0, parts[m.part_model_id].part_number, m.serial, hosts.get(m.server_id or 0, ""), m.state,
                m.opened_at)
        for m in session.exec(select(Rma).where(Rma.state != "credited").order_by(col(Rma.id))).all()
    ]  # fmt: skip
    return StockBoard(levels, reservations, transfers, rmas)
