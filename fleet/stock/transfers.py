"""Transfers between sites: ship and receive a unit, which stays reserved for its fault on the way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from fleet.errors import FleetError, NotFound
from fleet.stock.reserve import active_reservations
from fleet.stock.units import refresh_stock, stock_snapshot, take_reserved, try_reserve
from fleet.store import audit
from fleet.store.models import (
    OPEN_TRANSFER_STATES,
    Stock,
    Transfer,
    TransferState,
)

# --- transfers ---------------------------------------------------------------------------------------------------


def _open_transfer(session: Session, transfer_id: int) -> Transfer:
    transfer = session.exec(select(Transfer).where(Transfer.id == transfer_id).with_for_update()).first()
    if transfer is None:
        raise NotFound(f"no transfer {transfer_id}")
    if transfer.state not in OPEN_TRANSFER_STATES:
        raise FleetError(f"transfer {transfer_id} is already {transfer.state}")
    return transfer


def ship_transfer(session: Session, transfer_id: int, *, now: datetime, actor: str) -> Transfer:
    """proposed -> in_transit. The unit stays counted (and reserved) at the source until it is received."""
    transfer = _open_transfer(session, transfer_id)
    if transfer.state != TransferState.PROPOSED:
        raise FleetError(f"transfer {transfer_id} is already {transfer.state}")
    before = audit.snapshot(transfer)
    transfer.state = TransferState.IN_TRANSIT
    session.add(transfer)
    audit.record(session, at=now, actor=actor, action="transfer.ship", entity="transfer", entity_id=transfer.id,
                 before=before, after=audit.snapshot(transfer))  # fmt: skip
    return transfer


def receive_transfer(session: Session, transfer_id: int, *, now: datetime, actor: str) -> Transfer:
    """The part arrived: it leaves the source's shelf and lands on the destination's, still reserved for its fault."""
    transfer = _open_transfer(session, transfer_id)
    source = session.exec(
        select(Stock).where(Stock.site_id == transfer.from_site_id, Stock.part_model_id == transfer.part_model_id)
    ).first()
    if source is None or source.id is None:
        raise FleetError(f"transfer {transfer_id}: the source site has no stock of that part")
    res = None
    if transfer.fault_id is not None:
        res = next((r for r in active_reservations(session, transfer.fault_id) if r.stock_id == source.id), None)
    before_src = stock_snapshot(session, source.id)
    if res is not None:
        moved = take_reserved(session, source.id, transfer.quantity)
    else:
        moved = try_reserve(session, source.id) and take_reserved(session, source.id, transfer.quantity)
    if not moved:
        raise FleetError(f"transfer {transfer_id}: the source site has no unit left to send")
    dest = session.exec(
        select(Stock).where(Stock.site_id == transfer.to_site_id, Stock.part_model_id == transfer.part_model_id)
    ).first()
    if dest is None:
        dest = Stock(site_id=transfer.to_site_id, part_model_id=transfer.part_model_id, bin="RECEIVING")
        session.add(dest)
        session.flush()
    assert dest.id is not None
    before_dst = stock_snapshot(session, dest.id)
    # An increment in SQL, not read-modify-write in Python: two arrivals at once must both count.
    held = transfer.quantity if res is not None else 0
    session.exec(
        update(Stock)
        .where(col(Stock.id) == dest.id)
        .values(on_hand=col(Stock.on_hand) + transfer.quantity, reserved=col(Stock.reserved) + held)
        .execution_options(synchronize_session=False)
    )
    refresh_stock(session, dest.id)
    if res is not None:
        res.stock_id = dest.id
        session.add(res)
    before_t = audit.snapshot(transfer)
    transfer.state = TransferState.RECEIVED
    transfer.received_at = now
    session.add(transfer)
    session.flush()
    audit.record(session, at=now, actor=actor, action="stock.ship", entity="stock", entity_id=source.id,
                 before=before_src, after=stock_snapshot(session, source.id))  # fmt: skip
    audit.record(session, at=now, actor=actor, action="stock.receive", entity="stock", entity_id=dest.id,
                 before=before_dst, after=stock_snapshot(session, dest.id))  # fmt: skip
    audit.record(session, at=now, actor=actor, action="transfer.receive", entity="transfer", entity_id=transfer.id,
                 before=before_t, after=audit.snapshot(transfer))  # fmt: skip
    return transfer
