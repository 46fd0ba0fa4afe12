"""Swap scheduling inside the SLA (issue 7 fills in planning, windows and mail)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from fleet.models import Fault, Server, Site, Swap, Technician


def list_swaps(session: Session, *, site: str | None = None, include_done: bool = False) -> list[Swap]:
    q = select(Swap).join(Server, Server.id == Swap.server_id).join(Site, Site.id == Server.site_id)
    if not include_done:
        q = q.where(Swap.state.not_in(("done", "cancelled")))  # type: ignore[attr-defined]
    if site:
        q = q.where(Site.code == site)
    return list(session.exec(q.order_by(Swap.hard_limit_at, Swap.planned_start, Swap.id)).all())


def swap_dict(session: Session, swap: Swap) -> dict[str, Any]:
    server = session.get(Server, swap.server_id)
    site = session.get(Site, server.site_id) if server else None
    fault = session.get(Fault, swap.fault_id)
    tech = session.get(Technician, swap.technician_id) if swap.technician_id else None

    def iso(v: Any) -> str | None:
        return v.isoformat() if v else None

    return {
        "id": swap.id,
        "server": server.hostname if server else None,
        "site": site.code if site else None,
        "rack": server.rack if server else None,
        "unit": server.unit if server else None,
        "slot": fault.slot if fault else None,
        "kind": fault.kind if fault else None,
        "critical": swap.critical,
        "state": swap.state,
        "technician": tech.name if tech else None,
        "planned_start": iso(swap.planned_start),
        "target_at": iso(swap.target_at),
        "hard_limit_at": iso(swap.hard_limit_at),
        "done_at": iso(swap.done_at),
        "old_serial": swap.old_serial,
        "new_serial": swap.new_serial,
        "warning": swap.warning,
        "note": swap.note,
    }
