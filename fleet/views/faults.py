"""Open faults as the console lists them: severity, the SLA clocks (acknowledge within the hour, swap deadlines)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from fleet.config import Settings
from fleet.store.models import Fault, Server, Site


@dataclass(frozen=True, slots=True)
class FaultRow:
    id: int
    server_id: int
    hostname: str
    site: str
    slot: str
    kind: str
    problem: str
    severity: str
    state: str
    source: str
    evidence: str
    notified_at: datetime
    ack_due_at: datetime  # the SLA's "a technician looks within the hour"
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    hard_limit_at: datetime | None  # critical only: clock start + the hard limit
    flapping: bool

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


def fault_rows(session: Session, *, settings: Settings, site: str | None = None) -> list[FaultRow]:
    """Open faults: critical first, then the oldest notification."""
    q = (
        select(Fault, Server, Site)
        .join(Server, col(Server.id) == Fault.server_id)
        .join(Site, col(Site.id) == Server.site_id)
        .where(col(Fault.resolved_at).is_(None))
    )
    if site:
        q = q.where(Site.code == site)
    rows = []
    for f, server, st in session.exec(q).all():
        assert f.id is not None and server.id is not None
        limit = (f.critical_since or f.notified_at) + timedelta(minutes=settings.critical_limit_min)
        rows.append(
            FaultRow(
                id=f.id,
                server_id=server.id,
                hostname=server.hostname,
                site=st.code,
                slot=f.slot,
                kind=f.kind,
                problem=f.problem,
                severity=f.severity,
                state=f.state,
                source=f.source,
                evidence=f.evidence,
                notified_at=f.notified_at,
                ack_due_at=f.notified_at + timedelta(minutes=settings.ack_within_min),
                acknowledged_at=f.acknowledged_at,
                acknowledged_by=f.acknowledged_by,
                hard_limit_at=limit if f.severity == "critical" else None,
                flapping=f.flapping,
            )
        )
    rows.sort(key=lambda r: (r.severity != "critical", r.notified_at, r.id))
    return rows
