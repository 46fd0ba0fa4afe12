"""SLA accounting per month: acknowledgements, critical swaps, network availability, outage credits, monitoring gaps.

The rules are pure functions over plain values (numbers from Settings, times in aware UTC); `sla_report` reads the
database and applies them. Months are calendar months in UTC. docs/SLA.md maps every SLA sentence to this code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlmodel import Session, col, select

from fleet.clock import iso
from fleet.config import Settings
from fleet.errors import InputError
from fleet.health.model import Severity
from fleet.sla.clocks import (
    OUT_OF_SCOPE_REASON,
    SwapOutcome,
    ack_in_time,
    ack_status,
    clock_start,
    in_scope,
    swap_outcome,
)
from fleet.sla.credits import credit_month, measured_minutes, merge_outages, month_key, overlap_minutes
from fleet.sla.outages import CREDITED
from fleet.store.models import Fault, Outage, Resolution, Server, Site, Swap, SwapState, SweepRun, security_fault

Interval = tuple[datetime, datetime]


# --- pure rules --------------------------------------------------------------------------------------------------


def parse_month(text: str) -> tuple[datetime, datetime]:
    """'2026-10' -> [2026-10-01 00:00 UTC, 2026-11-01 00:00 UTC)."""
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})", text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InputError(f"--month wants YYYY-MM, got {text!r}")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 < year < 9999:
        # The report looks a little before and after the month; the calendar ends at year 1 and 9999.
        raise InputError(f"--month {text!r} is outside the years 0002 to 9998")
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def month_pieces(start: datetime, end: datetime) -> list[tuple[str, datetime, datetime]]:
    """An interval cut at month boundaries (UTC): [("2026-10", s, e), ("2026-11", s, e)]."""
    out = []
    cur = start
    while cur < end:
        _, m_end = parse_month(month_key(cur))
        piece_end = min(end, m_end)
        out.append((month_key(cur), cur, piece_end))
        cur = piece_end
    return out


def minutes(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60


def credit_periods(outage_minutes: float, settings: Settings) -> int:
    """Full 60-minute periods of one outage, counted only when it lasted longer than the threshold (1 h):
    59 and 60 minutes earn nothing, 61 minutes one period, 2 h 59 two."""
    if outage_minutes <= settings.outage_credit_after_min:
        return 0
    return int(outage_minutes // 60)


def _cents(value: Fraction) -> int:
    # Half-up to the cent: the customer never loses half a cent to rounding.
    return int((value * 2 + 1) // 2)


def credit_cents(
    periods: int, monthly_fee_cents: int, billing: str, settings: Settings, *, annual_fee_cents: int | None = None
) -> tuple[int, bool]:
    """The month's credit for this many periods, and whether the cap applied.

    Monthly billing: periods x 3.3 % of the monthly fee, at most 50 % of it. Annual billing: the annual payment is
    the stored annual fee (a discounted annual price), or twelve monthly fees when none is stored; periods x 0.27 %
    of it, at most 1/24 of it.
    """
    if billing == "annual":
        fee = Fraction(annual_fee_cents if annual_fee_cents is not None else monthly_fee_cents * 12)
        raw = fee * Fraction(str(settings.outage_credit_per_hour_annual_pct)) / 100 * periods
        cap = fee * Fraction(settings.outage_credit_cap_annual_fraction).limit_denominator(10_000)
    else:
        fee = Fraction(monthly_fee_cents)
        raw = fee * Fraction(str(settings.outage_credit_per_hour_pct)) / 100 * periods
        cap = fee * Fraction(str(settings.outage_credit_cap_monthly_pct)) / 100
    return (_cents(cap), True) if raw > cap else (_cents(raw), False)


def availability_pct(down_minutes: float, measured_minutes: float) -> float | None:
    """Availability over the minutes monitoring saw; None when it saw none (nothing is claimed)."""
    return 100.0 * (1 - down_minutes / measured_minutes) if measured_minutes > 0 else None


def clip(a: datetime, b: datetime, lo: datetime, hi: datetime) -> Interval | None:
    s, e = max(a, lo), min(b, hi)
    return (s, e) if e > s else None


def monitoring_gaps(
    starts: Iterable[datetime], period_start: datetime, period_end: datetime, interval: timedelta
) -> list[Interval]:
    """Stretches of the period longer than the monitoring interval with no sweep starting: between consecutive sweep
    starts, and from the last one to the period's end. Give the last sweep before the period too, or the period
    begins with a gap."""
    points = sorted(t for t in starts if t < period_end)
    before = [t for t in points if t < period_start]
    inside = [t for t in points if t >= period_start]
    prev = before[-1] if before else period_start
    out: list[Interval] = []
    for t in [*inside, period_end]:
        if t - prev > interval:
            piece = clip(prev, t, period_start, period_end)
            if piece:
                out.append(piece)
        prev = t
    return out


# --- the report --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    month: str
    start: datetime
    end: datetime  # the month's end, or now for the running month


def _servers(session: Session, site: str | None) -> list[tuple[Server, Site]]:
    q = select(Server, Site).join(Site, col(Site.id) == Server.site_id)
    if site:
        q = q.where(Site.code == site)
    return list(session.exec(q.order_by(col(Server.hostname))).all())


def _ack_stats(faults: Sequence[Fault], now: datetime, settings: Settings) -> dict[str, Any]:
    ok = late = pending = 0
    for f in faults:
        if f.acknowledged_at is not None:
            if ack_in_time(f.notified_at, f.acknowledged_at, settings):
                ok += 1
            else:
                late += 1
        elif ack_status(f, now, settings) == "overdue":
            late += 1
        else:
            pending += 1
    decided = ok + late
    return {"alerts": len(faults), "within": ok, "late": late, "pending": pending,
            "within_pct": round(100 * ok / decided, 2) if decided else None}  # fmt: skip


def _critical_faults(session: Session, ids: Sequence[int | None], start: datetime, end: datetime) -> list[Fault]:
    """The critical faults whose clock started in the period, whatever closed them (a swap, a hand resolution, a
    recovery) and whether or not a swap was ever planned; a fault cancelled as not a fault is not one."""
    rows = session.exec(
        select(Fault).where(
            col(Fault.server_id).in_(ids),
            Fault.severity == Severity.CRITICAL,
            col(Fault.parent_id).is_(None),
            ~security_fault(),
        )
    ).all()
    return [f for f in rows if start <= clock_start(f) < end and f.resolution != Resolution.CANCELLED]


def _fixed_at(session: Session, faults: Sequence[Fault]) -> dict[int, datetime | None]:
    """When each fault's part was back: its swap's done time, else the time the fault was closed, else None."""
    done = {
        sw.fault_id: sw.done_at
        for sw in session.exec(
            select(Swap).where(col(Swap.fault_id).in_([f.id for f in faults]), Swap.state == SwapState.DONE)
        ).all()
    }
    return {f.id or 0: done.get(f.id or 0) or f.resolved_at for f in faults}


def _swap_stats(faults: Sequence[Fault], fixed: dict[int, datetime | None], now: datetime,
                settings: Settings) -> dict[str, Any]:  # fmt: skip
    outcomes = [swap_outcome(clock_start(f), fixed.get(f.id or 0), now, settings) for f in faults]
    in_target = sum(o == SwapOutcome.WITHIN_TARGET for o in outcomes)
    return {"critical_swaps": len(outcomes), "within_target": in_target,
            "within_limit": in_target + sum(o == SwapOutcome.WITHIN_LIMIT for o in outcomes),
            "late": sum(o == SwapOutcome.LATE for o in outcomes),
            "pending": sum(o == SwapOutcome.PENDING for o in outcomes),
            "target_min": settings.critical_target_min, "limit_min": settings.critical_limit_min}  # fmt: skip


def _outage_floor(session: Session, ids: list[int], m_start: datetime) -> datetime:
    """Where the report has to look back from: the start of the earliest network outage still open at the month's
    start (its periods may be credited this month), else the month's start."""
    first = session.exec(
        select(Outage.start_at)
        .where(
            col(Outage.server_id).in_(ids),
            col(Outage.cause).in_(CREDITED),
            Outage.start_at < m_start,
            col(Outage.end_at).is_(None) | (col(Outage.end_at) >= m_start),
        )
        .order_by(col(Outage.start_at))
        .limit(1)
    ).first()
    return min(first, m_start) if first else m_start


