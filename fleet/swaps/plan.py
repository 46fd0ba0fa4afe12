"""Swap scheduling inside the SLA: the service between the database and the pure planner (fleet/swaps/planner.py) and
window proposer (fleet/swaps/windows.py). Every change to a swap or a window is audited; callers hold one write session,
so a plan is written whole or not at all.

Critical faults get a Swap with target (clock + 1 h) and hard limit (clock + 4 h), a technician and a start.
Non-critical faults are batched per server: one mail to the customer with windows to choose from; the agreed window
is recorded with `agree_window`; a customer who does not answer in time is escalated to staff.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlmodel import Session, col, select

from fleet.clock import iso
from fleet.config import Settings
from fleet.health.model import Severity
from fleet.sla.clocks import swap_deadlines
from fleet.sla.swap_time import swap_duration
from fleet.store.audit import record, snapshot
from fleet.store.models import (
    ACTIVE_SWAP_STATES,
    CLOSED_FAULT_STATES,
    OPEN_TRANSFER_STATES,
    REPLANNABLE_SWAP_STATES,
    Audit,
    Fault,
    MaintenanceWindow,
    Reservation,
    ReservationState,
    Server,
    Site,
    Swap,
    SwapState,
    Technician,
    Transfer,
    WindowState,
    security_fault,
)
from fleet.swaps.planner import Assignment, Job, Tech, disk_warning, plan
from fleet.swaps.windows import Interval, expand, parse_weekly, subtract, zone

PLAN_HORIZON = timedelta(days=7)  # technician hours looked at beyond the latest hard limit
SWAP_FIELDS = ("technician_id", "planned_start", "target_at", "hard_limit_at", "state", "critical", "window_id",
               "reservation_id", "warning", "note")  # fmt: skip


def technician_hours(tech: Technician, site_tz: str, start: datetime, end: datetime) -> list[Interval]:
    """Shift and on-call hours in UTC between start and end (both count: on call means reachable for a swap)."""
    entries = parse_weekly(tech.shifts, f"technician {tech.name} shifts") + parse_weekly(
        tech.on_call, f"technician {tech.name} on_call"
    )
    return expand(entries, zone(site_tz), start, end)


# --- results -----------------------------------------------------------------------------------------------------


@dataclass
class PlannedSwap:
    swap_id: int
    fault_id: int
    server: str
    site: str
    technician: str | None
    start: datetime | None
    end: datetime | None
    target: datetime
    limit: datetime
    late: bool
    after_target: bool
    reason: str | None
    changed: bool

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        for k in ("start", "end", "target", "limit"):
            d[k] = iso(d[k])
        return d


@dataclass
class CustomerProposal:
    server: str
    customer: str | None
    swap_ids: list[int]
    window_ids: list[int]
    warning: str | None
    note: str | None
    mail: EmailMessage | None = field(default=None, repr=False)
    mail_name: str | None = None
    sent_to: str | None = None  # where `plan_swaps` delivered the mail: an .eml path or smtp://host:port

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k not in ("mail", "mail_name", "sent_to")}
        d["mail"] = self.sent_to
        return d


@dataclass
class PlanResult:
    critical: list[PlannedSwap] = field(default_factory=list)
    proposals: list[CustomerProposal] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)  # swap ids: customer did not answer in time
    cancelled: list[int] = field(default_factory=list)  # swap ids whose fault went away before the swap

    @property
    def late(self) -> list[PlannedSwap]:
        return [p for p in self.critical if p.late]

    @property
    def planned(self) -> int:
        """Swaps in this run's plan: critical ones planned plus non-critical ones put before a customer."""
        return len(self.critical) + sum(len(p.swap_ids) for p in self.proposals)

    @property
    def planned_now(self) -> int:
        """Swaps this run planned or moved: critical swaps new or changed, plus non-critical ones newly put before a
        customer (a critical swap re-planned unchanged every round is not counted again)."""
        return sum(p.changed for p in self.critical) + sum(len(p.swap_ids) for p in self.proposals)

    def as_dict(self) -> dict[str, Any]:
        return {
            "critical": [p.as_dict() for p in self.critical],
            "planned": self.planned,
            "late": [p.swap_id for p in self.late],
            "proposals": [p.as_dict() for p in self.proposals],
            "escalated": self.escalated,
            "cancelled": self.cancelled,
        }


# --- helpers over the session ------------------------------------------------------------------------------------


