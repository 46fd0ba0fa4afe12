"""Spare stock: what is on the shelf, what is reserved (issue 6 fills in matching, reservation, transfers, RMA)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from fleet.models import PartModel, Site, Stock


def list_stock(session: Session, *, site: str | None = None) -> list[tuple[Stock, Site, PartModel]]:
    q = (
        select(Stock, Site, PartModel)
        .join(Site, Site.id == Stock.site_id)
        .join(PartModel, PartModel.id == Stock.part_model_id)
    )
    if site:
        q = q.where(Site.code == site)
    return list(session.exec(q.order_by(Site.code, PartModel.part_number)).all())  # type: ignore[arg-type]


def stock_dict(stock: Stock, site: Site, part: PartModel) -> dict[str, Any]:
    available = stock.on_hand - stock.reserved
    return {
        "site": site.code,
        "part_number": part.part_number,
        "kind": part.kind,
        "description": part.description,
        "bin": stock.bin,
        "on_hand": stock.on_hand,
        "reserved": stock.reserved,
        "available": available,
        "reorder_level": stock.reorder_level,
        "low": available <= stock.reorder_level,
    }
