"""Orders to the supplier: `fleet stock order SITE PART QTY` records one, `fleet stock receive ORDER_ID` puts its
units on the site's shelf. Until then the quantity is *on order*: it counts in the inventory position that the
reorder level is compared with, so the same order is not recommended again on every run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from fleet.clock import iso
from fleet.errors import FleetError, InputError, NotFound
from fleet.stock.units import stock_snapshot
from fleet.store import audit
from fleet.store.models import PartModel, Site, Stock, SupplierOrder


def on_order(session: Session) -> dict[tuple[int, int], int]:
    """(site id, part model id) -> units ordered and not yet received."""
    rows = session.exec(
        select(SupplierOrder.site_id, SupplierOrder.part_model_id, func.sum(SupplierOrder.quantity))
        .where(SupplierOrder.state == "ordered")
        .group_by(col(SupplierOrder.site_id), col(SupplierOrder.part_model_id))
    ).all()
    return {(site_id, part_id): int(qty) for site_id, part_id, qty in rows}


def place_order(
    session: Session, site: str, part_number: str, quantity: int, *, now: datetime, actor: str
) -> SupplierOrder:
    if quantity < 1:
        raise InputError(f"the quantity must be at least 1, got {quantity}")
    where = session.exec(select(Site).where(Site.code == site)).first()
    if where is None:
        raise NotFound(f"no site {site!r}")
    part = session.exec(select(PartModel).where(PartModel.part_number == part_number)).first()
    if part is None:
        raise NotFound(f"no part {part_number!r}")
    order = SupplierOrder(site_id=where.id or 0, part_model_id=part.id or 0, quantity=quantity, ordered_at=now,
                          actor=actor)  # fmt: skip
    session.add(order)
    session.flush()
    audit.record(session, at=now, actor=actor, action="order.place", entity="supplier_order", entity_id=order.id,
                 after=audit.snapshot(order))  # fmt: skip
    return order


def receive_order(session: Session, order_id: int, *, now: datetime, actor: str) -> SupplierOrder:
    """The order's units land on the site's shelf (a RECEIVING bin when the site had no row for the part)."""
    order = session.exec(select(SupplierOrder).where(SupplierOrder.id == order_id).with_for_update()).first()
    if order is None:
        raise NotFound(f"no supplier order {order_id}")
    if order.state != "ordered":
        raise FleetError(f"supplier order {order_id} is {order.state}")
    stock = session.exec(
        select(Stock).where(Stock.site_id == order.site_id, Stock.part_model_id == order.part_model_id)
    ).first()
    if stock is None:
        stock = Stock(site_id=order.site_id, part_model_id=order.part_model_id, bin="RECEIVING")
        session.add(stock)
        session.flush()
    assert stock.id is not None
    before = stock_snapshot(session, stock.id)
    session.exec(
        update(Stock)
        .where(col(Stock.id) == stock.id)
        .values(on_hand=col(Stock.on_hand) + order.quantity)
        .execution_options(synchronize_session=False)
    )
    session.refresh(stock)
    before_order = audit.snapshot(order)
    order.state, order.received_at = "received", now
    session.add(order)
    session.flush()
    audit.record(session, at=now, actor=actor, action="stock.receive", entity="stock", entity_id=stock.id,
                 before=before, after=dict(stock_snapshot(session, stock.id), supplier_order_id=order.id))  # fmt: skip
    audit.record(session, at=now, actor=actor, action="order.receive", entity="supplier_order", entity_id=order.id,
                 before=before_order, after=audit.snapshot(order))  # fmt: skip
    return order


def order_dict(session: Session, order: SupplierOrder) -> dict[str, Any]:
    site = session.get(Site, order.site_id)
    part = session.get(PartModel, order.part_model_id)
    return {
        "order_id": order.id,
        "site": site.code if site else None,
        "part_number": part.part_number if part else None,
        "quantity": order.quantity,
        "state": order.state,
        "ordered_at": iso(order.ordered_at),
        "received_at": iso(order.received_at),
    }
