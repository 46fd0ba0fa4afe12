"""What a console operator can do, each in one write transaction, audited, delegating to the domain services.

Re-polling one server goes through the sweep's own `poll_server`, imported on first use so the collectors (pyghmi,
pysnmp) cost nothing at the console's start.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from fleet import faults
from fleet.clock import Clock
from fleet.config import Settings
from fleet.errors import FleetError, InputError, NotFound
from fleet.health.model import Severity
from fleet.store.db import read_session, write_session
from fleet.store.models import Fault, Server

Poller = Callable[[Engine, int], Any]


def find_poller(*, settings: Settings | None = None, clock: Clock | None = None) -> Poller | None:
    """The sweep's `poll_server`, bound to the console's settings and clock."""

    def poll(engine: Engine, server_id: int) -> Any:
        from fleet.sweep.run import poll_server

        return poll_server(engine, server_id, settings=settings, **({"clock": clock} if clock else {}))

    return poll


def acknowledge(engine: Engine, fault_id: int, *, by: str, now: datetime) -> str:
    with write_session(engine) as session:
        fault = faults.acknowledge(session, fault_id, by=by, now=now)
        first = fault.acknowledged_by
    # Acknowledging twice keeps the first: say who it was, so nobody thinks it was theirs.
    return f"fault {fault_id} acknowledged by {by}" if first == by else f"fault {fault_id} was acknowledged by {first}"


def escalate(
    engine: Engine, fault_id: int, reason: str, *, by: str, now: datetime, settings: Settings | None = None
) -> str:
    """Make a fault critical: a critical ticket on its slot, so the SLA clock and the audit follow the fault
    service's rules (the clock starts now; it is a new alert to acknowledge)."""
    with read_session(engine) as session:
        fault = session.get(Fault, fault_id)
        if fault is None:
            raise NotFound(f"no fault {fault_id}")
        server = session.get(Server, fault.server_id)
        if server is None:
            raise NotFound(f"no server for fault {fault_id}")
        if fault.severity == Severity.CRITICAL:
            raise FleetError(f"fault {fault_id} is already critical")
        hostname, slot = server.hostname, fault.slot
    text = reason.strip() or "escalated from the console"
    with write_session(engine) as session:
        result = faults.open_ticket(session, hostname, slot, text, critical=True, at=now, now=now, by=by,
                                    settings=settings)  # fmt: skip
        spare = _spare(result.spare)
    return f"fault {fault_id} is now critical: its clock starts now{spare}"


def _spare(outcome: Any) -> str:
    """A critical fault's spare, as the end of a one-line message."""
    if outcome is None:
        return ""
    if outcome.status in ("reserved", "transfer"):
        text = f"; spare {outcome.part_number} reserved at {outcome.site}"
    else:
        text = "; no compatible spare at any site"
    return text + (f" ({outcome.flag})" if outcome.flag else "")


def open_ticket(
    engine: Engine,
    hostname: str,
    slot: str,
    text: str,
    *,
    critical: bool,
    by: str,
    now: datetime,
    settings: Settings | None = None,
) -> str:
    if not slot.strip() or not text.strip():
        raise InputError("a ticket needs a slot and a text")
    with write_session(engine) as session:
        result = faults.open_ticket(session, hostname, slot.strip(), text.strip(), critical=critical, at=now, now=now,
                                    by=by, settings=settings)  # fmt: skip
        how = "joined fault" if result.joined else "opened fault"
        fault_id, host, where = result.fault.id, result.fault.server_id, result.fault.slot
        server = session.get(Server, host)
        name = server.hostname if server else hostname
        spare = _spare(result.spare)
    return f"ticket on {name} {where}: {how} {fault_id}{spare}"


def start_swap(engine: Engine, swap_id: int, *, technician: str | None, by: str, now: datetime) -> str:
    from fleet.swaps.work import start_swap as start

    with write_session(engine) as session:
        start(session, swap_id, technician=technician, now=now, actor=by)
    return f"swap {swap_id} started"


def complete_swap(
    engine: Engine, swap_id: int, new_serial: str, *, technician: str | None, by: str, now: datetime
) -> str:
    from fleet.swaps.work import complete_swap as complete

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