def _audit(session: Session, now: datetime, actor: str, action: str, obj: Any, before: dict[str, Any] | None) -> None:
    session.flush()
    record(session, at=now, actor=actor, action=action, entity=type(obj).__tablename__, entity_id=obj.id,
           before=before, after=snapshot(obj))  # fmt: skip


def _open_faults(session: Session, severity: Severity, site: str | None) -> list[tuple[Fault, Server, Site]]:
    q = (
        select(Fault, Server, Site)
        .join(Server, col(Server.id) == Fault.server_id)
        .join(Site, col(Site.id) == Server.site_id)
        .where(col(Fault.resolved_at).is_(None), col(Fault.state).not_in(CLOSED_FAULT_STATES))
        .where(Fault.severity == severity)
        # A security fault's work order is made by the audit (fleet.faults.security): no SLA clock, no customer window.
        # A server's lost feed attached to its rack's power fault: the rack's one inspection covers it.
        .where(~security_fault(), col(Fault.parent_id).is_(None))
    )
    if site:
        q = q.where(Site.code == site)
    return list(session.exec(q.order_by(col(Fault.id))).all())


def _active_swap(session: Session, fault_id: int) -> Swap | None:
    return _active_swaps(session, [fault_id]).get(fault_id)


def _active_swaps(session: Session, fault_ids: list[int]) -> dict[int, Swap]:
    """The live swap of each fault (one query for the lot: planning a thousand faults stays fast)."""
    q = (
        select(Swap)
        .where(col(Swap.fault_id).in_(fault_ids), col(Swap.state).in_(ACTIVE_SWAP_STATES))
        .order_by(col(Swap.id))
    )
    return {sw.fault_id: sw for sw in session.exec(q).all()}  # the newest wins


def _site_technicians(session: Session, site_ids: set[int]) -> list[Technician]:
    q = select(Technician).where(col(Technician.site_id).in_(site_ids), Technician.active == True)  # noqa: E712
    return list(session.exec(q.order_by(col(Technician.id))).all())


def _busy(session: Session, settings: Settings, exclude: set[int]) -> dict[int, list[Interval]]:
    """Technician time already committed: swaps in progress and agreed windows, except the ones being re-planned."""
    busy: dict[int, list[Interval]] = defaultdict(list)
    q = (
        select(Swap, Fault)
        .join(Fault, col(Fault.id) == Swap.fault_id)
        .where(col(Swap.state).in_((SwapState.IN_PROGRESS, SwapState.AGREED)), col(Swap.technician_id).is_not(None))
    )
    for swap, fault in session.exec(q).all():
        if swap.id in exclude or swap.technician_id is None:
            continue
        start = swap.started_at if swap.state == SwapState.IN_PROGRESS else swap.planned_start
        if start is not None:
            busy[swap.technician_id].append((start, start + swap_duration(fault.kind, settings)))
    return busy


def _parts_ready(session: Session, fault_ids: list[int]) -> dict[int, tuple[datetime | None, bool]]:
    """fault -> (when the part is on site, whether that is known): an open transfer makes the swap wait for it."""
    q = select(Transfer).where(col(Transfer.fault_id).in_(fault_ids), col(Transfer.state).in_(OPEN_TRANSFER_STATES))
    by_fault: dict[int, list[Transfer]] = defaultdict(list)
    for t in session.exec(q).all():
        by_fault[t.fault_id or 0].append(t)
    out: dict[int, tuple[datetime | None, bool]] = {}
    for fid, transfers in by_fault.items():
        etas = [t.eta for t in transfers if t.eta is not None]
        out[fid] = (max(etas) if etas else None, len(etas) == len(transfers))
    return out


def _reservations(session: Session, fault_ids: list[int]) -> dict[int, int]:
    q = select(Reservation).where(
        col(Reservation.fault_id).in_(fault_ids), Reservation.state == ReservationState.ACTIVE
    )
    out: dict[int, int] = {}
    for r in session.exec(q.order_by(col(Reservation.id).desc())).all():
        out[r.fault_id or 0] = r.id or 0  # the oldest wins
    return out


PendingAudit = list[tuple[str, Any, dict[str, Any] | None]]


