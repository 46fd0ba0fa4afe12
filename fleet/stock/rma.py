"""RMAs: a defective part going back to its vendor, open -> shipped -> credited. Every step is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from fleet.clock import iso
from fleet.errors import FleetError, InputError, NotFound
from fleet.store import audit
from fleet.store.models import PartModel, Rma, Server

# Each state and the one it may move to; the timestamp column that records the move.
NEXT_STATE = {"open": "shipped", "shipped": "credited"}
STAMP = {"shipped": "shipped_at", "credited": "credited_at"}


def open_rma(
    session: Session,
    *,
    part_model_id: int,
    serial: str | None,
    server_id: int | None,
    fault_id: int | None,
    now: datetime,
    actor: str,
) -> Rma:
    rma = Rma(part_model_id=part_model_id, serial=serial, server_id=server_id, fault_id=fault_id, opened_at=now)
    session.add(rma)
    session.flush()
    audit.record(session, at=now, actor=actor, action="rma.open", entity="rma", entity_id=rma.id,
                 after=audit.snapshot(rma))  # fmt: skip
    return rma


def advance_rma(session: Session, rma_id: int, *, to: str, now: datetime, actor: str) -> Rma:
    """Move an RMA one step: open -> shipped, shipped -> credited. Anything else is a one-line error."""
    if to not in STAMP:
        raise InputError(f"an RMA moves to shipped or credited, not {to!r}")
    rma = session.exec(select(Rma).where(Rma.id == rma_id).with_for_update()).first()
    if rma is None:
        raise NotFound(f"no RMA {rma_id}")
    if NEXT_STATE.get(rma.state) != to:
        raise FleetError(f"RMA {rma_id} is {rma.state}: it cannot become {to}")
    before = audit.snapshot(rma)
    rma.state = to
    setattr(rma, STAMP[to], now)
    session.add(rma)
    session.flush()
    audit.record(session, at=now, actor=actor, action=f"rma.{'ship' if to == 'shipped' else 'credit'}", entity="rma",
                 entity_id=rma.id, before=before, after=audit.snapshot(rma))  # fmt: skip
    return rma


def list_rmas(session: Session, *, include_closed: bool = False) -> list[Rma]:
    q = select(Rma)
    if not include_closed:
        q = q.where(Rma.state != "credited")
    return list(session.exec(q.order_by(col(Rma.opened_at), col(Rma.id))).all())


def rma_dict(session: Session, rma: Rma) -> dict[str, Any]:
    part = session.get(PartModel, rma.part_model_id)
    server = session.get(Server, rma.server_id) if rma.server_id else None

    return {
        "id": rma.id,
        "state": rma.state,
        "part_number": part.part_number if part else None,
        "serial": rma.serial,
        "server": server.hostname if server else None,
        "fault_id": rma.fault_id,
        "opened_at": iso(rma.opened_at),
        "shipped_at": iso(rma.shipped_at),
        "credited_at": iso(rma.credited_at),
    }
