"""Open faults as people and scripts read them: `fleet faults` (table and JSON) and the console's faults view.

One list, one order: critical first (severity rank, not the severity's text), then the nearest deadline (a critical
fault's hard limit, a non-critical one's acknowledge-by), then the fault id. The clocks come from fleet.sla.clocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from fleet.clock import iso
from fleet.config import Settings
from fleet.health.model import Severity
from fleet.sla.clocks import AckStatus, ack_deadline, ack_status, critical_deadlines
from fleet.store.models import Fault, FaultSource, FaultState, Resolution, Server, Site, security_fault


@dataclass(frozen=True, slots=True)
class FaultRow:
    id: int
    server_id: int
    hostname: str
    site: str
    site_tz: str
    slot: str
    kind: str
    problem: str
    severity: Severity
    state: FaultState
    source: FaultSource
    evidence: str
    flapping: bool
    flaps: int
    detected_at: datetime
    notified_at: datetime
    critical_since: datetime | None
    target_at: datetime | None  # critical only: clock start + the target
    hard_limit_at: datetime | None  # critical only: clock start + the hard limit
    last_seen_at: datetime | None
    ack_due_at: datetime | None  # the SLA's "a technician looks within the hour"; None for a security fault
    ack: AckStatus  # at the time the list was read
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolution: Resolution | None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def critical(self) -> bool:
        return self.severity == Severity.CRITICAL

    @property
    def deadline(self) -> datetime | None:
        """The next thing due: the swap's hard limit for a critical fault, else the look within the hour; None for a
        security fault, which has neither."""
        return self.hard_limit_at or self.ack_due_at

    def to_json(self) -> dict[str, Any]:
        """`fleet faults --json` (docs/CLI.md)."""
        return {
            "id": self.id,
            "server": self.hostname,
            "site": self.site,
            "slot": self.slot,
            "kind": self.kind,
            "problem": self.problem,
            "severity": self.severity.value,
            "state": self.state.value,
            "evidence": self.evidence,
            "source": self.source.value,
            "flapping": self.flapping,
            "flaps": self.flaps,
            "detected_at": iso(self.detected_at),
            "notified_at": iso(self.notified_at),
            "critical_since": iso(self.critical_since),
            "target_at": iso(self.target_at),
            "hard_limit_at": iso(self.hard_limit_at),
            "last_seen_at": iso(self.last_seen_at),
            "acknowledged_at": iso(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
            "ack": self.ack.value,
            "ack_due_at": iso(self.ack_due_at),
            "resolved_at": iso(self.resolved_at),
            "resolution": self.resolution.value if self.resolution else None,
        }


def fault_order(row: FaultRow) -> tuple[int, bool, datetime, int]:
    """Critical first, then the nearest deadline (a fault without one, a security finding, after those with one of
    the same severity: a server down comes before a controller setting), then the oldest fault."""
    deadline = row.deadline
    return (row.severity.rank, deadline is None, deadline or row.notified_at, row.id)


def fault_row(fault: Fault, server: Server, site: Site, *, now: datetime, settings: Settings) -> FaultRow:
    assert fault.id is not None and server.id is not None
    deadlines = critical_deadlines(fault, settings)
    return FaultRow(
        id=fault.id,
        server_id=server.id,
        hostname=server.hostname,
        site=site.code,
        site_tz=site.timezone,
        slot=fault.slot,
        kind=fault.kind,
        problem=fault.problem,
        severity=Severity(fault.severity),
        state=FaultState(fault.state),
        source=FaultSource(fault.source),
        evidence=fault.evidence,
        flapping=fault.flapping,
        flaps=fault.flaps,
        detected_at=fault.detected_at,
        notified_at=fault.notified_at,
        critical_since=fault.critical_since,
        target_at=deadlines.target if deadlines else None,
        hard_limit_at=deadlines.limit if deadlines else None,
        last_seen_at=fault.last_seen_at,
        ack_due_at=ack_deadline(fault, settings),
        ack=ack_status(fault, now, settings),
        acknowledged_at=fault.acknowledged_at,
        acknowledged_by=fault.acknowledged_by,
        resolved_at=fault.resolved_at,
        resolution=Resolution(fault.resolution) if fault.resolution else None,
    )


def fault_rows(
    session: Session,
    *,
    now: datetime,
    settings: Settings,
    site: str | None = None,
    fault_id: int | None = None,
    security: bool = False,
) -> list[FaultRow]:
    """Open faults (or the one fault `fault_id`, open or not), in `fault_order`. With `security`, only the security
    faults (BMC audit findings, docs/SECURITY.md); without, every fault, those included."""
    q = (
        select(Fault, Server, Site)
        .join(Server, col(Server.id) == Fault.server_id)
        .join(Site, col(Site.id) == Server.site_id)
    )
    q = q.where(col(Fault.id) == fault_id) if fault_id is not None else q.where(col(Fault.resolved_at).is_(None))
    if site:
        q = q.where(Site.code == site)
    if security:
        q = q.where(security_fault())
    rows = [fault_row(f, server, st, now=now, settings=settings) for f, server, st in session.exec(q).all()]
    rows.sort(key=fault_order)
    return rows


def fault_site_timezone(session: Session, fault_id: int) -> str | None:
    """The zone of the site a fault's server stands in (times about the fault are read there)."""
    return session.exec(
        select(Site.timezone)
        .join(Server, col(Server.site_id) == Site.id)
        .join(Fault, col(Fault.server_id) == Server.id)
        .where(col(Fault.id) == fault_id)
    ).first()
