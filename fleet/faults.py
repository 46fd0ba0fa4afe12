"""Faults: open, deduplicate, escalate, acknowledge, resolve. The service the sweep, the CLI and the TUI call.

One open fault per server + slot + problem family: slot names are normalised (fleet.health.slots), so IPMI's "PSU2",
SNMP's "Power Supply 2" and a ticket's "psu 2" are one fault, and a disk that goes from predictive to failed stays
one fault. The notification time (`notified_at`, the SLA clock) is the earliest of monitoring detection and support
ticket; a non-critical fault that becomes critical restarts its clock (`critical_since` = `notified_at` = that
detection). A fault never becomes less severe while open. It resolves when the part is swapped (`resolve`) or after
`healthy_polls_to_resolve` consecutive polls that read the slot healthy; a slot that goes bad again before that
counts a flap, and `flap_threshold` flaps mark the fault flapping (one fault, not hundreds).

Every change of a fault is audited. Per-poll bookkeeping (last_seen_at, last_poll_at, healthy_polls, flaps) is not:
it changes every five minutes and says nothing a person decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from fleet.config import Settings
from fleet.errors import InputError, NotFound
from fleet.health.layout import Installed, Layout, describe_slots, layout_slots
from fleet.health.model import Kind, PollResult, State
from fleet.health.rules import (
    CRITICAL,
    FAMILY,
    NON_CRITICAL,
    PROBLEM_RANK,
    Finding,
    RuleParams,
    assess,
    is_correctable_ecc,
    reading_key,
)
from fleet.health.slots import slot_key, slot_kind
from fleet.store import audit
from fleet.store.lookup import find_server
from fleet.store.models import (
    Component,
    Fault,
    PartModel,
    SensorChange,
    SensorState,
    Server,
    ServerModel,
    Site,
    Swap,
    Ticket,
)

RESOLUTIONS = ("swapped", "recovered", "cancelled")
NEEDS_A_PERSON = ("mce", "uncorrectable")  # problems that never resolve by reading healthy again
ECC_PREFIX = "sel:ecc:"  # SensorChange.name of a correctable-ECC event, kept to count the rate over the window


@dataclass
class ApplyResult:
    """What one poll did to a server's faults (fault ids)."""

    opened: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)  # still open; problem worsened or marked flapping
    resolved: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    skipped: str | None = None  # why no fault was looked at: the controller's error ("timeout", "auth" ...)

    def counts(self) -> dict[str, int]:
        return {
            "opened": len(self.opened),
            "escalated": len(self.escalated),
            "updated": len(self.updated),
            "resolved": len(self.resolved),
            "unchanged": len(self.unchanged),
        }

    @property
    def health(self) -> str:
        """The server's health from this poll's findings: ok | warning | critical | unknown (not assessed)."""
        if self.skipped:
            return "unknown"
        if any(f.critical for f in self.findings):
            return "critical"
        return "warning" if self.findings else "ok"


@dataclass
class TicketResult:
    ticket: Ticket
    fault: Fault
    joined: bool  # True: the ticket joined a fault that was already open
    spare: Any = None  # a critical fault's SpareOutcome: its spare reserved at once, or the no-spare flag


# --- reading -----------------------------------------------------------------------------------------------------


def ack_status(fault: Fault, now: datetime, settings: Settings) -> str:
    """'done' when acknowledged, 'overdue' when the SLA's look-within-an-hour has passed, else 'due'."""
    if fault.acknowledged_at is not None:
        return "done"
    return "overdue" if now > fault.notified_at + timedelta(minutes=settings.ack_within_min) else "due"


def clock_start(fault: Fault) -> datetime:
    """When the swap clock started: critical_since for a critical fault, else the notification time."""
    if fault.severity == CRITICAL and fault.critical_since is not None:
        return fault.critical_since
    return fault.notified_at


def critical_deadlines(fault: Fault, settings: Settings) -> tuple[datetime, datetime] | None:
    """(target, hard limit) of a critical fault's swap; None for a non-critical one (it waits for a window)."""
    if fault.severity != CRITICAL:
        return None
    start = clock_start(fault)
    return start + timedelta(minutes=settings.critical_target_min), start + timedelta(
        minutes=settings.critical_limit_min
    )


