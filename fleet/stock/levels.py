"""Reorder levels per site and part: the fleet's failure history turned into lead-time demand and a level to keep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from fleet.config import Settings
from fleet.stock.low import is_low
from fleet.stock.orders import on_order
from fleet.stock.reorder import (
    KindHistory,
    dispersion,
    failure_rate,
    lead_time_demand,
    order_quantity,
    reorder_level,
    service_target,
)
from fleet.store.models import (
    Component,
    Fault,
    PartCompat,
    PartModel,
    Resolution,
    Server,
    ServerModel,
    Site,
    Stock,
)

YEAR_SECONDS = 365.25 * 24 * 3600

# --- reorder levels ----------------------------------------------------------------------------------------------


def kind_history(session: Session, *, now: datetime) -> dict[str, KindHistory]:
    """Per part kind: failures (faults resolved by a swap), component-years of exposure, failures per month.

    Failures are only known since the fleet's fault history began (its first recorded fault): exposure counts the
    same window, each component from max(install, history start) to its removal or now. Counting years from 2019
    install dates against failures recorded since last spring would make every part look ten times better than it
    is. Months run from the history's start to the last complete calendar month before now.
    """
    began = session.exec(select(func.min(Fault.detected_at))).one()
    if began is None:
        return {}
    exposure: dict[str, float] = {}
    rows = session.exec(
        select(PartModel.kind, Component.installed_at, Component.removed_at)
        .join(PartModel, col(PartModel.id) == col(Component.part_model_id))
        .where(col(Component.installed_at).is_not(None))
    ).all()
    for kind, installed, removed in rows:
        assert installed is not None
        start, end = max(installed, began), min(removed or now, now)
        if end > start:
            exposure[kind] = exposure.get(kind, 0.0) + (end - start).total_seconds() / YEAR_SECONDS
    failures: dict[str, list[datetime]] = {}
    for kind, at in session.exec(
        select(Fault.kind, Fault.notified_at).where(Fault.resolution == Resolution.SWAPPED)
    ).all():
        failures.setdefault(kind, []).append(at)
    months = _month_keys(began, now)
    index = {m: i for i, m in enumerate(months)}
    result: dict[str, KindHistory] = {}
    for kind in set(exposure) | set(failures):
        counts = [0] * len(months)
        for at in failures.get(kind, []):
            i = index.get((at.year, at.month))
            if i is not None:
                counts[i] += 1
        result[kind] = KindHistory(
            failures=len(failures.get(kind, [])),
            component_years=exposure.get(kind, 0.0),
            monthly_counts=tuple(counts),
        )
    return result


def _month_keys(start: datetime, now: datetime) -> list[tuple[int, int]]:
    """Calendar months from start's month to the last complete month before now."""
    keys = []
    y, m = start.year, start.month
    while (y, m) < (now.year, now.month):
        keys.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return keys


@dataclass(frozen=True)
class ReorderLine:
    site: str
    part_number: str
    kind: str
    installed: int
    afr: float
    afr_source: str
    lead_time_days: float
    demand: float  # expected failures during the lead time
    model: str  # poisson | negative-binomial
    dispersion: float | None
    target: float
    level: int  # max(computed level, the stock row's manual reorder_level)
    on_hand: int
    reserved: int
    available: int
    on_order: int  # ordered from the supplier, not yet received
    position: int  # available + on order: what the level is compared with
    order: int

    @property
    def low(self) -> bool:
        # At or under the level, counting what is on order (the inventory position): the reservation that brought
        # the position down to the level triggers the order, and the `level` units left cover the lead time.
        return is_low(self.available, self.level, on_order=self.on_order)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["low"] = self.low
        return d


def reorder_lines(session: Session, *, now: datetime, settings: Settings, site: str | None = None) -> list[ReorderLine]:
    """The reorder level of every (site, part model) that has stock or an installed base, and what to order."""
    sites = {s.id: s for s in session.exec(select(Site)).all()}
    parts = {p.id: p for p in session.exec(select(PartModel)).all()}
    stocks = {(s.site_id, s.part_model_id): s for s in session.exec(select(Stock)).all()}
    # Installed base: parts in service, in servers whose model lists the part as compatible.
    base: dict[tuple[int, int], int] = {}
    for site_id, part_id in session.exec(
        select(Server.site_id, Component.part_model_id)
        .join(Server, col(Server.id) == col(Component.server_id))
        .join(
            PartCompat,
            (col(PartCompat.part_model_id) == col(Component.part_model_id))
            & (col(PartCompat.server_model_id) == col(Server.model_id)),
        )
        .where(col(Component.removed_at).is_(None))
    ).all():
        base[(site_id, part_id)] = base.get((site_id, part_id), 0) + 1
    # The server models each part serves at each site decide whether its failure can take a server down.
    served: dict[tuple[int, int], set[tuple[int, str]]] = {}
    for site_id, part_id, psu_count, raid_level in session.exec(
        select(Server.site_id, PartCompat.part_model_id, ServerModel.psu_count, ServerModel.raid_level)
        .join(ServerModel, col(ServerModel.id) == col(Server.model_id))
        .join(PartCompat, col(PartCompat.server_model_id) == col(ServerModel.id))
        .where(Server.status != "decommissioned")
    ).all():
        served.setdefault((site_id, part_id), set()).add((psu_count, raid_level))
    history = kind_history(session, now=now)
    ordered = on_order(session)

    lines = []
    for site_id, part_id in sorted(set(stocks) | set(base)):
        where, part = sites[site_id], parts[part_id]
        if site and where.code != site:
            continue
        hist = history.get(part.kind)
        afr, source = failure_rate(part.kind, part.afr, hist, settings)
        disp = dispersion(hist.monthly_counts) if hist else None
        installed = base.get((site_id, part_id), 0)
        demand = lead_time_demand(installed, afr, part.lead_time_days)
        target = service_target(part.kind, sorted(served.get((site_id, part_id), set())), settings)
        stock = stocks.get((site_id, part_id))
        manual = stock.reorder_level if stock else 0
        level = max(reorder_level(demand, target, disp), manual)
        on_hand = stock.on_hand if stock else 0
        reserved = stock.reserved if stock else 0
        available = on_hand - reserved
        coming = ordered.get((site_id, part_id), 0)
        lines.append(
            ReorderLine(
                site=where.code,
                part_number=part.part_number,
                kind=part.kind,
                installed=installed,
                afr=afr,
                afr_source=source,
                lead_time_days=part.lead_time_days,
                demand=demand,
                model="negative-binomial" if disp else "poisson",
                dispersion=disp,
                target=target,
                level=level,
                on_hand=on_hand,
                reserved=reserved,
                available=available,
                on_order=coming,
                position=available + coming,
                order=order_quantity(level, available + coming),
            )
        )
    return sorted(lines, key=lambda line: (line.site, line.part_number))