def _apply(
    session: Session,
    swap: Swap | None,
    values: dict[str, Any],
    now: datetime,
    actor: str,
    pending: PendingAudit | None = None,
) -> tuple[Swap, bool]:
    """Create or update a swap; audit only when something changed. With `pending`, the audit entries wait for one
    flush of the whole plan (a row by row flush makes planning a thousand faults several times slower)."""
    if swap is None:
        swap = Swap(**values)
        action, before = "swap.plan", None
    else:
        changes = {k: v for k, v in values.items() if getattr(swap, k) != v}
        if not changes:
            return swap, False  # untouched: no UPDATE, no audit entry (re-planning an unchanged fleet is cheap)
        before = snapshot(swap, SWAP_FIELDS)
        for k, v in changes.items():
            setattr(swap, k, v)
        action = "swap.replan"
    session.add(swap)
    if pending is None:
        _audit(session, now, actor, action, swap, before)
    else:
        pending.append((action, swap, before))
    return swap, True


def _flush_audits(session: Session, pending: PendingAudit, now: datetime, actor: str) -> None:
    session.flush()
    for action, obj, before in pending:
        record(session, at=now, actor=actor, action=action, entity=type(obj).__tablename__, entity_id=obj.id,
               before=before, after=snapshot(obj))  # fmt: skip


# --- critical ----------------------------------------------------------------------------------------------------


def _reserve_missing(session: Session, fault_ids: list[int], *, now: datetime, settings: Settings, actor: str) -> None:
    """A critical fault however it was opened has its spare reserved (or the no-spare flag) before it is planned:
    the technician's swap names a bin. Faults already flagged are not flagged again on every round."""
    from fleet.stock.reserve import active_reservations, reserve_for_fault

    flagged = set(
        session.exec(
            select(Audit.entity_id).where(
                Audit.entity == "fault", Audit.action == "fault.no_spare_in_reach", col(Audit.entity_id).in_(fault_ids)
            )
        ).all()
    )
    for fault_id in fault_ids:
        if fault_id not in flagged and not active_reservations(session, fault_id):
            reserve_for_fault(session, fault_id, now=now, settings=settings, actor=actor)


def plan_critical(
    session: Session, *, now: datetime, settings: Settings, site: str | None = None, actor: str = "fleet"
) -> list[PlannedSwap]:
    """(Re)plan every open critical fault not yet being worked on: create or update its Swap, audited.

    Swaps already in progress keep their technician busy; everything else is planned again from now, so a new fault
    with an earlier deadline moves later ones (and a plan that cannot meet a limit says so as soon as it is known).
    """
    rows = _open_faults(session, Severity.CRITICAL, site)
    ids = [f.id for f, _, _ in rows if f.id is not None]
    _reserve_missing(session, ids, now=now, settings=settings, actor=actor)
    live, ready_at, reserved = _active_swaps(session, ids), _parts_ready(session, ids), _reservations(session, ids)
    existing: dict[int, Swap | None] = {}
    jobs: list[Job] = []
    info: dict[int, tuple[Fault, Server, Site]] = {}
    for fault, server, st in rows:
        assert fault.id is not None
        swap = live.get(fault.id)
        if swap is not None and swap.state == SwapState.IN_PROGRESS:
            continue
        existing[fault.id] = swap
        info[fault.id] = (fault, server, st)
        clock = swap_deadlines(fault, settings)
        target, limit = clock.target, clock.limit
        ready, known = ready_at.get(fault.id, (None, True))
        jobs.append(Job(fault.id, st.id, swap_duration(fault.kind, settings), target, limit, ready, known, st.timezone))
    if not jobs:
        return []
    sites = {st.id: st for _, _, st in info.values() if st.id is not None}
    techs_rows = _site_technicians(session, set(sites))
    replanned = {s.id for s in existing.values() if s is not None and s.id is not None}
    busy = _busy(session, settings, replanned)
    horizon_end = max(j.limit for j in jobs) + timedelta(days=settings.plan_horizon_days)
    techs = []
    for t in techs_rows:
        hours = technician_hours(t, sites[t.site_id].timezone, now, horizon_end)
        techs.append(Tech(t.id, t.site_id, subtract(hours, busy[t.id or 0])))
    names = {t.id: t.name for t in techs_rows}
    pending: PendingAudit = []
    written = []
    for a in plan(jobs, techs, now):
        fault, server, st = info[int(a.key)]  # type: ignore[call-overload]
        values = _critical_values(a, fault, server, settings, reserved.get(fault.id or 0))
        written.append((a, fault, server, st, *_apply(session, existing[fault.id or 0], values, now, actor, pending)))
    _flush_audits(session, pending, now, actor)
    out: list[PlannedSwap] = []
    for a, fault, server, st, swap, changed in written:
        assert swap.id is not None and fault.id is not None
        tech_name = names.get(a.technician) if isinstance(a.technician, int) else None
        out.append(PlannedSwap(swap.id, fault.id, server.hostname, st.code, tech_name, a.start, a.end, a.target,
                               a.limit, a.late, a.after_target, a.reason, changed))  # fmt: skip
    return out


