"""The few rows the stock tests need, created directly (no sample fleet)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from sqlmodel import Session, select

from fleet.store.models import (
    Component,
    Fault,
    PartCompat,
    PartModel,
    PartSubstitute,
    Server,
    ServerModel,
    Site,
    Stock,
    Swap,
    Technician,
)

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
_seq = count(1)


def site(s: Session, code: str) -> Site:
    found = s.exec(select(Site).where(Site.code == code)).first()
    if found:
        return found
    row = Site(code=code, name=f"Datacenter {code}", timezone="Europe/Paris")
    s.add(row)
    s.flush()
    return row


def server_model(s: Session, name: str = "R650", *, psu_count: int = 2, raid_level: str = "RAID1") -> ServerModel:
    found = s.exec(select(ServerModel).where(ServerModel.name == name)).first()
    if found:
        return found
    row = ServerModel(vendor="Dell", name=name, psu_count=psu_count, raid_level=raid_level)
    s.add(row)
    s.flush()
    return row


def part(
    s: Session,
    number: str,
    kind: str = "psu",
    *,
    fits: list[ServerModel] | None = None,
    afr: float | None = None,
    lead_time_days: float = 5.0,
) -> PartModel:
    row = PartModel(part_number=number, kind=kind, vendor="Dell", description=f"{kind} {number}", afr=afr,
                    lead_time_days=lead_time_days)  # fmt: skip
    s.add(row)
    s.flush()
    for m in fits or []:
        s.add(PartCompat(part_model_id=row.id, server_model_id=m.id))
    s.flush()
    return row


def substitute(s: Session, original: PartModel, sub: PartModel) -> None:
    s.add(PartSubstitute(part_model_id=original.id, substitute_id=sub.id))
    s.flush()


def server(s: Session, where: Site, model: ServerModel, hostname: str | None = None) -> Server:
    n = next(_seq)
    row = Server(hostname=hostname or f"srv{n:04d}", asset_tag=f"AT{n:05d}", serial=f"SN{n:05d}", model_id=model.id,
                 site_id=where.id, rack="R01", unit=n % 40 + 1, controller_host="127.0.0.1")  # fmt: skip
    s.add(row)
    s.flush()
    return row


def component(
    s: Session,
    srv: Server,
    slot: str,
    pm: PartModel,
    serial: str | None = None,
    *,
    installed_at: datetime | None = None,
) -> Component:
    row = Component(server_id=srv.id, slot=slot, part_model_id=pm.id, serial=serial or f"C{next(_seq):06d}",
                    installed_at=installed_at)  # fmt: skip
    s.add(row)
    s.flush()
    return row


def stock(s: Session, where: Site, pm: PartModel, on_hand: int, *, reserved: int = 0, level: int = 0) -> Stock:
    row = Stock(site_id=where.id, part_model_id=pm.id, bin=f"B-{pm.part_number}", on_hand=on_hand,
                reserved=reserved, reorder_level=level)  # fmt: skip
    s.add(row)
    s.flush()
    return row


def fault(
    s: Session,
    srv: Server,
    slot: str,
    kind: str = "psu",
    *,
    critical: bool = False,
    notified_at: datetime = T0,
    critical_since: datetime | None = None,
) -> Fault:
    row = Fault(server_id=srv.id, slot=slot, kind=kind, problem="failed",
                severity="critical" if critical else "non-critical", detected_at=notified_at,
                notified_at=notified_at, critical_since=critical_since)  # fmt: skip
    s.add(row)
    s.flush()
    return row


def technician(s: Session, where: Site, name: str = "Alice") -> Technician:
    row = Technician(name=name, site_id=where.id)
    s.add(row)
    s.flush()
    return row


def swap(s: Session, f: Fault, *, reservation_id: int | None = None) -> Swap:
    row = Swap(fault_id=f.id, server_id=f.server_id, critical=f.severity == "critical", reservation_id=reservation_id,
               target_at=f.notified_at + timedelta(hours=1),
               hard_limit_at=f.notified_at + timedelta(hours=4))  # fmt: skip
    s.add(row)
    s.flush()
    return row
