"""One server in full, for the console's detail view: sensors, components with serials, faults, history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from fleet.errors import NotFound
from fleet.store.models import (
    Audit,
    Component,
    Customer,
    Fault,
    PartModel,
    SensorChange,
    SensorState,
    Server,
    ServerModel,
    Site,
)

HISTORY_LIMIT = 50


@dataclass(frozen=True, slots=True)
class SensorLine:
    name: str
    kind: str
    slot: str
    state: str
    value: float | None
    unit: str | None
    changed_at: datetime
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class ComponentLine:
    slot: str
    part_number: str
    kind: str
    serial: str | None
    installed_at: datetime | None


@dataclass(frozen=True, slots=True)
class FaultLine:
    id: int
    slot: str
    problem: str
    severity: str
    state: str
    notified_at: datetime
    acknowledged_by: str | None
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    what: str


@dataclass(frozen=True, slots=True)
class ServerDetail:
    id: int
    hostname: str
    site: str
    site_tz: str
    rack: str
    unit: int
    model: str
    customer: str
    plan: str
    backup_option: bool
    status: str
    health: str
    protocol: str
    last_polled_at: datetime | None
    last_poll_error: str | None
    sensors: list[SensorLine]
    components: list[ComponentLine]
    faults: list[FaultLine]
    history: list[HistoryLine]  # newest first


def load_server_detail(session: Session, server_id: int) -> ServerDetail:
    server = session.get(Server, server_id)
    if server is None:
        raise NotFound(f"no server {server_id}")
    site = session.get(Site, server.site_id)
    model = session.get(ServerModel, server.model_id)
    customer = session.get(Customer, server.customer_id) if server.customer_id else None
    # Failing sensors first: they are why anyone opens this view.
    rank = {"critical": 0, "warning": 1, "absent": 2, "unknown": 3, "ok": 4}
    sensors = sorted(
        (SensorLine(s.name, s.kind, s.slot, s.state, s.value, s.unit, s.changed_at, s.seen_at)
         for s in session.exec(select(SensorState).where(SensorState.server_id == server_id)).all()),
        key=lambda s: (rank.get(s.state, 3), s.kind, s.name),
    )  # fmt: skip
    components = [
        ComponentLine(c.slot, p.part_number, p.kind, c.serial, c.installed_at)
        for c, p in session.exec(
            select(Component, PartModel)
            .join(PartModel, col(PartModel.id) == Component.part_model_id)
            .where(Component.server_id == server_id, col(Component.removed_at).is_(None))
            .order_by(Component.slot)
        ).all()
    ]
    faults = [
        FaultLine(f.id or 0, f.slot, f.problem, f.severity, f.state, f.notified_at, f.acknowledged_by, f.resolved_at)
        for f in session.exec(
            select(Fault).where(Fault.server_id == server_id).order_by(col(Fault.notified_at).desc())
        ).all()
    ]
    history = [
        HistoryLine(c.at, f"{c.name}: {c.old_state or '-'} -> {c.new_state}")
        for c in session.exec(
            select(SensorChange)
            .where(SensorChange.server_id == server_id)
            .order_by(col(SensorChange.at).desc())
            .limit(HISTORY_LIMIT)
        ).all()
    ]
    fault_ids = [f.id for f in faults]
    if fault_ids:
        history += [
            HistoryLine(a.at, f"{a.action} by {a.actor}")
            for a in session.exec(
                select(Audit)
                .where(Audit.entity == "fault", col(Audit.entity_id).in_(fault_ids))
                .order_by(col(Audit.at).desc())
                .limit(HISTORY_LIMIT)
            ).all()
        ]
    history.sort(key=lambda h: h.at, reverse=True)
    return ServerDetail(
        id=server_id,
        hostname=server.hostname,
        site=site.code if site else "?",
        site_tz=site.timezone if site else "UTC",
        rack=server.rack,
        unit=server.unit,
        model=model.name if model else "?",
        customer=customer.name if customer else "",
        plan=server.plan,
        backup_option=server.backup_option,
        status=server.status,
        health=server.health,
        protocol=server.controller_protocol,
        last_polled_at=server.last_polled_at,
        last_poll_error=server.last_poll_error,
        sensors=sensors,
        components=components,
        faults=faults,
        history=history[:HISTORY_LIMIT],
    )