def list_faults(session: Session, *, site: str | None = None, include_resolved: bool = False) -> list[Fault]:
    q = (
        select(Fault)
        .join(Server, col(Server.id) == col(Fault.server_id))
        .join(Site, col(Site.id) == col(Server.site_id))
    )
    if not include_resolved:
        q = q.where(Fault.resolved_at.is_(None))  # type: ignore[union-attr]
    if site:
        q = q.where(Site.code == site)
    return list(session.exec(q.order_by(col(Fault.severity), col(Fault.notified_at), col(Fault.id))).all())


def fault_dict(session: Session, fault: Fault, now: datetime, settings: Settings) -> dict[str, Any]:
    server = session.get(Server, fault.server_id)
    site = session.get(Site, server.site_id) if server else None
    deadlines = critical_deadlines(fault, settings)
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
        "flaps": fault.flaps,
        "detected_at": fault.detected_at.isoformat(),
        "notified_at": fault.notified_at.isoformat(),
        "critical_since": fault.critical_since.isoformat() if fault.critical_since else None,
        "target_at": deadlines[0].isoformat() if deadlines else None,
        "hard_limit_at": deadlines[1].isoformat() if deadlines else None,
        "last_seen_at": fault.last_seen_at.isoformat() if fault.last_seen_at else None,
        "acknowledged_at": fault.acknowledged_at.isoformat() if fault.acknowledged_at else None,
        "acknowledged_by": fault.acknowledged_by,
        "ack": ack_status(fault, now, settings),
        "ack_due_at": (fault.notified_at + timedelta(minutes=settings.ack_within_min)).isoformat(),
        "resolved_at": fault.resolved_at.isoformat() if fault.resolved_at else None,
        "resolution": fault.resolution,
    }


def get_fault(session: Session, fault_id: int) -> Fault:
    fault = session.get(Fault, fault_id)
    if fault is None:
        raise NotFound(f"no fault {fault_id}")
    return fault


def open_faults(session: Session, server_id: int) -> list[Fault]:
    q = select(Fault).where(Fault.server_id == server_id, Fault.resolved_at.is_(None))  # type: ignore[union-attr]
    return list(session.exec(q.order_by(col(Fault.id))).all())


def find_component(session: Session, server_id: int, slot: str) -> Component | None:
    """The part installed in a slot, whatever the slot's spelling ("PSU 2" finds "PSU2")."""
    key = slot_key(slot)
    q = select(Component).where(Component.server_id == server_id, Component.removed_at.is_(None))  # type: ignore[union-attr]
    return next((c for c in session.exec(q) if slot_key(c.slot) == key), None)


# --- from the database to the rules' plain data ------------------------------------------------------------------


def layout_of(model: ServerModel) -> Layout:
    return Layout(
        psu_count=model.psu_count,
        fan_count=model.fan_count,
        fan_zones=model.fan_zones,
        disk_slots=model.disk_slots,
        raid_level=model.raid_level,
        raid_battery=model.raid_battery,
        dimm_slots=model.dimm_slots,
    )


def server_slots(session: Session, server: Server) -> list[str]:
    """Every slot name this server has: its model's layout, the parts recorded in it, and what its controller
    reported (sensors, open faults), in that order, one name per slot key."""
    assert server.id is not None
    model = session.get(ServerModel, server.model_id)
    names = layout_slots(layout_of(model)) if model is not None else []
    names += [c.slot for c in session.exec(select(Component).where(Component.server_id == server.id,
                                                                    Component.removed_at.is_(None)))]  # type: ignore[union-attr]  # fmt: skip
    names += [s.slot for s in session.exec(select(SensorState).where(SensorState.server_id == server.id)) if s.slot]
    names += [f.slot for f in open_faults(session, server.id)]
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(slot_key(name), name)
    return list(seen.values())


def check_slot(session: Session, server: Server, slot: str) -> str:
    """The slot as this server names it; InputError listing the valid ones when it has no such slot."""
    slots = server_slots(session, server)
    key = slot_key(slot)
    found = next((name for name in slots if slot_key(name) == key), None)
    if found is None:
        raise InputError(f"{server.hostname} has no slot {slot.strip()!r}; its slots: {describe_slots(slots)}")
    return found


