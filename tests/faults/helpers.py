"""Small builders for the fault tests: hand-made polls (pure logic may use fakes) and the few rows a test needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlmodel import Session, select

from fleet.health.model import Event, InventoryItem, Kind, PollResult, Reading, State
from fleet.store.models import Component, PartModel, Server, ServerModel, Site

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def rd(slot: str, kind: str, state: str = "ok", *, name: str | None = None, detail: str | None = None) -> Reading:
    return Reading(name=name or slot, kind=Kind(kind), slot=slot, state=State(state), detail=detail)


def ev(slot: str, kind: str, text: str, *, at: datetime | None = None, record_id: int | None = None) -> Event:
    return Event(record_id=record_id, time=at, kind=Kind(kind), slot=slot, severity=State.WARNING, text=text)


def inv(slot: str, kind: str, serial: str | None = None) -> InventoryItem:
    return InventoryItem(slot=slot, kind=Kind(kind), serial=serial)


def poll(
    *readings: Reading,
    host: str = "web1",
    protocol: str = "ipmi",
    events: Iterable[Event] = (),
    inventory: Iterable[InventoryItem] = (),
    reachable: bool = True,
    error: str | None = None,
    power: str | None = "on",
) -> PollResult:
    return PollResult(
        host=host,
        protocol=protocol,
        reachable=reachable,
        error=error,
        readings=list(readings),
        events=list(events),
        inventory=list(inventory),
        power=power,
    )


def make_server(
    session: Session,
    hostname: str = "web1",
    *,
    psu_count: int = 2,
    fan_count: int = 4,
    fan_zones: int = 1,
    raid_level: str = "RAID1",
    disk_slots: int = 2,
    components: Sequence[tuple[str, str, str | None]] = (),
    site: str = "PAR1",
) -> Server:
    """A server of its own model, with components given as (slot, kind, serial)."""
    site_row = session.exec(select(Site).where(Site.code == site)).first()
    if site_row is None:
        site_row = Site(code=site, name=site, timezone="Europe/Paris")
        session.add(site_row)
        session.flush()
    model = ServerModel(
        vendor="Acme",
        name=f"model-{hostname}",
        psu_count=psu_count,
        fan_count=fan_count,
        fan_zones=fan_zones,
        raid_level=raid_level,
        disk_slots=disk_slots,
    )
    session.add(model)
    session.flush()
    server = Server(
        hostname=hostname,
        asset_tag=f"AT-{hostname}",
        serial=f"SN-{hostname}",
        model_id=model.id,  # type: ignore[arg-type]
        site_id=site_row.id,  # type: ignore[arg-type]
        rack="R1",
        unit=1,
        controller_host="127.0.0.1",
    )
    session.add(server)
    session.flush()
    for slot, kind, serial in components:
        part = session.exec(select(PartModel).where(PartModel.part_number == f"PN-{kind}")).first()
        if part is None:
            part = PartModel(part_number=f"PN-{kind}", kind=kind, vendor="Acme", description=kind)
            session.add(part)
            session.flush()
        session.add(Component(server_id=server.id, slot=slot, part_model_id=part.id, serial=serial))  # type: ignore[arg-type]
    session.flush()
    return server
