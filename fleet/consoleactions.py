"""What a console operator can do, each in one write transaction, audited, delegating to the domain services.

The domain modules are built in parallel; where a service is not there yet (`fleet.faults.acknowledge`,
`fleet.faults.escalate`), a minimal audited version on the tables stands in, and is dropped once the service lands.
Re-polling one server is looked up the same way: a `poll_server(engine, server_id)` function, if one exists.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from fleet import audit
from fleet.db import write_session
from fleet.errors import FleetError, InputError, NotFound
from fleet.models import Fault, Server

Poller = Callable[[Engine, int], Any]

# Where a "poll this one server now" function may live, first found wins.
POLLER_HOMES = ("fleet.poller", "fleet.sweep", "fleet.polling")


def _service(module: str, name: str) -> Callable[..., Any] | None:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    fn = getattr(mod, name, None)
    return fn if callable(fn) else None


def find_poller() -> Poller | None:
    for home in POLLER_HOMES:
        fn = _service(home, "poll_server")
        if fn is not None:
            return fn
    return None


def _open_fault(session: Session, fault_id: int) -> Fault:
    fault = session.exec(select(Fault).where(Fault.id == fault_id).with_for_update()).first()
    if fault is None:
        raise NotFound(f"no fault {fault_id}")
    if fault.resolved_at is not None:
        raise FleetError(f"fault {fault_id} is already {fault.state}")
    return fault


def _acknowledge_on_tables(session: Session, fault_id: int, *, by: str, now: datetime) -> Fault:
    fault = _open_fault(session, fault_id)
    if fault.acknowledged_at is not None:
        raise FleetError(f"fault {fault_id} was acknowledged by {fault.acknowledged_by}")
    before = audit.snapshot(fault)
    fault.acknowledged_at = now
    fault.acknowledged_by = by
    if fault.state == "open":
        fault.state = "acknowledged"
    session.add(fault)
    session.flush()
    audit.record(session, at=now, actor=by, action="fault.acknowledge", entity="fault", entity_id=fault.id,
                 before=before, after=audit.snapshot(fault))  # fmt: skip
    return fault


def _escalate_on_tables(session: Session, fault_id: int, *, by: str, now: datetime) -> Fault:
    # The SLA: a non-critical fault that becomes critical is critical from then on, its clock starting now.
    fault = _open_fault(session, fault_id)
    if fault.severity == "critical":
        raise FleetError(f"fault {fault_id} is already critical")
    before = audit.snapshot(fault)
    fault.severity = "critical"
    fault.critical_since = now
    session.add(fault)
    session.flush()
    audit.record(session, at=now, actor=by, action="fault.escalate", entity="fault", entity_id=fault.id,
                 before=before, after=audit.snapshot(fault))  # fmt: skip
    return fault


def acknowledge(engine: Engine, fault_id: int, *, by: str, now: datetime) -> str:
    service = _service("fleet.faults", "acknowledge") or _acknowledge_on_tables
    with write_session(engine) as session:
        service(session, fault_id, by=by, now=now)
    return f"fault {fault_id} acknowledged by {by}"


def escalate(engine: Engine, fault_id: int, *, by: str, now: datetime) -> str:
    service = _service("fleet.faults", "escalate") or _escalate_on_tables
    with write_session(engine) as session:
        service(session, fault_id, by=by, now=now)
    return f"fault {fault_id} is now critical: its clock starts now"


def open_ticket(engine: Engine, hostname: str, slot: str, text: str, *, critical: bool, by: str, now: datetime) -> str:
    if not slot.strip() or not text.strip():
        raise InputError("a ticket needs a slot and a text")
    service = _service("fleet.faults", "open_ticket")
    if service is None:
        raise FleetError("opening tickets is not available in this build")
    with write_session(engine) as session:
        if session.exec(select(Server).where(Server.hostname == hostname)).first() is None:
            raise NotFound(f"no server {hostname}")
        service(session, hostname, slot.strip(), text.strip(), critical=critical, at=now, now=now, by=by)
    return f"ticket opened on {hostname} {slot.strip()}"


def start_swap(engine: Engine, swap_id: int, *, technician: str | None, by: str, now: datetime) -> str:
    from fleet.swapwork import start_swap as start

    with write_session(engine) as session:
        start(session, swap_id, technician=technician, now=now, actor=by)
    return f"swap {swap_id} started"


def complete_swap(
    engine: Engine, swap_id: int, new_serial: str, *, technician: str | None, by: str, now: datetime
) -> str:
    from fleet.swapwork import complete_swap as complete

    if not new_serial.strip():
        raise InputError("the new part's serial is empty")
    with write_session(engine) as session:
        rma = complete(session, swap_id, new_serial=new_serial.strip(), technician=technician, now=now, actor=by)
        rma_id = rma.id
    return f"swap {swap_id} done, new serial {new_serial.strip()}, RMA {rma_id} opened for the old part"


def repoll(engine: Engine, server_id: int, poller: Poller | None) -> str:
    """Poll one server now through the same pipeline as the sweep; say so plainly when there is none."""
    if poller is None:
        raise FleetError("re-poll is not available: no poll_server function in this build (the next sweep verifies)")
    result = poller(engine, server_id)
    summary = str(result).splitlines()[0] if result is not None else "done"
    return f"re-polled server {server_id}: {summary}"
