"""A spare for a fault: matching parts, reserving one at the server's site or proposing a transfer from another,
releasing and consuming reservations.

The unit counts move only through fleet.stock.units (one conditional UPDATE each, so the last unit is reserved once).
Callers run these functions inside one `write_session`, so a failure leaves nothing half-written. Every movement is
audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from fleet.clock import iso
from fleet.config import Settings
from fleet.errors import FleetError, NotFound
from fleet.health.model import Severity
from fleet.health.rules import NO_PART_KINDS
from fleet.sla.clocks import hard_limit
from fleet.sla.swap_time import swap_duration
from fleet.stock.preempt import take_from_noncritical
from fleet.stock.units import reserve_unit, stock_snapshot, take_reserved, unreserve
from fleet.store import audit
from fleet.store.models import (
    CLOSED_FAULT_STATES,
    OPEN_TRANSFER_STATES,
    Component,
    Fault,
    PartCompat,
    PartModel,
    PartSubstitute,
    Reservation,
    ReservationState,
    Server,
    Site,
    Stock,
    Transfer,
    TransferState,
)

NO_SPARE_IN_REACH = "critical, no spare in reach"


# --- matching ----------------------------------------------------------------------------------------------------


def installed_component(session: Session, server_id: int, slot: str) -> Component | None:
    return session.exec(
        select(Component).where(
            Component.server_id == server_id, Component.slot == slot, col(Component.removed_at).is_(None)
        )
    ).first()


def matching_parts(session: Session, fault: Fault) -> list[PartModel]:
    """Part models that can replace the failed part, best first.

    With a known component in the slot: its own part number first (it is installed there, so it fits), then its
    substitutes that are listed as compatible with the server model. Without one (inventory unknown): every part
    model of the fault's kind compatible with the server model.
    """
    server = session.get(Server, fault.server_id)
    if server is None:
        raise NotFound(f"server {fault.server_id} of fault {fault.id} does not exist")
    # Subqueries, not lists: the whole match is two round trips (the race for the last unit is won by round trips).
    fits = select(PartCompat.part_model_id).where(PartCompat.server_model_id == server.model_id)
    comp = installed_component(session, fault.server_id, fault.slot)
    if comp is not None:
        own_id = comp.part_model_id
        subs = select(PartSubstitute.substitute_id).where(
            PartSubstitute.part_model_id == own_id, col(PartSubstitute.substitute_id).in_(fits)
        )
        found = session.exec(
            select(PartModel).where(or_(col(PartModel.id) == own_id, col(PartModel.id).in_(subs)))
        ).all()
        return sorted(found, key=lambda p: (p.id != own_id, p.part_number))
    return list(
        session.exec(
            select(PartModel)
            .where(PartModel.kind == fault.kind, col(PartModel.id).in_(fits))
            .order_by(PartModel.part_number)
        ).all()
    )


def transit_hours(settings: Settings, from_code: str, to_code: str) -> float:
    """Hours a part takes from one site to another: "FROM-TO" in the settings, else "TO-FROM", else the default."""
    table = settings.transit_hours
    for key in (f"{from_code}-{to_code}", f"{to_code}-{from_code}"):
        if key in table:
            return float(table[key])
    return settings.transit_default_h


# --- reserve and release -----------------------------------------------------------------------------------------


class SpareStatus(StrEnum):
    RESERVED = "reserved"  # a unit at the server's site is reserved
    TRANSFER = "transfer"  # a unit at another site is reserved and a transfer proposed
    NONE = "none"  # no compatible unit anywhere
    NO_PART = "no-part"  # an inspection (power feed, cooling): a technician, no spare


@dataclass(frozen=True)
class SpareOutcome:
    """What `reserve_for_fault` arranged. `existing` when it had been arranged before this call. `in_reach` is False
    for a critical fault whose spare cannot be at its site before the hard limit (then `flag` says so)."""

    fault_id: int
    status: SpareStatus
    part_number: str | None = None
    site: str | None = None  # where the reserved unit sits now
    reservation_id: int | None = None
    transfer_id: int | None = None
    eta: datetime | None = None  # when the spare is at the server's site
    deadline: datetime | None = None  # critical faults: the hard limit
    in_reach: bool = True
    flag: str | None = None
    existing: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "fault_id": self.fault_id,
            "status": self.status,
            "part_number": self.part_number,
            "site": self.site,
            "reservation_id": self.reservation_id,
            "transfer_id": self.transfer_id,
            "eta": iso(self.eta),
            "deadline": iso(self.deadline),
            "in_reach": self.in_reach,
            "flag": self.flag,
            "existing": self.existing,
        }


def _locked_fault(session: Session, fault_id: int) -> Fault:
    # FOR UPDATE serialises two callers working on the same fault on PostgreSQL (SQLite's write lock already does).
    fault = session.exec(select(Fault).where(Fault.id == fault_id).with_for_update()).first()
    if fault is None:
        raise NotFound(f"no fault {fault_id}")
    return fault


def active_reservations(session: Session, fault_id: int) -> list[Reservation]:
    return list(
        session.exec(
            select(Reservation)
            .where(Reservation.fault_id == fault_id, Reservation.state == ReservationState.ACTIVE)
            .order_by(col(Reservation.id))
        ).all()
    )


def reserve_for_fault(
    session: Session, fault_id: int, *, now: datetime, settings: Settings, actor: str
) -> SpareOutcome:
    """Find and reserve a spare for an open fault: at the server's site if any is there, else at the site whose
    part arrives first, with a proposed transfer. Idempotent: a fault that has its spare gets the same answer.

    A critical fault whose spare cannot be at its site before the hard limit is flagged (outcome and audit).
    """
    fault = _locked_fault(session, fault_id)
    if fault.resolved_at is not None or fault.state in CLOSED_FAULT_STATES:
        raise FleetError(f"fault {fault_id} is {fault.state}: it needs no spare")
    server = session.get(Server, fault.server_id)
    if server is None:
        raise NotFound(f"server {fault.server_id} of fault {fault_id} does not exist")
    deadline = hard_limit(fault, settings)

    if fault.kind in NO_PART_KINDS:
        # An inspection (the power feed, the cooling): a technician, no spare, nothing to flag.
        return SpareOutcome(fault_id=fault_id, status=SpareStatus.NO_PART, deadline=deadline)
    existing = active_reservations(session, fault_id)
    if existing:
        return _describe_existing(session, fault, server, existing[0], deadline, settings)

    parts = matching_parts(session, fault)
    order = {p.id: i for i, p in enumerate(parts)}
    by_id = {p.id: p for p in parts}

    found = _reserve_at_site(session, fault, server, order, by_id, now=now, deadline=deadline, settings=settings,
                             actor=actor)  # fmt: skip
    if found is None:
        found = _reserve_elsewhere(session, fault, server, order, by_id, now=now, deadline=deadline,
                                   settings=settings, actor=actor)  # fmt: skip
    if found is not None:
        return found

    outcome = SpareOutcome(
        fault_id=fault_id,
        status=SpareStatus.NONE,
        deadline=deadline,
        in_reach=deadline is None,
        flag=NO_SPARE_IN_REACH if deadline is not None else None,
    )
    if deadline is not None:
        _flag(session, fault, outcome, now=now, actor=actor)
    return outcome


def _reserve_at_site(
    session: Session,
    fault: Fault,
    server: Server,
    order: dict[int | None, int],
    by_id: dict[int | None, PartModel],
    *,
    now: datetime,
    deadline: datetime | None,
    settings: Settings,
    actor: str,
) -> SpareOutcome | None:
    """A unit at the server's own site, taken from a non-critical fault when the fault is critical; None if none."""
    # At the server's site: no transit, so the first part that can be reserved is the answer.
    local = session.exec(
        select(Stock.id, Stock.part_model_id).where(
            Stock.site_id == server.site_id,
            col(Stock.part_model_id).in_(list(order)),
            col(Stock.on_hand) - col(Stock.reserved) >= 1,
        )
    ).all()
    for stock_id, part_id in sorted(local, key=lambda r: order[r[1]]):
        after = reserve_unit(session, stock_id)  # type: ignore[arg-type]
        if after is not None:
            res = _new_reservation(session, stock_id, after, fault, now=now, actor=actor)  # type: ignore[arg-type]
            return _reserved_here(session, fault, server, res, by_id[part_id].part_number, now, deadline)
    if fault.severity == Severity.CRITICAL:
        # The site's units are all held: a critical fault takes one from a non-critical fault at the same site,
        # which then falls back to a transfer or waits (audited both ways).
        taken = take_from_noncritical(session, fault, server, [p for p in order if p is not None], now=now, actor=actor)
        if taken is not None:
            res, part_id, gave_way = taken
            # The non-critical fault falls back like a new one: a transfer, or it waits for stock.
            reserve_for_fault(session, gave_way.id or 0, now=now, settings=settings, actor=actor)
            return _reserved_here(session, fault, server, res, by_id[part_id].part_number, now, deadline)

    return None