def installed_of(session: Session, server_id: int) -> list[Installed]:
    q = (
        select(Component, PartModel)
        .join(PartModel, col(PartModel.id) == col(Component.part_model_id))
        .where(Component.server_id == server_id, Component.removed_at.is_(None))  # type: ignore[union-attr]
    )
    out = []
    for comp, part in session.exec(q):
        kind = Kind(part.kind) if part.kind in Kind._value2member_map_ else Kind.OTHER
        out.append(Installed(slot=comp.slot, kind=kind, serial=comp.serial))
    return out


def rule_params(settings: Settings) -> RuleParams:
    return RuleParams(ecc_limit=settings.ecc_correctable_limit, ecc_window=timedelta(hours=settings.ecc_window_h))


def _ecc_history(
    session: Session, server_id: int, result: PollResult, *, now: datetime, window: timedelta
) -> dict[str, list[datetime]]:
    """Correctable-ECC events per DIMM key seen by earlier polls within the window; this poll's events are recorded
    (once: a poll applied twice does not count its events twice) and left to the rules to count."""
    q = select(SensorChange).where(
        SensorChange.server_id == server_id,
        SensorChange.name.startswith(ECC_PREFIX),
        SensorChange.at > now - window,
    )
    rows = list(session.exec(q))
    known = {(r.name, r.at, r.value) for r in rows}
    own = {
        (
            ECC_PREFIX + slot_key(e.slot or "DIMM"),
            e.time or now,
            float(e.record_id) if e.record_id is not None else None,
        )
        for e in result.events
        if is_correctable_ecc(e)
    }
    history: dict[str, list[datetime]] = {}
    for r in rows:
        if (r.name, r.at, r.value) not in own:
            history.setdefault(r.name.removeprefix(ECC_PREFIX), []).append(r.at)
    for name, at, value in own - known:
        session.add(SensorChange(server_id=server_id, name=name, new_state="correctable", value=value, at=at))
    return history


# --- the sweep's entry point -------------------------------------------------------------------------------------


def apply_poll(
    session: Session, server: Server, result: PollResult, *, now: datetime, settings: Settings, actor: str = "sweep"
) -> ApplyResult:
    """Turn one poll of one server into fault changes (in the caller's transaction).

    An unreachable controller or a poll with an error changes no fault: it is a collector problem. Applying the same
    poll (same `now`) twice changes nothing the second time.
    """
    if not result.reachable or result.error:
        return ApplyResult(skipped=result.error or "unreachable")
    assert server.id is not None
    _lock_server(session, server.id)
    model = session.get(ServerModel, server.model_id)
    if model is None:
        raise NotFound(f"server {server.hostname}: no server model {server.model_id}")
    params = rule_params(settings)
    installed = installed_of(session, server.id)
    history = _ecc_history(session, server.id, result, now=now, window=params.ecc_window)
    findings = assess(result, layout_of(model), installed, now=now, params=params, ecc_history=history)
    out = ApplyResult(findings=findings)
    names = {i.key: i.slot for i in installed}

    faults = open_faults(session, server.id)
    by_key = {(slot_key(f.slot), FAMILY.get(f.problem, f.problem)): f for f in faults}
    touched: set[int] = set()
    for finding in findings:
        fault = by_key.get((finding.slot, finding.family))
        if fault is None:
            fault, created = _open(session, server, finding, names.get(finding.slot, finding.slot), now, actor)
            by_key[(finding.slot, finding.family)] = fault
            if created:
                assert fault.id is not None
                out.opened.append(fault.id)
                touched.add(fault.id)
                continue
        assert fault.id is not None
        touched.add(fault.id)
        if fault.last_poll_at is not None and fault.last_poll_at >= now:
            out.unchanged.append(fault.id)
            continue
        _still_bad(session, fault, finding, now=now, settings=settings, actor=actor, out=out)

    for fault in faults:
        assert fault.id is not None
        if fault.id in touched:
            continue
        if fault.last_poll_at is not None and fault.last_poll_at >= now:
            out.unchanged.append(fault.id)
            continue
        if (
            not _reads_healthy(fault, result)
            or (fault.source == "ticket" and fault.last_seen_at is None)
            or fault.problem in NEEDS_A_PERSON
        ):
            # No news is not good news: a slot not reported, or reporting unknown, neither resolves nor flaps. A
            # ticket that monitoring has never confirmed, and a part that threw a machine check or an uncorrectable
            # error (it reads fine after the reboot, and is still bad), wait for a swap or a person.
            out.unchanged.append(fault.id)
            continue
        fault.healthy_polls += 1
        fault.last_poll_at = now
        if fault.healthy_polls >= settings.healthy_polls_to_resolve:
            _close(session, fault, resolution="recovered", now=now, actor=actor)
            out.resolved.append(fault.id)
        else:
            out.unchanged.append(fault.id)
        session.add(fault)
    session.flush()
    return out


