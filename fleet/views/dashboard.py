"""What the dashboard shows: per site, servers by health, open faults by severity, swaps due with their deadlines,
stock alerts, and the last sweep. Plain dataclasses read in one session, so the TUI, JSON and tests share them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from fleet.config import Settings
from fleet.health.model import Severity
from fleet.store.models import Fault, Server, Site, SweepRun
from fleet.views.queue import WorkItem, work_queue
from fleet.views.stock import StockLine, stock_lines

HEALTHS = ("ok", "warning", "critical", "unknown")


@dataclass(frozen=True, slots=True)
class SiteSummary:
    code: str
    name: str
    timezone: str
    health: dict[str, int]  # every key of HEALTHS, zero when none
    faults: dict[str, int]  # open faults per severity (every Severity value, zero when none)
    unacknowledged: int
    swaps_due: int
    stock_alerts: int

    @property
    def servers(self) -> int:
        return sum(self.health.values())


@dataclass(frozen=True, slots=True)
class LastSweep:
    started_at: datetime
    finished_at: datetime | None
    status: int | None
    polled: int
    unreachable: int
    servers: int = 0  # how many the sweep is polling (known from its start: progress is polled of servers)
    abandoned: bool = False  # its process died before it finished (see fleet.sweep.runs)

    @property
    def state(self) -> str:
        """running, abandoned, or the exit status it ended with."""
        if self.abandoned:
            return "abandoned"
        return "running" if self.finished_at is None else f"exit {self.status}"


@dataclass(frozen=True, slots=True)
class Dashboard:
    sites: list[SiteSummary]
    swaps: list[WorkItem]  # the work queue's rows and order (fleet.views.queue)
    stock_alerts: list[StockLine]  # the low lines of `fleet stock`, in its order (fleet.views.stock)
    last_sweep: LastSweep | None
    loaded_at: datetime
    totals: dict[str, int] = field(default_factory=dict)


def load_dashboard(session: Session, *, now: datetime, settings: Settings) -> Dashboard:
    sites = list(session.exec(select(Site).order_by(Site.code)).all())

    health: dict[int, dict[str, int]] = {s.id: dict.fromkeys(HEALTHS, 0) for s in sites if s.id is not None}
    for site_id, h, n in session.exec(
        select(Server.site_id, Server.health, func.count()).group_by(col(Server.site_id), col(Server.health))
    ).all():
        bucket = health[site_id]
        key = h if h in bucket else "unknown"
        bucket[key] += n

    faults: dict[int, dict[str, int]] = {i: {sev.value: 0 for sev in Severity} for i in health}
    unacked: dict[int, int] = dict.fromkeys(health, 0)
    for site_id, severity, acked, n in session.exec(
        select(Server.site_id, Fault.severity, col(Fault.acknowledged_at).is_not(None), func.count())
        .join(Server, col(Server.id) == Fault.server_id)
        .where(col(Fault.resolved_at).is_(None))
        .group_by(col(Server.site_id), col(Fault.severity), col(Fault.acknowledged_at).is_not(None))
    ).all():
        faults[site_id][severity] = faults[site_id].get(severity, 0) + n
        if not acked:
            unacked[site_id] += n

    swaps = work_queue(session, now=now, settings=settings)
    alerts = stock_lines(session, now=now, settings=settings, low_only=True)

    sweep = session.exec(select(SweepRun).order_by(col(SweepRun.started_at).desc()).limit(1)).first()
    last = (
        LastSweep(
            sweep.started_at,
            sweep.finished_at,
            sweep.status,
            sweep.polled,
            sweep.unreachable,
            sweep.servers,
            sweep.abandoned,
        )
        if sweep
        else None
    )

    summaries = [
        SiteSummary(
            code=s.code,
            name=s.name,
            timezone=s.timezone,
            health=health[s.id],  # type: ignore[index]
            faults=faults[s.id],  # type: ignore[index]
            unacknowledged=unacked[s.id],  # type: ignore[index]
            swaps_due=sum(1 for w in swaps if w.site == s.code),
            stock_alerts=sum(1 for a in alerts if a.site == s.code),
        )
        for s in sites
    ]
    totals = {h: sum(s.health[h] for s in summaries) for h in HEALTHS}
    return Dashboard(sites=summaries, swaps=swaps, stock_alerts=alerts, last_sweep=last, loaded_at=now, totals=totals)
