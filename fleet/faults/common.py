"""What the fault services share: finding a fault, locking a server's faults, escalating and closing a fault.

Closing a fault closes what hangs on it: a swap not yet done is called off (or, when the part was swapped by hand,
closed as done) and the spare it held goes back on the shelf (or, swapped by hand, is taken off it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from fleet.errors import InputError, NotFound
from fleet.health.layout import Layout, describe_slots, layout_slots
from fleet.health.model import Severity
from fleet.health.rules import SECURITY
from fleet.health.slots import slot_key
from fleet.store import audit
from fleet.store.models import (
    ACTIVE_SWAP_STATES,
    Component,
    Fault,
    FaultState,
    Resolution,
    SensorState,
    Server,
    ServerModel,
    Swap,
    SwapState,
)


def insert_open_fault(session: Session, fault: Fault, *, now: datetime, actor: str) -> tuple[Fault, bool]:
    """Add a new open fault: (it, True); or, when another writer opened the same one (server, slot, problem) a
    moment ago and the partial unique index refused this one, (that fault, False). Audited when opened here."""
    try:
        with session.begin_nested():
            session.add(fault)
            session.flush()
    except IntegrityError:
        q = select(Fault).where(Fault.server_id == fault.server_id, Fault.slot == fault.slot,
                                Fault.problem == fault.problem, col(Fault.resolved_at).is_(None))  # fmt: skip
        return session.exec(q).one(), False
    audit.record(session, at=now, actor=actor, action="fault.open", entity="fault", entity_id=fault.id,
                 after=audit.snapshot(fault))  # fmt: skip
    return fault, True


def get_fault(session: Session, fault_id: int) -> Fault:
    fault = session.get(Fault, fault_id)
    if fault is None:
        raise NotFound(f"no fault {fault_id}")
    return fault


def open_faults(session: Session, server_id: int) -> list[Fault]:
    q = select(Fault).where(Fault.server_id == server_id, col(Fault.resolved_at).is_(None))
    return list(session.exec(q.order_by(col(Fault.id))).all())


def find_component(session: Session, server_id: int, slot: str) -> Component | None:
    """The part installed in a slot, whatever the slot's spelling ("PSU 2" finds "PSU2")."""
    key = slot_key(slot)
    q = select(Component).where(Component.server_id == server_id, col(Component.removed_at).is_(None))
    return next((c for c in session.exec(q) if slot_key(c.slot) == key), None)


def layout_of(model: ServerModel) -> Layout:
    return Layout(
        psu_count=model.psu_count,
        fan_count=model.fan_count,
        fan_zones=model.fan_zones,
        disk_slots=model.disk_slots,
        raid_level=model.raid_level,
        raid_battery=model.raid_battery,
        dimm_slots=model.dimm_slots,
    )


def server_slots(session: Session, server: Server) -> list[str]:
    """Every slot name this server has: its model's layout, the parts recorded in it, and what its controller
    reported (sensors, open faults), in that order, one name per slot key."""
    assert server.id is not None
    model = session.get(ServerModel, server.model_id)
    names = layout_slots(layout_of(model)) if model is not None else []
    names += [c.slot for c in session.exec(select(Component).where(Component.server_id == server.id,
                                                                    col(Component.removed_at).is_(None)))]  # fmt: skip
    names += [s.slot for s in session.exec(select(SensorState).where(SensorState.server_id == server.id)) if s.slot]
    names += [f.slot for f in open_faults(session, server.id)]
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(slot_key(name), name)
    return list(seen.values())


def check_slot(session: Session, server: Server, slot: str) -> str:
    """The slot as this server names it; InputError listing the valid ones when it has no such slot."""
    slots = server_slots(session, server)
    key = slot_key(slot)
    found = next((name for name in slots if slot_key(name) == key), None)
    if found is None:
        raise InputError(f"{server.hostname} has no slot {slot.strip()!r}; its slots: {describe_slots(slots)}")
    return found


def lock_server(session: Session, server_id: int) -> None:
    """Serialise fault changes of one server (a ticket and a sweep at the same moment) on PostgreSQL; SQLite's write
    sessions are serialised already (FOR UPDATE renders as nothing there)."""
    session.exec(select(Server.id).where(col(Server.id) == server_id).with_for_update())