def _reserve_elsewhere(
    session: Session,
    fault: Fault,
    server: Server,
    order: dict[int | None, int],
    by_id: dict[int | None, PartModel],
    *,
    now: datetime,
    deadline: datetime | None,
    settings: Settings,
    actor: str,
) -> SpareOutcome | None:
    """A unit reserved at another site with a transfer proposed, flagged when it cannot be in time; None if none."""
    fault_id = fault.id or 0
    # Elsewhere: the unit that arrives first (then the site with most to spare, then the preferred part).
    to_site = session.get(Site, server.site_id)
    assert to_site is not None
    remote = session.exec(
        select(Stock, Site)
        .join(Site, col(Site.id) == col(Stock.site_id))
        .where(
            Stock.site_id != server.site_id,
            col(Stock.part_model_id).in_(list(order)),
            col(Stock.on_hand) - col(Stock.reserved) >= 1,
        )
    ).all()
    ranked = sorted(
        remote,
        key=lambda r: (
            transit_hours(settings, r[1].code, to_site.code),
            -(r[0].on_hand - r[0].reserved),
            order[r[0].part_model_id],
            r[1].code,
        ),
    )
    for stock, from_site in ranked:
        assert stock.id is not None
        stock_id, part_id = stock.id, stock.part_model_id
        after = reserve_unit(session, stock_id)
        if after is None:
            continue  # someone took it between the query and now: try the next best
        res = _new_reservation(session, stock_id, after, fault, now=now, actor=actor)
        eta = now + timedelta(hours=transit_hours(settings, from_site.code, to_site.code))
        transfer = Transfer(
            part_model_id=part_id,
            from_site_id=from_site.id,  # type: ignore[arg-type]
            to_site_id=to_site.id,  # type: ignore[arg-type]
            quantity=1,
            fault_id=fault_id,
            state=TransferState.PROPOSED,
            created_at=now,
            eta=eta,
        )
        session.add(transfer)
        session.flush()
        audit.record(session, at=now, actor=actor, action="transfer.propose", entity="transfer",
                     entity_id=transfer.id, after=audit.snapshot(transfer))  # fmt: skip
        in_reach = deadline is None or eta + swap_duration(fault.kind, settings) <= deadline
        outcome = SpareOutcome(
            fault_id=fault_id,
            status=SpareStatus.TRANSFER,
            part_number=by_id[part_id].part_number,
            site=from_site.code,
            reservation_id=res.id,
            transfer_id=transfer.id,
            eta=eta,
            deadline=deadline,
            in_reach=in_reach,
            flag=None if in_reach else NO_SPARE_IN_REACH,
        )
        if not in_reach:
            _flag(session, fault, outcome, now=now, actor=actor)
        return outcome

    return None


