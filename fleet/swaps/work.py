"""The technician's side of a swap: start it, finish it with the new part's serial.

Finishing is one transaction: the spare leaves the shelf (on hand and reserved down, reservation consumed), the old
component is removed and the new serial installed in the same slot, the old part goes to an RMA, the swap is done and
its fault resolved. Any check that fails raises before the caller's `write_session` commits, so nothing is written.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from fleet.errors import FleetError, InputError, NotFound
from fleet.health.rules import SECURITY
from fleet.stock.reserve import (
    active_reservations,
    consume_reservation,
    installed_component,
    matching_parts,
)
from fleet.stock.rma import open_rma
from fleet.stock.units import stock_snapshot, try_reserve
from fleet.store import audit
from fleet.store.models import (
    ACTIVE_SWAP_STATES,
    REPLANNABLE_SWAP_STATES,
    Component,
    Fault,
    FaultState,
    Reservation,
    ReservationState,
    Resolution,
    Rma,
    Server,
    Site,
    Stock,
    Swap,
    SwapState,
    Technician,
)

STARTABLE = REPLANNABLE_SWAP_STATES
FINISHABLE = ACTIVE_SWAP_STATES


def _locked_swap(session: Session, swap_id: int) -> Swap:
    swap = session.exec(select(Swap).where(Swap.id == swap_id).with_for_update()).first()
    if swap is None:
        raise NotFound(f"no swap {swap_id}")
    return swap


def find_technician(session: Session, name: str) -> Technician:
    tech = session.exec(select(Technician).where(Technician.name == name)).first()
    if tech is None:
        raise NotFound(f"no technician named {name!r}")
    return tech


def start_swap(session: Session, swap_id: int, *, technician: str | None, now: datetime, actor: str) -> Swap:
    """planned/agreed -> in_progress, with who does it; the fault becomes in_progress too."""
    swap = _locked_swap(session, swap_id)
    if swap.state not in STARTABLE:
        raise FleetError(f"swap {swap_id} is {swap.state}: it cannot be started")
    before = audit.snapshot(swap)
    if technician:
        swap.technician_id = find_technician(session, technician).id
    swap.state = SwapState.IN_PROGRESS
    swap.started_at = now
    session.add(swap)
    fault = session.get(Fault, swap.fault_id)
    if fault is not None and fault.resolved_at is None:
        fault_before = audit.snapshot(fault)
        fault.state = FaultState.IN_PROGRESS
        session.add(fault)
        audit.record(session, at=now, actor=actor, action="fault.in_progress", entity="fault", entity_id=fault.id,
                     before=fault_before, after=audit.snapshot(fault))  # fmt: skip
    session.flush()
    audit.record(session, at=now, actor=actor, action="swap.start", entity="swap", entity_id=swap.id, before=before,
                 after=audit.snapshot(swap))  # fmt: skip
    return swap


def _spare_for(session: Session, swap: Swap, fault: Fault, server: Server, *, now: datetime, actor: str) -> Reservation:
    """The reservation this swap consumes: the swap's own, else the fault's, else a unit taken now at the site."""
    res = session.get(Reservation, swap.reservation_id) if swap.reservation_id else None
    if res is None or res.state != ReservationState.ACTIVE:
        held = active_reservations(session, fault.id)  # type: ignore[arg-type]
        res = held[0] if held else None
    if res is None:
        # The technician took a spare off the shelf without one reserved: reserve it now, atomically, at this site.
        ids = [p.id for p in matching_parts(session, fault)]
        rows = session.exec(
            select(Stock).where(Stock.site_id == server.site_id, col(Stock.part_model_id).in_(ids))
        ).all()
        for stock in sorted(rows, key=lambda s: ids.index(s.part_model_id)):
            assert stock.id is not None
            if try_reserve(session, stock.id):
                res = Reservation(stock_id=stock.id, fault_id=fault.id, created_at=now, actor=actor)
                session.add(res)
                session.flush()
                audit.record(session, at=now, actor=actor, action="stock.reserve", entity="stock",
                             entity_id=stock.id, after=dict(stock_snapshot(session, stock.id), reservation_id=res.id,
                                                             fault_id=fault.id))  # fmt: skip
                break
    if res is None:
        site = session.get(Site, server.site_id)
        raise FleetError(f"no spare reserved for fault {fault.id} and none available at {site.code if site else '?'}")
    held_at = session.get(Stock, res.stock_id)
    if held_at is None or held_at.site_id != server.site_id:
        where = session.get(Site, held_at.site_id) if held_at else None
        raise FleetError(
            f"the spare for fault {fault.id} is still at {where.code if where else '?'}: receive its transfer first"
        )
    return res


def complete_swap(
    session: Session, swap_id: int, *, new_serial: str, technician: str | None, now: datetime, actor: str
) -> Rma:
    """Finish a swap (see the module docstring). Returns the RMA opened for the old part."""
    new_serial = (new_serial or "").strip()
    if not new_serial:
        raise InputError("--new-serial is empty")
    swap = _locked_swap(session, swap_id)
    if swap.state == SwapState.DONE:
        raise FleetError(f"swap {swap_id} is already done")
    if swap.state not in FINISHABLE:
        raise FleetError(f"swap {swap_id} is {swap.state}: it cannot be finished")
    fault = session.get(Fault, swap.fault_id)
    server = session.get(Server, swap.server_id)
    if fault is None or server is None:
        raise NotFound(f"swap {swap_id} points at a fault or server that does not exist")
    if fault.resolved_at is not None:
        raise FleetError(f"fault {fault.id} of swap {swap_id} is already {fault.state}")
    if fault.kind == SECURITY:
        raise FleetError(
            f"swap {swap_id} is a security work order, not a part swap: the next `fleet audit bmc` closes it once "
            "the controller no longer shows the finding"
        )
    clash = session.exec(select(Component).where(Component.serial == new_serial)).first()
    if clash is not None:
        other = session.get(Server, clash.server_id)
        raise InputError(
            f"serial {new_serial} is already recorded ({other.hostname if other else '?'} {clash.slot}): "
            "check the label on the new part"
        )
    tech = find_technician(session, technician) if technician else None

    res = _spare_for(session, swap, fault, server, now=now, actor=actor)
    if not consume_reservation(session, res, now=now, actor=actor, context={"swap_id": swap_id}):
        raise FleetError(f"stock {res.stock_id} has no reserved unit to take for swap {swap_id}")
    spare = session.get(Stock, res.stock_id)
    assert spare is not None

    old = _replace_component(session, server, fault, spare, new_serial, now=now, actor=actor)
    old_serial = old.serial if old else None

    rma = open_rma(
        session,
        part_model_id=old.part_model_id if old else spare.part_model_id,
        serial=old_serial,
        server_id=server.id,
        fault_id=fault.id,
        now=now,
        actor=actor,
    )

    swap_before = audit.snapshot(swap)
    swap.state = SwapState.DONE
    swap.done_at = now
    swap.started_at = swap.started_at or now
    swap.old_serial = old_serial
    swap.new_serial = new_serial
    swap.reservation_id = res.id
    if tech is not None:
        swap.technician_id = tech.id
    session.add(swap)
    fault_before = audit.snapshot(fault)
    fault.state = FaultState.RESOLVED
    fault.resolved_at = now
    fault.resolution = Resolution.SWAPPED
    session.add(fault)
    session.flush()
    audit.record(session, at=now, actor=actor, action="swap.done", entity="swap", entity_id=swap.id,
                 before=swap_before, after=audit.snapshot(swap))  # fmt: skip
    audit.record(session, at=now, actor=actor, action="fault.resolve", entity="fault", entity_id=fault.id,
                 before=fault_before, after=audit.snapshot(fault))  # fmt: skip
    return rma


def _replace_component(
    session: Session, server: Server, fault: Fault, spare: Stock, new_serial: str, *, now: datetime, actor: str
) -> Component | None:
    """The old part leaves its slot and the new one, with the serial read off its label, goes in. Returns the old."""
    old = installed_component(session, server.id, fault.slot)  # type: ignore[arg-type]
    if old is not None:
        old_before = audit.snapshot(old)
        old.removed_at = now
        session.add(old)
        # The partial unique index allows one installed part per slot: the removal must reach the database first.
        session.flush()
        audit.record(session, at=now, actor=actor, action="component.remove", entity="component", entity_id=old.id,
                     before=old_before, after=audit.snapshot(old))  # fmt: skip
    new = Component(
        server_id=server.id,  # type: ignore[arg-type]
        slot=fault.slot,
        part_model_id=spare.part_model_id,
        serial=new_serial,
        installed_at=now,
    )
    session.add(new)
    try:
        session.flush()
    except IntegrityError:
        raise InputError(f"serial {new_serial} is already recorded: check the label on the new part") from None
    audit.record(session, at=now, actor=actor, action="component.install", entity="component", entity_id=new.id,
                 after=audit.snapshot(new))  # fmt: skip
    return old