def _critical_values(
    a: Assignment, fault: Fault, server: Server, settings: Settings, reservation_id: int | None
) -> dict[str, Any]:
    note = a.reason
    if note is None and a.after_target and a.end is not None:
        note = f"after the {settings.critical_target_min}-minute target, inside the hard limit"
    return {
        "fault_id": fault.id,
        "server_id": server.id,
        "technician_id": a.technician,
        "critical": True,
        "state": SwapState.PLANNED,
        "window_id": None,  # an escalated fault no longer waits for the customer's window
        "planned_start": a.start,
        "target_at": a.target,
        "hard_limit_at": a.limit,
        "reservation_id": reservation_id,
        "warning": disk_warning(fault.kind, server.backup_option),
        "note": note,
    }


def answer_deadline(proposed_at: datetime, first_window: datetime, settings: Settings) -> datetime:
    """When the customer's choice is due: `customer_answer_within_h` after the proposal, but always before the first
    window offered (by `answer_before_window_min`), or that window could pass unanswered."""
    return min(
        proposed_at + timedelta(hours=settings.customer_answer_within_h),
        first_window - timedelta(minutes=settings.answer_before_window_min),
    )


def escalations(session: Session, *, now: datetime, settings: Settings, site: str | None = None) -> dict[int, str]:
    """Swaps awaiting a customer who has not answered by the answer deadline of the first proposal (or for whom no
    window could be proposed): swap id -> why, for staff to call the customer."""
    q = (
        select(Swap, Fault, Server, Site)
        .join(Fault, col(Fault.id) == Swap.fault_id)
        .join(Server, col(Server.id) == Swap.server_id)
        .join(Site, col(Site.id) == Server.site_id)
        .where(Swap.state == SwapState.AWAITING_CUSTOMER)
    )
    if site:
        q = q.where(Site.code == site)
    out: dict[int, str] = {}
    for swap, fault, server, _st in session.exec(q).all():
        wq = select(MaintenanceWindow).where(
            MaintenanceWindow.server_id == server.id, MaintenanceWindow.proposed_at >= fault.notified_at
        )
        windows = list(session.exec(wq).all())
        if not any(
            w.state == WindowState.AGREED or (w.state == WindowState.PROPOSED and w.start_at > now) for w in windows
        ):
            out[swap.id or 0] = "no window proposed that the customer can still choose"
            continue
        first = min(w.proposed_at for w in windows)
        first_window = min(w.start_at for w in windows if w.proposed_at == first)
        if now >= answer_deadline(first, first_window, settings):
            out[swap.id or 0] = f"customer has not answered since {iso(first)}"
    return out


def cancel_stale(session: Session, *, now: datetime, site: str | None = None, actor: str = "fleet") -> list[int]:
    """Swaps not yet started whose fault is gone (recovered, cancelled, resolved otherwise) are cancelled, so nobody
    walks to a rack for nothing and the customer's proposals do not linger."""
    q = (
        select(Swap, Fault)
        .join(Fault, col(Fault.id) == Swap.fault_id)
        .join(Server, col(Server.id) == Swap.server_id)
        .join(Site, col(Site.id) == Server.site_id)
        .where(col(Swap.state).in_(REPLANNABLE_SWAP_STATES))
        .where(col(Fault.resolved_at).is_not(None) | col(Fault.state).in_(CLOSED_FAULT_STATES))
    )
    if site:
        q = q.where(Site.code == site)
    out = []
    for swap, fault in session.exec(q).all():
        before = snapshot(swap, SWAP_FIELDS)
        swap.state = SwapState.CANCELLED
        swap.note = f"fault {fault.id} {fault.resolution or fault.state} before the swap"
        session.add(swap)
        _audit(session, now, actor, "swap.cancel", swap, before)
        out.append(swap.id or 0)
    return out