def _reserved_here(
    session: Session,
    fault: Fault,
    server: Server,
    res: Reservation,
    part_number: str,
    now: datetime,
    deadline: datetime | None,
) -> SpareOutcome:
    site = session.get(Site, server.site_id)
    return SpareOutcome(
        fault_id=fault.id or 0,
        status=SpareStatus.RESERVED,
        part_number=part_number,
        site=site.code if site else None,
        reservation_id=res.id,
        eta=now,
        deadline=deadline,
    )


def _new_reservation(
    session: Session, stock_id: int, after: dict[str, Any], fault: Fault, *, now: datetime, actor: str
) -> Reservation:
    """Record the unit `reserve_unit` took; `after` is the stock row as that UPDATE left it."""
    res = Reservation(
        stock_id=stock_id, fault_id=fault.id, quantity=1, state=ReservationState.ACTIVE, created_at=now, actor=actor
    )
    session.add(res)
    session.flush()
    before = dict(after, reserved=after["reserved"] - 1)
    audit.record(session, at=now, actor=actor, action="stock.reserve", entity="stock", entity_id=stock_id,
                 before=before, after=dict(after, reservation_id=res.id, fault_id=fault.id))  # fmt: skip
    return res


def _flag(session: Session, fault: Fault, outcome: SpareOutcome, *, now: datetime, actor: str) -> None:
    audit.record(session, at=now, actor=actor, action="fault.no_spare_in_reach", entity="fault", entity_id=fault.id,
                 after={"flag": NO_SPARE_IN_REACH, **outcome.to_dict()})  # fmt: skip


