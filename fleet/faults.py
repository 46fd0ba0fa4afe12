"""Faults: open, deduplicate, escalate, acknowledge, resolve (issue 5 fills in the lifecycle)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from fleet.config import Settings
from fleet.models import Fault, Server, Site


def ack_status(fault: Fault, now: datetime, settings: Settings) -> str:
    """'done' when acknowledged, 'overdue' when the SLA's look-within-an-hour has passed, else 'due'."""
    if fault.acknowledged_at is not None:
        return "done"
    return "overdue" if now > fault.notified_at + timedelta(minutes=settings.ack_within_min) else "due"


def list_faults(session: Session, *, site: str | None = None, include_resolved: bool = False) -> list[Fault]:
    q = select(Fault).join(Server, Server.id == Fault.server_id).join(Site, Site.id == Server.site_id)
    if not include_resolved:
        q = q.where(Fault.resolved_at.is_(None))  # type: ignore[union-attr]
    if site:
        q = q.where(Site.code == site)
    return list(session.exec(q.order_by(Fault.severity, Fault.notified_at)).all())


def fault_dict(session: Session, fault: Fault, now: datetime, settings: Settings) -> dict[str, Any]:
    server = session.get(Server, fault.server_id)
    site = session.get(Site, server.site_id) if server else None
    return {
        "id": fault.id,
        "server": server.hostname if server else None,
        "site": site.code if site else None,
        "slot": fault.slot,
        "kind": fault.kind,
        "problem": fault.problem,
        "severity": fault.severity,
        "state": fault.state,
        "evidence": fault.evidence,
        "source": fault.source,
        "flapping": fault.flapping,
        "detected_at": fault.detected_at.isoformat(),
        "notified_at": fault.notified_at.isoformat(),
        "acknowledged_at": fault.acknowledged_at.isoformat() if fault.acknowledged_at else None,
        "acknowledged_by": fault.acknowledged_by,
        "ack": ack_status(fault, now, settings),
        "ack_due_at": (fault.notified_at + timedelta(minutes=settings.ack_within_min)).isoformat(),
        "resolved_at": fault.resolved_at.isoformat() if fault.resolved_at else None,
    }