def escalate(fault: Fault, *, at: datetime) -> None:
    """Non-critical -> critical: the critical clock starts now, and it is a new alert someone must look at."""
    fault.severity = Severity.CRITICAL
    fault.critical_since = at
    fault.notified_at = at
    fault.acknowledged_at = None
    fault.acknowledged_by = None
    if fault.state == FaultState.ACKNOWLEDGED:
        fault.state = FaultState.OPEN


def close(session: Session, fault: Fault, *, resolution: Resolution, now: datetime, actor: str) -> None:
    before = audit.snapshot(fault)
    fault.resolved_at = now
    fault.resolution = resolution
    fault.state = FaultState.CANCELLED if resolution == Resolution.CANCELLED else FaultState.RESOLVED
    session.add(fault)
    audit.record(
        session, at=now, actor=actor, action="fault.resolve", entity="fault", entity_id=fault.id, before=before,
        after=audit.snapshot(fault),
    )  # fmt: skip
    _close_swaps(session, fault, now=now, actor=actor)
    if fault.parent_id is not None:
        _close_parent_after(session, fault, now=now, actor=actor)


def _close_parent_after(session: Session, child: Fault, *, now: datetime, actor: str) -> None:
    """A rack's power fault (fleet.faults.rack) lasts while one of its servers still has no power: it closes as
    recovered with the last of them, and its inspection is called off if it was not done."""
    parent = session.get(Fault, child.parent_id)
    if parent is None or parent.resolved_at is not None:
        return
    session.flush()
    left = session.exec(select(Fault.id).where(Fault.parent_id == parent.id, col(Fault.resolved_at).is_(None))).first()
    if left is None:
        close(session, parent, resolution=Resolution.RECOVERED, now=now, actor=actor)


def _close_swaps(session: Session, fault: Fault, *, now: datetime, actor: str) -> None:
    """The fault's swaps that have not happened in the swap service: swapped by hand, they are done now (the SLA
    report measures the fault's clock to this moment) and the spare at the site left the shelf; otherwise nothing
    is left to swap: the swap is called off and the spare goes back."""
    from fleet.stock.reserve import consume_for_fault, release_for_fault  # stock imports nothing of faults

    assert fault.id is not None
    if fault.kind == SECURITY and fault.resolution != Resolution.CANCELLED:
        _finish_work_orders(session, fault, now=now, actor=actor)
        return
    swapped = fault.resolution == Resolution.SWAPPED
    if swapped:
        consume_for_fault(session, fault.id, now=now, actor=actor)
    else:
        release_for_fault(session, fault.id, now=now, actor=actor)
    states = ACTIVE_SWAP_STATES if swapped else tuple(s for s in ACTIVE_SWAP_STATES if s != SwapState.IN_PROGRESS)
    for swap in session.exec(select(Swap).where(Swap.fault_id == fault.id, col(Swap.state).in_(states))).all():
        before = audit.snapshot(swap)
        if swapped:
            swap.state = SwapState.DONE
            swap.done_at = now
            swap.note = "fault resolved by hand as swapped"
        else:
            swap.state = SwapState.CANCELLED
            swap.note = f"fault {fault.resolution} before the swap"
        session.add(swap)
        action = "swap.done" if swapped else "swap.cancel"
        audit.record(session, at=now, actor=actor, action=action, entity="swap", entity_id=swap.id,
                     before=before, after=audit.snapshot(swap))  # fmt: skip


def _finish_work_orders(session: Session, fault: Fault, *, now: datetime, actor: str) -> None:
    """A security fault closed because its finding is gone (the audit saw it so, or a person says so): its work
    order, started or not, is done; there is no spare to consume or release."""
    for swap in session.exec(select(Swap).where(Swap.fault_id == fault.id, col(Swap.state).in_(ACTIVE_SWAP_STATES))):
        before = audit.snapshot(swap)
        swap.state = SwapState.DONE
        swap.done_at = now
        swap.started_at = swap.started_at or now
        swap.note = f"finding gone ({fault.resolution} by {actor})"
        session.add(swap)
        audit.record(session, at=now, actor=actor, action="swap.done", entity="swap", entity_id=swap.id,
                     before=before, after=audit.snapshot(swap))  # fmt: skip
