"""What the dashboard shows: per site, servers by health, open faults by severity, swaps due with their deadlines,
stock alerts, and the last sweep. Plain dataclasses read in one session, so the TUI, JSON and tests share them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from fleet.store.models import Fault, PartModel, Server, Site, Stock, Swap, SweepRun

HEALTHS = ("ok", "warning", "critical", "unknown")
OPEN_SWAP_STATES = ("planned", "awaiting_customer", "agreed", "in_progress")
FAR = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SiteSummary:
    code: str
    name: str
    timezone: str
    health: dict[str, int]  # every key of HEALTHS, zero when none
    faults: dict[str, int]  # {"critical": n, "non-critical": n}, open faults only
    unacknowledged: int
    swaps_due: int
    stock_alerts: int

    @property
    def servers(self) -> int:
        return sum(self.health.values())


@dataclass(frozen=True, slots=True)
class DueSwap:
    swap_id: int
    site: str
    hostname: str
    slot: str
    critical: bool
    state: str
    target_at: datetime | None
    hard_limit_at: datetime | None
    planned_start: datetime | None
    warning: str | None


@dataclass(frozen=True, slots=True)
class StockAlert:
    site: str
    part_number: str
    kind: str
    bin: str
    available: int
    reorder_level: int


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
    swaps: list[DueSwap]  # deadline order: hard limit first, then planned start
    stock_alerts: list[StockAlert]
    last_sweep: LastSweep | None
    loaded_at: datetime
    totals: dict[str, int] = field(default_factory=dict)


def _deadline_key(s: DueSwap) -> tuple[bool, datetime, datetime, int]:
    # Swaps without a hard limit (non-critical, at a window) come after every swap that has one.
    return (s.hard_limit_at is None, s.hard_limit_at or FAR, s.planned_start or FAR, s.swap_id)


def load_dashboard(session: Session, *, now: datetime) -> Dashboard:
    sites = list(session.exec(select(Site).order_by(Site.code)).all())
    by_id = {s.id: s for s in sites}

    health: dict[int, dict[str, int]] = {s.id: dict.fromkeys(HEALTHS, 0) for s in sites if s.id is not None}
    for site_id, h, n in session.exec(
        select(Server.site_id, Server.health, func.count()).group_by(col(Server.site_id), col(Server.health))
    ).all():
        bucket = health[site_id]
        key = h if h in bucket else "unknown"
        bucket[key] += n

    faults: dict[int, dict[str, int]] = {i: {"critical": 0, "non-critical": 0} for i in health}
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

    swaps = []
    for swap, fault, server in session.exec(
        select(Swap, Fault, Server)
        .join(Fault, col(Fault.id) == Swap.fault_id)
        .join(Server, col(Server.id) == Swap.server_id)
        .where(col(Swap.state).in_(OPEN_SWAP_STATES))
    ).all():
        assert swap.id is not None
        swaps.append(DueSwap(swap_id=swap.id, site=by_id[server.site_id].code, hostname=server.hostname,
                             slot=fault.slot, critical=swap.critical, state=swap.state, target_at=swap.target_at,
                             hard_limit_at=swap.hard_limit_at, planned_start=swap.planned_start,
                             warning=swap.warning))  # fmt: skip
    swaps.sort(key=_deadline_key)

    alerts = []
    for stock, part in session.exec(
        select(Stock, PartModel)
        .join(PartModel, col(PartModel.id) == Stock.part_model_id)
        .where(Stock.on_hand - Stock.reserved <= Stock.reorder_level)
    ).all():
        alerts.append(StockAlert(site=by_id[stock.site_id].code, part_number=part.part_number, kind=part.kind,
                                 bin=stock.bin, available=stock.on_hand - stock.reserved,
                                 reorder_level=stock.reorder_level))  # fmt: skip
    alerts.sort(key=lambda a: (a.available - a.reorder_level, a.site, a.part_number))

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