def _lock_server(session: Session, server_id: int) -> None:
    """Serialise fault changes of one server (a ticket and a sweep at the same moment) on PostgreSQL; SQLite's write
    sessions are serialised already (FOR UPDATE renders as nothing there)."""
    session.exec(select(Server.id).where(col(Server.id) == server_id).with_for_update())


def _open(
    session: Session, server: Server, finding: Finding, slot: str, now: datetime, actor: str
) -> tuple[Fault, bool]:
    """A new open fault, or the one another writer opened a moment ago (the partial unique index decides)."""
    fault = Fault(
        server_id=server.id,  # type: ignore[arg-type]
        slot=slot,
        kind=finding.kind,
        problem=finding.problem,
        severity=finding.severity,
        evidence=finding.evidence,
        source="monitoring",
        detected_at=now,
        notified_at=now,
        critical_since=now if finding.critical else None,
        last_seen_at=now,
        last_poll_at=now,
    )
    try:
        with session.begin_nested():
            session.add(fault)
            session.flush()
    except IntegrityError:
        q = select(Fault).where(
            Fault.server_id == server.id,
            Fault.slot == slot,
            Fault.problem == finding.problem,
            Fault.resolved_at.is_(None),  # type: ignore[union-attr]
        )
        return session.exec(q).one(), False
    audit.record(
        session,
        at=now,
        actor=actor,
        action="fault.open",
        entity="fault",
        entity_id=fault.id,
        after=audit.snapshot(fault),
    )
    return fault, True


def _still_bad(
    session: Session, fault: Fault, finding: Finding, *, now: datetime, settings: Settings, actor: str, out: ApplyResult
) -> None:
    assert fault.id is not None
    before = audit.snapshot(fault)
    if fault.healthy_polls > 0:
        fault.flaps += 1  # it read healthy, and now it is bad again
    fault.healthy_polls = 0
    fault.last_seen_at = now
    fault.last_poll_at = now
    changed: list[str] = []
    if finding.critical and fault.severity != CRITICAL:
        _escalate(fault, at=now)
        changed.append("fault.escalate")
    elif not finding.critical and fault.severity == CRITICAL and fault.source == "monitoring":
        # Redundancy is back (the other PSU of the pair was replaced): the server no longer depends on this part,
        # so it is non-critical again and its swap is planned at a customer window instead of within 4 hours.
        _deescalate(session, fault, now=now, actor=actor)
        changed.append("fault.deescalate")
    if PROBLEM_RANK.get(finding.problem, 0) > PROBLEM_RANK.get(fault.problem, 0):
        fault.problem = finding.problem
        changed.append("fault.update")
    if changed:
        fault.evidence = finding.evidence
        if fault.kind == Kind.OTHER.value or fault.source == "ticket":
            fault.kind = finding.kind  # a ticket guessed the kind from the slot name; monitoring knows it
    if fault.flaps >= settings.flap_threshold and not fault.flapping:
        fault.flapping = True
        changed.append("fault.flapping")
    session.add(fault)
    for action in changed:
        audit.record(
            session, at=now, actor=actor, action=action, entity="fault", entity_id=fault.id, before=before,
            after=audit.snapshot(fault),
        )  # fmt: skip
    if "fault.escalate" in changed:
        out.escalated.append(fault.id)
    elif changed:
        out.updated.append(fault.id)
    else:
        out.unchanged.append(fault.id)


def _escalate(fault: Fault, *, at: datetime) -> None:
    """Non-critical -> critical: the critical clock starts now, and it is a new alert someone must look at."""
    fault.severity = CRITICAL
    fault.critical_since = at
    fault.notified_at = at
    fault.acknowledged_at = None
    fault.acknowledged_by = None
    if fault.state == "acknowledged":
        fault.state = "open"


