"""The atomic counter moves on one stock row: reserve a unit, give it back, take a reserved unit off the shelf.

The last unit can be reserved once only, on SQLite and on PostgreSQL: each move is a single conditional UPDATE
(`reserved = reserved + 1 WHERE on_hand - reserved >= 1`) whose row count says whether this caller got the unit, and
the CHECK constraints on `stock` (on_hand >= 0, 0 <= reserved <= on_hand) are the backstop.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from fleet.store import audit
from fleet.store.models import Stock


def try_reserve(session: Session, stock_id: int) -> bool:
    """Take one available unit of a stock row, or report that there was none. Atomic on both engines."""
    return reserve_unit(session, stock_id) is not None


def reserve_unit(session: Session, stock_id: int) -> dict[str, Any] | None:
    """Like `try_reserve`, returning the row as the UPDATE left it (for the audit), or None when there was no unit."""
    stmt = (
        update(Stock)
        .where(col(Stock.id) == stock_id, col(Stock.on_hand) - col(Stock.reserved) >= 1)
        .values(reserved=col(Stock.reserved) + 1)
        .returning(
            col(Stock.site_id), col(Stock.part_model_id), col(Stock.bin), col(Stock.on_hand), col(Stock.reserved)
        )
        .execution_options(synchronize_session=False)
    )
    row = session.exec(stmt).first()
    refresh_stock(session, stock_id)
    return dict(row._mapping) if row is not None else None


def unreserve(session: Session, stock_id: int, quantity: int = 1) -> bool:
    stmt = (
        update(Stock)
        .where(col(Stock.id) == stock_id, col(Stock.reserved) >= quantity)
        .values(reserved=col(Stock.reserved) - quantity)
        .execution_options(synchronize_session=False)
    )
    done = session.exec(stmt).rowcount == 1
    refresh_stock(session, stock_id)
    return done


def take_reserved(session: Session, stock_id: int, quantity: int = 1) -> bool:
    """A reserved unit leaves the shelf (installed or shipped): on hand and reserved both go down."""
    stmt = (
        update(Stock)
        .where(col(Stock.id) == stock_id, col(Stock.reserved) >= quantity, col(Stock.on_hand) >= quantity)
        .values(on_hand=col(Stock.on_hand) - quantity, reserved=col(Stock.reserved) - quantity)
        .execution_options(synchronize_session=False)
    )
    done = session.exec(stmt).rowcount == 1
    refresh_stock(session, stock_id)
    return done


def refresh_stock(session: Session, stock_id: int) -> None:
    # The UPDATEs above bypass the identity map: a Stock object already loaded must reload the database's numbers
    # on its next use (expired, not re-read now: the race is won or lost by round trips).
    obj = session.identity_map.get(session.identity_key(Stock, stock_id))
    if obj is not None:
        session.expire(obj)


def stock_snapshot(session: Session, stock_id: int) -> dict[str, Any]:
    obj = session.get(Stock, stock_id)
    return audit.snapshot(obj, ("site_id", "part_model_id", "bin", "on_hand", "reserved")) if obj else {}