def _gaps(
    session: Session, m_start: datetime, end: datetime, site: str | None, settings: Settings, floor: datetime
) -> tuple[list[Interval], int]:
    """Monitoring gaps from `floor` to the period's end (before the fleet's first sweep, all of it is a gap), and
    the number of sweeps that started in the month."""
    sweep_q = select(SweepRun.started_at).where(SweepRun.started_at < end)
    if site:
        sweep_q = sweep_q.where(col(SweepRun.site_code).is_(None) | (SweepRun.site_code == site))
    last_before = session.exec(
        sweep_q.where(SweepRun.started_at < floor).order_by(col(SweepRun.started_at).desc()).limit(1)
    ).all()
    inside = session.exec(sweep_q.where(SweepRun.started_at >= floor)).all()
    interval = timedelta(minutes=settings.monitoring_interval_min)
    return monitoring_gaps([*last_before, *inside], floor, end, interval), sum(t >= m_start for t in inside)


def _outage_figures(
    session: Session,
    covered: dict[Any, tuple[Server, Site]],
    month: str,
    m_start: datetime,
    end: datetime,
    now: datetime,
    gaps: list[Interval],
    settings: Settings,
) -> dict[str, Any]:
    """Availability (network outages in the month's measured minutes), credits (merged network outages that ended
    in the month, gap minutes taken out) and every outage of the month with its cause."""
    ids = [i for i in covered if i is not None]
    rows = session.exec(
        select(Outage).where(
            col(Outage.server_id).in_(ids),
            Outage.start_at < end,
            col(Outage.end_at).is_(None) | (col(Outage.end_at) >= _outage_floor(session, ids, m_start)),
        )
    ).all()
    listed = []
    network: dict[int, list[tuple[int, datetime, datetime | None]]] = {}
    for o in sorted(rows, key=lambda o: (o.start_at, o.id or 0)):
        credited = o.cause in CREDITED
        if credited:
            network.setdefault(o.server_id, []).append((o.id or 0, o.start_at, o.end_at))
        if clip(o.start_at, o.end_at or now, m_start, end) or (o.end_at is None and o.start_at < end):
            server, st = covered[o.server_id]
            listed.append({"outage_id": o.id, "server": server.hostname, "site": st.code, "service": o.service,
                           "cause": o.cause, "start": iso(o.start_at),
                           "end": iso(o.end_at), "credited": credited})  # fmt: skip
    month_measured = minutes(m_start, end) - overlap_minutes((m_start, end), gaps)
    avail_rows: list[dict[str, Any]] = []
    credit_rows: list[dict[str, Any]] = []
    total = 0
    for sid in ids:
        server, st = covered[sid]
        merged = merge_outages(network.get(sid, []), now)
        down = sum(
            measured_minutes(iv, gaps) for iv in (clip(m.start, m.end, m_start, end) for m in merged) if iv is not None
        )
        pct = availability_pct(down, month_measured)
        avail_rows.append({"server": server.hostname, "site": st.code, "down_minutes": round(down, 1),
                           "measured": pct is not None, "availability_pct": None if pct is None else round(pct, 4),
                           "met": None if pct is None else pct >= settings.network_availability})  # fmt: skip
        pieces: list[dict[str, Any]] = []
        for m in merged:
            if credit_month(m) != month or m.end > end:
                continue
            seen = measured_minutes((m.start, m.end), gaps)
            pieces.append({"outage_ids": m.ids, "start": iso(m.start), "end": iso(m.end),
                           "minutes": round(seen, 1), "unmeasured_minutes": round(minutes(m.start, m.end) - seen, 1),
                           "periods": credit_periods(seen, settings), "ongoing": m.ongoing})  # fmt: skip
        periods = sum(p["periods"] for p in pieces)
        if periods:
            cents, capped = credit_cents(periods, server.monthly_fee_cents, server.billing, settings,
                                         annual_fee_cents=server.annual_fee_cents)  # fmt: skip
            total += cents
            credit_rows.append({"server": server.hostname, "site": st.code, "plan": server.plan,
                                "billing": server.billing, "periods": periods, "credit_cents": cents,
                                "capped": capped, "outages": pieces})  # fmt: skip
    return {
        "availability": {
            "target_pct": settings.network_availability,
            "servers": avail_rows,
            "breaches": sum(r["met"] is False for r in avail_rows),
        },
        "credits": {"servers": credit_rows, "total_cents": total},
        "outages": listed,
    }


