"""Spare stock as people and scripts read it: `fleet stock [--low]`, the dashboard's alerts and the console's stock view
(lines with their level, low ones first; active reservations, transfers, RMAs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from fleet.config import Settings
from fleet.stock.levels import ReorderLine, reorder_lines
from fleet.store.models import (
    OPEN_TRANSFER_STATES,
    Fault,
    PartModel,
    Reservation,
    ReservationState,
    Rma,
    Server,
    Site,
    Stock,
    Transfer,
    TransferState,
)


@dataclass(frozen=True, slots=True)
class StockLine:
    """A site's line of one part: what is on the shelf, the level it is judged against, and what to order.

    Every (site, part) that has a stock row or parts installed at the site is a line: a part in service with no shelf
    at all is the first thing to order. `reorder_level` is the level in force: the one computed from the failure
    history (fleet.stock.levels), raised to the stock row's stored level (`min_level`) when that is higher."""

    site: str
    part_number: str
    kind: str
    description: str
    bin: str  # "" when the site has no stock row for the part
    on_hand: int
    reserved: int
    available: int
    on_order: int  # ordered from the supplier, not yet received: counts towards the level (fleet.stock.low.is_low)
    min_level: int
    reorder_level: int
    low: bool  # fleet.stock.low.is_low
    order: int
    reorder: ReorderLine  # how the level was computed (`fleet stock --low --json` shows it)

    def to_json(self) -> dict[str, Any]:
        """A row of `fleet stock --json` (docs/CLI.md)."""
        return {
            "site": self.site,
            "part_number": self.part_number,
            "kind": self.kind,
            "description": self.description,
            "bin": self.bin,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "available": self.available,
            "on_order": self.on_order,
            "min_level": self.min_level,
            "reorder_level": self.reorder_level,
            "low": self.low,
            "order": self.order,
        }

    def to_json_with_math(self) -> dict[str, Any]:
        """A row of `fleet stock --low --json`: the same, and how the level was computed (docs/STOCK.md)."""
        r = self.reorder
        return {**self.to_json(), "installed": r.installed, "afr": r.afr, "afr_source": r.afr_source,
                "lead_time_days": r.lead_time_days, "demand": r.demand, "model": r.model,
                "dispersion": r.dispersion, "target": r.target, "level": r.level,
                "position": r.position}  # fmt: skip


def stock_order(line: StockLine) -> tuple[bool, str, str]:
    """Low lines first (they are the alerts), then by site and part number."""
    return (not line.low, line.site, line.part_number)


def stock_lines(
    session: Session, *, now: datetime, settings: Settings, site: str | None = None, low_only: bool = False
) -> list[StockLine]:
    """Every stock line (or only the low ones), in `stock_order`: `fleet stock`, `--low`, the dashboard, the console."""
    rows = {
        (st.code, p.part_number): (stock, p)
        for stock, st, p in session.exec(
            select(Stock, Site, PartModel)
            .join(Site, col(Site.id) == Stock.site_id)
            .join(PartModel, col(PartModel.id) == Stock.part_model_id)
        ).all()
    }
    descriptions = {p.part_number: p.description for p in session.exec(select(PartModel)).all()}
    out = []
    for r in reorder_lines(session, now=now, settings=settings, site=site):
        stock, _ = rows.get((r.site, r.part_number), (None, None))
        line = StockLine(site=r.site, part_number=r.part_number, kind=r.kind,
                         description=descriptions.get(r.part_number, ""), bin=stock.bin if stock else "",
                         on_hand=r.on_hand, reserved=r.reserved, available=r.available, on_order=r.on_order,
                         min_level=stock.reorder_level if stock else 0, reorder_level=r.level, low=r.low,
                         order=r.order, reorder=r)  # fmt: skip
        if line.low or not low_only:
            out.append(line)
    out.sort(key=stock_order)
    return out


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
    to_tz: str  # the destination's zone: the arrival is read there
    quantity: int
    state: TransferState
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


def load_stock_board(session: Session, *, now: datetime, settings: Settings, site: str | None = None) -> StockBoard:
    site_rows = {s.id: s for s in session.exec(select(Site)).all()}
    sites = {i: s.code for i, s in site_rows.items()}
    parts = {p.id: p for p in session.exec(select(PartModel)).all()}
    hosts = {i: h for i, h in session.exec(select(Server.id, Server.hostname)).all()}
    stocks = {s.id: s for s in session.exec(select(Stock)).all()}

    levels = stock_lines(session, now=now, settings=settings, site=site)

    fault_host = {
        f.id: hosts.get(f.server_id, "")
        for f in session.exec(select(Fault).where(col(Fault.resolved_at).is_(None))).all()
    }
    reservations = []
    for r in session.exec(
        select(Reservation).where(Reservation.state == ReservationState.ACTIVE).order_by(col(Reservation.id))
    ):
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
                     site_rows[t.to_site_id].timezone, t.quantity, t.state, t.eta)
        for t in session.exec(
            select(Transfer).where(col(Transfer.state).in_(OPEN_TRANSFER_STATES)).order_by(col(Transfer.id))
        ).all()
        if site is None or site in (sites[t.from_site_id], sites[t.to_site_id])
    ]  # fmt: skip
    rmas = [
        RmaLine(m.id or 0, parts[m.part_model_id].part_number, m.serial, hosts.get(m.server_id or 0, ""), m.state,
                m.opened_at)
        for m in session.exec(select(Rma).where(Rma.state != "credited").order_by(col(Rma.id))).all()
    ]  # fmt: skip
    return StockBoard(levels, reservations, transfers, rmas)
