"""Non-critical swaps: windows proposed to the customer, the one they agree, the ones they decline."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from fleet.clock import iso
from fleet.config import Settings
from fleet.errors import InputError, NotFound
from fleet.health.model import Severity
from fleet.sla.swap_time import swap_duration
from fleet.store.audit import snapshot
from fleet.store.models import Customer, Fault, MaintenanceWindow, Server, Site, Swap, SwapState, WindowState
from fleet.swaps.notify import SwapLine, WindowOffer, proposal_mail
from fleet.swaps.plan import (
    CustomerProposal,
    _active_swap,
    _active_swaps,
    _apply,
    _audit,
    _busy,
    _open_faults,
    _site_technicians,
    answer_deadline,
    technician_hours,
)
from fleet.swaps.planner import disk_warning
from fleet.swaps.windows import Interval, Proposal, Weekly, parse_weekly, propose_windows, subtract, zone

# --- non-critical: windows agreed with the customer --------------------------------------------------------------

URGENT_SPACING = timedelta(hours=3)  # windows offered for a degraded array: a real choice inside one day
DEGRADED_PROBLEMS = ("failed", "absent", "degraded")


def degraded_array_reason(fault: Fault, settings: Settings) -> str | None:
    """Why a non-critical fault cannot wait for the customer's usual hours: a redundant array running on its last
    copy. None for everything else."""
    if (
        fault.severity == Severity.CRITICAL
        or fault.kind not in ("disk", "raid")
        or fault.problem not in DEGRADED_PROBLEMS
    ):
        return None
    return (f"a disk of a redundant array has failed: the server still runs, but one more disk failure would lose "
            f"your data, so we offer windows within {settings.degraded_array_within_h:g} hours")  # fmt: skip


def _live_windows(session: Session, server_id: int, now: datetime, state: str) -> list[MaintenanceWindow]:
    q = select(MaintenanceWindow).where(
        MaintenanceWindow.server_id == server_id, MaintenanceWindow.state == state, MaintenanceWindow.start_at > now
    )
    return list(session.exec(q.order_by(col(MaintenanceWindow.start_at))).all())


def propose_noncritical(
    session: Session, *, now: datetime, settings: Settings, site: str | None = None, actor: str = "fleet"
) -> list[CustomerProposal]:
    """Batch the open non-critical faults per server and ask the customer for a window (one mail per server).

    A fault of a server that already has a window agreed (or proposals out) joins it without a new mail. The mails
    are returned (CustomerProposal.mail), to be delivered by the caller before it commits.
    """
    by_server: dict[int, list[tuple[Fault, Swap | None]]] = defaultdict(list)
    servers: dict[int, tuple[Server, Site]] = {}
    rows = _open_faults(session, Severity.NON_CRITICAL, site)
    live = _active_swaps(session, [f.id for f, _, _ in rows if f.id is not None])
    for fault, server, st in rows:
        assert fault.id is not None and server.id is not None
        swap = live.get(fault.id)
        if swap is not None and swap.state != SwapState.AWAITING_CUSTOMER:
            continue  # agreed, planned or being worked on: nothing to ask
        by_server[server.id].append((fault, swap))
        servers[server.id] = (server, st)
    out: list[CustomerProposal] = []
    for server_id, items in by_server.items():
        server, st = servers[server_id]
        warning = next((w for f, _ in items if (w := disk_warning(f.kind, server.backup_option))), None)
        agreed = _live_windows(session, server_id, now, WindowState.AGREED)
        if agreed:
            window = agreed[0]
            ids = [_join_agreed(session, f, s, server, window, now, actor) for f, s in items]
            out.append(
                CustomerProposal(server.hostname, None, ids, [window.id or 0], warning, "joined the agreed window")
            )
            continue
        pending = _live_windows(session, server_id, now, WindowState.PROPOSED)
        new = [(f, s) for f, s in items if s is None]
        if pending:
            if new:
                ids = [_new_awaiting(session, f, server, None, now, actor) for f, _ in new]
                out.append(CustomerProposal(server.hostname, None, ids, [w.id or 0 for w in pending], warning,
                                    "joined the windows already proposed"))  # fmt: skip
            continue
        out.append(_propose(session, server, st, items, warning, now=now, settings=settings, actor=actor))
    return out


def _new_awaiting(session: Session, fault: Fault, server: Server, note: str | None, now: datetime, actor: str) -> int:
    # The no-backup warning is the disk swap's own (a fan swap on the same server does not carry it); the mail to
    # the customer, one per server, carries it when any of its swaps is a disk.
    values = {"fault_id": fault.id, "server_id": server.id, "critical": False, "state": SwapState.AWAITING_CUSTOMER,
              "warning": disk_warning(fault.kind, server.backup_option), "note": note}  # fmt: skip
    swap, _ = _apply(session, _active_swap(session, fault.id or 0), values, now, actor)
    return swap.id or 0


def _join_agreed(
    session: Session,
    fault: Fault,
    swap: Swap | None,
    server: Server,
    window: MaintenanceWindow,
    now: datetime,
    actor: str,
) -> int:
    values = {"fault_id": fault.id, "server_id": server.id, "critical": False, "state": SwapState.AGREED,
              "window_id": window.id, "planned_start": window.start_at,
              "warning": disk_warning(fault.kind, server.backup_option)}  # fmt: skip
    swap, _ = _apply(session, swap, values, now, actor)
    return swap.id or 0


def _propose(
    session: Session,
    server: Server,
    st: Site,
    items: list[tuple[Fault, Swap | None]],
    warning: str | None,
    *,
    now: datetime,
    settings: Settings,
    actor: str,
) -> CustomerProposal:
    customer = session.get(Customer, server.customer_id) if server.customer_id else None
    duration = sum((swap_duration(f.kind, settings) for f, _ in items), timedelta())
    horizon = timedelta(days=settings.window_horizon_days)
    techs = _site_technicians(session, {st.id or 0})
    busy = _busy(session, settings, set())
    hours = [subtract(technician_hours(t, st.timezone, now, now + horizon), busy[t.id or 0]) for t in techs]
    offers: list[WindowOffer] = []
    note: str | None = None
    urgent = next((r for f, _ in items if (r := degraded_array_reason(f, settings))), None)
    if urgent:
        horizon = timedelta(hours=settings.degraded_array_within_h)
    if customer is None:
        note = "server has no customer on record: staff choose the window"
    else:
        preferred = parse_weekly(customer.preferred_windows, f"customer {customer.name} preferred_windows")
        if urgent:
            found = _urgent_windows(preferred, zone(customer.timezone), hours, now=now, duration=duration,
                                    settings=settings)  # fmt: skip
        else:
            found = propose_windows(preferred, zone(customer.timezone), hours, now=now, duration=duration,
                                    count=settings.windows_to_propose,
                                    notice=timedelta(hours=settings.window_notice_h), horizon=horizon)  # fmt: skip
        if len(found) < settings.windows_to_propose:
            note = (f"only {len(found)} window(s) found in the next {horizon.total_seconds() / 3600:g} h where the "
                    "customer's hours meet technicians' hours")  # fmt: skip
        for p in found:
            w = MaintenanceWindow(server_id=server.id or 0, customer_id=customer.id, start_at=p.start, end_at=p.end,
                                  state=WindowState.PROPOSED, proposed_at=now)  # fmt: skip
            session.add(w)
            _audit(session, now, actor, "window.propose", w, None)
            offers.append(WindowOffer(w.id or 0, p.start, p.end))
    swap_ids = []
    for f, s in items:
        values = {"fault_id": f.id, "server_id": server.id, "critical": False, "state": SwapState.AWAITING_CUSTOMER,
                  "window_id": None, "warning": disk_warning(f.kind, server.backup_option), "note": note}  # fmt: skip
        swap, _ = _apply(session, s, values, now, actor)
        swap_ids.append(swap.id or 0)
    mail = None
    if customer is not None and offers:
        mail = proposal_mail(
            settings=settings,
            now=now,
            to=customer.email,
            contact_name=customer.contact_name,
            customer_tz=zone(customer.timezone),
            hostname=server.hostname,
            swaps=[SwapLine(f.slot, f.kind, f.problem) for f, _ in items],
            offers=offers,
            warning=warning,
            answer_by=answer_deadline(now, offers[0].start, settings),
            reason=urgent,
        )
    name = f"{now:%Y%m%dT%H%M%SZ}-{server.hostname}-w{offers[0].window_id if offers else 0}"
    who = customer.name if customer else None
    return CustomerProposal(server.hostname, who, swap_ids, [o.window_id for o in offers], warning, note, mail, name)


def _urgent_windows(
    preferred: list[Weekly],
    tz: ZoneInfo,
    hours: list[list[Interval]],
    *,
    now: datetime,
    duration: timedelta,
    settings: Settings,
) -> list[Proposal]:
    """Windows within `degraded_array_within_h`: in the customer's preferred hours when some fall in that day, else
    (and to make up the count) any technician time, URGENT_SPACING apart."""
    notice = timedelta(hours=settings.degraded_array_notice_h)
    within = timedelta(hours=settings.degraded_array_within_h)
    count = settings.windows_to_propose
    found = propose_windows(preferred, tz, hours, now=now, duration=duration, count=count, notice=notice,
                            horizon=within) if preferred else []  # fmt: skip
    for p in propose_windows((), tz, hours, now=now, duration=duration, count=count, notice=notice, horizon=within,
                             spacing=URGENT_SPACING):  # fmt: skip
        if len(found) >= count:
            break
        if all(p.end <= q.start or p.start >= q.end for q in found):
            found.append(p)
    return sorted(found, key=lambda p: p.start)


def _server_swaps(session: Session, server_id: int, state: str) -> list[tuple[Swap, Fault]]:
    q = (
        select(Swap, Fault)
        .join(Fault, col(Fault.id) == Swap.fault_id)
        .where(Swap.server_id == server_id, Swap.state == state)
        .order_by(col(Swap.id))
    )
    return list(session.exec(q).all())


def _window_of(session: Session, swap_id: int, window_id: int) -> tuple[Swap, MaintenanceWindow]:
    swap = session.get(Swap, swap_id)
    if swap is None:
        raise NotFound(f"no swap {swap_id}")
    window = session.get(MaintenanceWindow, window_id)
    if window is None or window.server_id != swap.server_id:
        raise NotFound(f"no window {window_id} for the server of swap {swap_id}")
    if swap.state != SwapState.AWAITING_CUSTOMER:
        raise InputError(f"swap {swap_id} is {swap.state}, not awaiting the customer")
    if window.state != WindowState.PROPOSED:
        raise InputError(f"window {window_id} is {window.state}, not proposed")
    return swap, window


def agree_window(
    session: Session, swap_id: int, window_id: int, *, now: datetime, settings: Settings, actor: str
) -> list[Swap]:
    """The customer chose a window: it becomes agreed, the server's other proposals expire, and every swap of that
    server awaiting the customer is planned in it, one after the other, by a technician on shift then."""
    _, window = _window_of(session, swap_id, window_id)
    if window.start_at <= now:
        raise InputError(f"window {window_id} started at {iso(window.start_at)}: propose new windows")
    before = snapshot(window)
    window.state, window.answered_at = WindowState.AGREED, now
    session.add(window)
    _audit(session, now, actor, "window.agree", window, before)
    for other in _live_windows(session, window.server_id, now, WindowState.PROPOSED):
        b = snapshot(other)
        other.state, other.answered_at = WindowState.EXPIRED, now
        session.add(other)
        _audit(session, now, actor, "window.expire", other, b)
    batch = _server_swaps(session, window.server_id, SwapState.AWAITING_CUSTOMER)
    total = sum((swap_duration(f.kind, settings) for _, f in batch), timedelta())
    server = session.get(Server, window.server_id)
    st = session.get(Site, server.site_id) if server else None
    tech_id = None
    if st is not None:
        busy = _busy(session, settings, set())
        for t in _site_technicians(session, {st.id or 0}):
            hours = subtract(technician_hours(t, st.timezone, window.start_at, window.end_at), busy[t.id or 0])
            if any(s <= window.start_at and window.start_at + total <= f for s, f in hours):
                tech_id = t.id
                break
    start = window.start_at
    out = []
    for s, f in batch:
        note = None if tech_id else "no technician free for the whole window: staff assign one"
        values = {"state": SwapState.AGREED, "window_id": window.id, "planned_start": start, "technician_id": tech_id,
                  "note": note}  # fmt: skip
        _apply(session, s, values, now, actor)
        start += swap_duration(f.kind, settings)
        out.append(s)
    return out


def decline_window(session: Session, swap_id: int, window_id: int, *, now: datetime, actor: str) -> MaintenanceWindow:
    """The customer cannot make this window. When none is left, the next plan proposes new ones."""
    _, window = _window_of(session, swap_id, window_id)
    before = snapshot(window)
    window.state, window.answered_at = WindowState.DECLINED, now
    session.add(window)
    _audit(session, now, actor, "window.decline", window, before)
    return window