def sla_report(
    session: Session, month: str, *, now: datetime, settings: Settings, site: str | None = None
) -> dict[str, Any]:
    """The month's SLA figures (servers on VPS and shared plans left out, as the SLA says)."""
    m_start, m_end = parse_month(month)
    end = min(m_end, now) if m_start <= now else m_end
    servers = _servers(session, site)
    covered = {s.id: (s, st) for s, st in servers if in_scope(s.plan)}
    excluded = [s.hostname for s, _ in servers if not in_scope(s.plan)]
    ids = [i for i in covered if i is not None]

    # A server's feed attached to its rack's power fault is not an alert of its own: the rack fault is (one alert,
    # one clock, one work order; fleet.faults.rack).
    faults = list(session.exec(select(Fault).where(
        col(Fault.server_id).in_(ids), Fault.notified_at >= m_start, Fault.notified_at < m_end,
        col(Fault.parent_id).is_(None), ~security_fault())).all())  # fmt: skip
    critical = _critical_faults(session, ids, m_start, m_end)
    fixed = _fixed_at(session, critical)

    gaps, sweeps_inside = _gaps(session, m_start, end, site, settings, _outage_floor(session, ids, m_start))
    outages = _outage_figures(session, covered, month, m_start, end, now, gaps, settings)
    month_gaps = [iv for iv in (clip(s, e, m_start, end) for s, e in gaps) if iv]
    gap_minutes = [minutes(s, e) for s, e in month_gaps]

    return {
        "month": month,
        "site": site,
        "period": {"start": iso(m_start), "end": iso(end), "complete": end == m_end},
        "acknowledgement": {**_ack_stats(faults, now, settings), "within_min": settings.ack_within_min},
        "swaps": _swap_stats(critical, fixed, now, settings),
        "availability": outages["availability"],
        "credits": outages["credits"],
        "outages": outages["outages"],
        "monitoring": {
            "interval_min": settings.monitoring_interval_min,
            "sweeps": sweeps_inside,
            "measured_minutes": round(minutes(m_start, end) - sum(gap_minutes), 1),
            "gaps": [
                {"start": iso(s), "end": iso(e), "minutes": round(m, 1)}
                for (s, e), m in zip(month_gaps, gap_minutes, strict=True)
            ],
            "gap_minutes": round(sum(gap_minutes), 1),
            "longest_gap_minutes": round(max(gap_minutes, default=0.0), 1),
        },
        "excluded": {"servers": excluded, "reason": OUT_OF_SCOPE_REASON},
    }