def _describe_existing(
    session: Session, fault: Fault, server: Server, res: Reservation, deadline: datetime | None, settings: Settings
) -> SpareOutcome:
    stock = session.get(Stock, res.stock_id)
    assert stock is not None
    part = session.get(PartModel, stock.part_model_id)
    site = session.get(Site, stock.site_id)
    common: dict[str, Any] = {
        "fault_id": fault.id,
        "part_number": part.part_number if part else None,
        "site": site.code if site else None,
        "reservation_id": res.id,
        "deadline": deadline,
        "existing": True,
    }
    if stock.site_id == server.site_id:
        return SpareOutcome(status=SpareStatus.RESERVED, eta=res.created_at, **common)
    transfer = session.exec(
        select(Transfer).where(Transfer.fault_id == fault.id, col(Transfer.state).in_(OPEN_TRANSFER_STATES))
    ).first()
    eta = transfer.eta if transfer else None
    in_reach = deadline is None or (eta is not None and eta + swap_duration(fault.kind, settings) <= deadline)
    return SpareOutcome(
        status=SpareStatus.TRANSFER,
        transfer_id=transfer.id if transfer else None,
        eta=eta,
        in_reach=in_reach,
        flag=None if in_reach else NO_SPARE_IN_REACH,
        **common,
    )


def release_for_fault(session: Session, fault_id: int, *, now: datetime, actor: str) -> int:
    """Give back the spare(s) a fault holds (it was cancelled or resolved without a swap) and cancel its open
    transfers. Returns how many reservations were released (0 when it held none: safe to call twice)."""
    _locked_fault(session, fault_id)
    released = 0
    for res in active_reservations(session, fault_id):
        before = stock_snapshot(session, res.stock_id)
        if not unreserve(session, res.stock_id, res.quantity):
            raise FleetError(f"stock {res.stock_id} holds fewer reserved units than reservation {res.id}")
        res.state = ReservationState.RELEASED
        res.closed_at = now
        session.add(res)
        audit.record(session, at=now, actor=actor, action="stock.release", entity="stock", entity_id=res.stock_id,
                     before=before, after=dict(stock_snapshot(session, res.stock_id), reservation_id=res.id,
                                               fault_id=fault_id))  # fmt: skip
        released += 1
    for transfer in session.exec(
        select(Transfer).where(Transfer.fault_id == fault_id, col(Transfer.state).in_(OPEN_TRANSFER_STATES))
    ).all():
        before_t = audit.snapshot(transfer)
        transfer.state = TransferState.CANCELLED
        session.add(transfer)
        audit.record(session, at=now, actor=actor, action="transfer.cancel", entity="transfer",
                     entity_id=transfer.id, before=before_t, after=audit.snapshot(transfer))  # fmt: skip
    session.flush()
    return released


def consume_for_fault(session: Session, fault_id: int, *, now: datetime, actor: str) -> int:
    """The fault was fixed by hand with a part swap: its spare at the server's site left the shelf (consumed); a spare
    still at another site was not used, so it is released and its transfer cancelled. Returns how many were used."""
    fault = _locked_fault(session, fault_id)
    server = session.get(Server, fault.server_id)
    used = 0
    for res in active_reservations(session, fault_id):
        stock = session.get(Stock, res.stock_id)
        if server is None or stock is None or stock.site_id != server.site_id:
            continue
        if not consume_reservation(session, res, now=now, actor=actor, context={"fault_id": fault_id}):
            raise FleetError(f"stock {res.stock_id} holds fewer reserved units than reservation {res.id}")
        used += 1
    release_for_fault(session, fault_id, now=now, actor=actor)
    return used


def consume_reservation(
    session: Session, res: Reservation, *, now: datetime, actor: str, context: dict[str, Any]
) -> bool:
    """The reserved unit leaves the shelf (installed): the reservation is consumed and audited with `context`.
    False, with nothing changed, when the stock row holds no such reserved unit."""
    before = stock_snapshot(session, res.stock_id)
    if not take_reserved(session, res.stock_id, res.quantity):
        return False
    res.state = ReservationState.CONSUMED
    res.closed_at = now
    session.add(res)
    audit.record(session, at=now, actor=actor, action="stock.consume", entity="stock", entity_id=res.stock_id,
                 before=before, after=dict(stock_snapshot(session, res.stock_id), reservation_id=res.id,
                                           **context))  # fmt: skip
    return True