def _deescalate(session: Session, fault: Fault, *, now: datetime, actor: str) -> None:
    """Critical -> non-critical: the critical clock stops; a critical swap not yet started is cancelled, so the
    next planning round proposes windows to the customer."""
    fault.severity = NON_CRITICAL
    fault.critical_since = None
    for swap in session.exec(
        select(Swap).where(Swap.fault_id == fault.id, Swap.critical == True, Swap.state == "planned")  # noqa: E712
    ).all():
        before = audit.snapshot(swap)
        swap.state = "cancelled"
        swap.note = "the fault is no longer critical: redundancy is back"
        session.add(swap)
        audit.record(session, at=now, actor=actor, action="swap.cancel", entity="swap", entity_id=swap.id,
                     before=before, after=audit.snapshot(swap))  # fmt: skip


def _reads_healthy(fault: Fault, result: PollResult) -> bool:
    """This poll reports the fault's slot and every relevant reading of it is ok."""
    key = slot_key(fault.slot)
    family = FAMILY.get(fault.problem, fault.problem)
    readings = [r for r in result.readings if reading_key(r) == key]
    if family == "thermal":
        readings = [r for r in readings if r.kind is Kind.TEMPERATURE]
    elif family == "array":
        readings = [r for r in readings if r.kind is Kind.RAID]
    else:
        readings = [r for r in readings if r.kind is not Kind.TEMPERATURE]
    in_inventory = any(slot_key(i.slot) == key for i in result.inventory)
    if not readings:
        # Parts only the inventory lists (no sensor): being listed again is all the health there is to read.
        return in_inventory and fault.problem in ("absent", "serial-changed")
    return all(r.state is State.OK for r in readings)


def _close(session: Session, fault: Fault, *, resolution: str, now: datetime, actor: str) -> None:
    before = audit.snapshot(fault)
    fault.resolved_at = now
    fault.resolution = resolution
    fault.state = "cancelled" if resolution == "cancelled" else "resolved"
    session.add(fault)
    audit.record(
        session, at=now, actor=actor, action="fault.resolve", entity="fault", entity_id=fault.id, before=before,
        after=audit.snapshot(fault),
    )  # fmt: skip
    if resolution != "swapped":
        # Nothing to swap any more: the spare goes back on the shelf and the planned visit is called off.
        _release_and_call_off(session, fault, now=now, actor=actor)


def _release_and_call_off(session: Session, fault: Fault, *, now: datetime, actor: str) -> None:
    from fleet.stock.reserve import release_for_fault  # stock imports nothing of faults; this keeps it that way

    assert fault.id is not None
    release_for_fault(session, fault.id, now=now, actor=actor)
    pending = session.exec(
        select(Swap).where(Swap.fault_id == fault.id, col(Swap.state).not_in(("done", "cancelled", "in_progress")))
    ).all()
    for swap in pending:
        before = audit.snapshot(swap)
        swap.state = "cancelled"
        swap.note = f"fault {fault.resolution} before the swap"
        session.add(swap)
        audit.record(session, at=now, actor=actor, action="swap.cancel", entity="swap", entity_id=swap.id,
                     before=before, after=audit.snapshot(swap))  # fmt: skip


# --- people ------------------------------------------------------------------------------------------------------


def acknowledge(session: Session, fault_id: int, *, by: str, now: datetime) -> Fault:
    """A technician has looked at the alert (the SLA's look within the hour). Acknowledging twice keeps the first."""
    by = by.strip()
    if not by:
        raise InputError("who acknowledges? give --by NAME")
    fault = get_fault(session, fault_id)
    if fault.resolved_at is not None:
        raise InputError(f"fault {fault_id} is already {fault.state}")
    if fault.acknowledged_at is not None:
        return fault
    before = audit.snapshot(fault)
    fault.acknowledged_at = now
    fault.acknowledged_by = by
    if fault.state == "open":
        fault.state = "acknowledged"
    session.add(fault)
    audit.record(
        session, at=now, actor=by, action="fault.ack", entity="fault", entity_id=fault.id, before=before,
        after=audit.snapshot(fault),
    )  # fmt: skip
    return fault


def resolve(session: Session, fault_id: int, *, resolution: str, now: datetime, actor: str) -> Fault:
    """Close a fault: swapped (the part was replaced), recovered, or cancelled (not a fault after all)."""
    if resolution not in RESOLUTIONS:
        raise InputError(f"resolution must be one of {', '.join(RESOLUTIONS)}, not {resolution!r}")
    fault = get_fault(session, fault_id)
    if fault.resolved_at is not None:
        raise InputError(f"fault {fault_id} is already {fault.state}")
    _close(session, fault, resolution=resolution, now=now, actor=actor)
    session.flush()
    return fault


def open_ticket(
    session: Session,
    hostname: str,
    slot: str,
    text: str,
    *,
    critical: bool,
    at: datetime | None,
    now: datetime,
    by: str = "support",
    settings: Settings | None = None,
) -> TicketResult:
    """Record a support ticket about a part. It joins the open fault of that slot if there is one (the notification
    time becomes the ticket's when earlier; a critical ticket escalates a non-critical fault), else opens one.

    The slot must be one the server has (InputError listing them otherwise: nothing is written). With `settings`, a
    fault that is critical after the ticket gets its spare reserved at once (or the no-spare flag)."""
    at = at or now
    if at > now:
        raise InputError(f"the ticket time {at.isoformat()} is in the future")
    if not slot.strip():
        raise InputError("which slot? give --slot (e.g. PSU2, Disk 0:1:4)")
    if not text.strip():
        raise InputError("the ticket needs a --text")
    server = find_server(session, hostname)
    assert server.id is not None
    slot = check_slot(session, server, slot)
    _lock_server(session, server.id)
    key = slot_key(slot)
    candidates = [f for f in open_faults(session, server.id) if slot_key(f.slot) == key]
    # The part's own health fault first, then the most severe, then the oldest.
    candidates.sort(key=lambda f: (FAMILY.get(f.problem) != "health", f.severity != CRITICAL, f.notified_at))
    ticket = Ticket(server_id=server.id, slot=slot.strip(), text=text.strip(), critical=critical, opened_at=at,
                    opened_by=by)  # fmt: skip
    if candidates:
        fault = candidates[0]
        before = audit.snapshot(fault)
        _join(fault, critical=critical, at=at)
        session.add(fault)
        audit.record(
            session, at=now, actor=by, action="fault.ticket", entity="fault", entity_id=fault.id, before=before,
            after=audit.snapshot(fault),
        )  # fmt: skip
        joined = True
    else:
        installed = find_component(session, server.id, slot)
        kind = slot_kind(slot)
        fault = Fault(
            server_id=server.id,
            slot=installed.slot if installed else key,
            kind=kind.value if kind else Kind.OTHER.value,
            problem="reported",
            severity=CRITICAL if critical else NON_CRITICAL,
            evidence=f"ticket by {by}: {text.strip()}",
            source="ticket",
            detected_at=at,
            notified_at=at,
            critical_since=at if critical else None,
        )
        session.add(fault)
        session.flush()
        audit.record(
            session, at=now, actor=by, action="fault.open", entity="fault", entity_id=fault.id,
            after=audit.snapshot(fault),
        )  # fmt: skip
        joined = False
    ticket.fault_id = fault.id
    session.add(ticket)
    session.flush()
    audit.record(
        session, at=now, actor=by, action="ticket.open", entity="ticket", entity_id=ticket.id,
        after=audit.snapshot(ticket),
    )  # fmt: skip
    spare = None
    if settings is not None and fault.severity == CRITICAL and fault.id is not None:
        from fleet.stock.reserve import reserve_for_fault  # stock imports nothing of faults; this keeps it that way

        spare = reserve_for_fault(session, fault.id, now=now, settings=settings, actor=by)
    return TicketResult(ticket=ticket, fault=fault, joined=joined, spare=spare)


def _join(fault: Fault, *, critical: bool, at: datetime) -> None:
    """A ticket joins an open fault. The notification is the earliest of detection and ticket; a fault critical
    from the start has its critical clock at the notification too."""
    critical_from_start = fault.severity == CRITICAL and fault.critical_since == fault.notified_at
    if at < fault.notified_at:
        fault.notified_at = at
        if critical_from_start:
            fault.critical_since = at
    if critical and fault.severity != CRITICAL:
        _escalate(fault, at=at)
