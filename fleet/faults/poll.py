"""Faults from monitoring: one poll of one server turned into faults opened, escalated, updated and resolved.

One open fault per server + slot + problem family: slot names are normalised (fleet.health.slots), so IPMI's "PSU2",
SNMP's "Power Supply 2" and a ticket's "psu 2" are one fault, and a disk that goes from predictive to failed stays
one fault. The notification time (`notified_at`, the SLA clock) is the earliest of monitoring detection and support
ticket; a non-critical fault that becomes critical restarts its clock (`critical_since` = `notified_at` = that
detection). A fault never becomes less severe while open. It resolves when the part is swapped or after
`healthy_polls_to_resolve` consecutive polls that read the slot healthy; a slot that goes bad again before that
counts a flap, and `flap_threshold` flaps mark the fault flapping (one fault, not hundreds).

Every change of a fault is audited. Per-poll bookkeeping (last_seen_at, last_poll_at, healthy_polls, flaps) is not:
it changes every five minutes and says nothing a person decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, select

from fleet.config import Settings
from fleet.errors import NotFound
from fleet.faults.common import close, escalate, insert_open_fault, layout_of, lock_server, open_faults
from fleet.faults.preload import ECC_PREFIX, Preloaded, as_installed, ecc_query, installed_query
from fleet.faults.rack import is_rack_fault
from fleet.health.layout import Installed, align_slots
from fleet.health.model import Kind, PollResult, Severity, State
from fleet.health.rules import (
    FAMILY,
    PROBLEM_RANK,
    SECURITY,
    Finding,
    RuleParams,
    assess,
    is_correctable_ecc,
    reading_key,
)
from fleet.health.slots import slot_key
from fleet.store import audit
from fleet.store.models import (
    Fault,
    FaultSource,
    Resolution,
    SensorChange,
    Server,
    ServerModel,
    Swap,
    SwapState,
)

NEEDS_A_PERSON = ("mce", "uncorrectable")  # problems that never resolve by reading healthy again


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


# --- from the database to the rules' plain data ------------------------------------------------------------------


def installed_of(session: Session, server_id: int) -> list[Installed]:
    return [as_installed(comp, part) for comp, part in session.exec(installed_query([server_id]))]


def rule_params(settings: Settings) -> RuleParams:
    return RuleParams(ecc_limit=settings.ecc_correctable_limit, ecc_window=timedelta(hours=settings.ecc_window_h))


def _ecc_history(
    session: Session, server_id: int, result: PollResult, *, now: datetime, rows: list[SensorChange]
) -> dict[str, list[datetime]]:
    """Correctable-ECC events per DIMM key seen by earlier polls within the window (`rows`); this poll's events are
    recorded (once: a poll applied twice does not count its events twice) and left to the rules to count."""
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
    session: Session,
    server: Server,
    result: PollResult,
    *,
    now: datetime,
    settings: Settings,
    actor: str = "sweep",
    pre: Preloaded | None = None,
) -> ApplyResult:
    """Turn one poll of one server into fault changes (in the caller's transaction).

    An unreachable controller or a poll with an error changes no fault: it is a collector problem. Applying the same
    poll (same `now`) twice changes nothing the second time. `pre`: the server's rows, locked and loaded with its
    batch (fleet.faults.preload, same `now` and settings); without it they are read here.
    """
    if not result.reachable or result.error:
        return ApplyResult(skipped=result.error or "unreachable")
    assert server.id is not None
    params = rule_params(settings)
    pre, model = _loaded(session, server, now, params, pre)
    installed = pre.installed
    result, aliases = align_slots(result, installed)  # a controller's drive paths named as the inventory does

    def key_of(fault: Fault) -> str:  # a fault opened under the controller's name is the inventory's part too
        return aliases.get(slot_key(fault.slot), slot_key(fault.slot))

    history = _ecc_history(session, server.id, result, now=now, rows=pre.ecc)
    findings = assess(result, layout_of(model), installed, now=now, params=params, ecc_history=history)
    out = ApplyResult(findings=findings)
    names = {i.key: i.slot for i in installed}

    # Security faults are the BMC audit's (fleet.faults.security): a poll neither matches nor resolves them.
    faults = [f for f in pre.faults if f.kind != SECURITY]
    by_key = {(key_of(f), FAMILY.get(f.problem, f.problem)): f for f in faults}
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
            is_rack_fault(fault)  # the rack's power: it closes with the last of its servers' feeds (faults.rack)
            or not _reads_healthy(fault, result, key_of(fault))
            or (fault.source == FaultSource.TICKET and fault.last_seen_at is None)
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
            close(session, fault, resolution=Resolution.RECOVERED, now=now, actor=actor)
            out.resolved.append(fault.id)
        else:
            out.unchanged.append(fault.id)
        session.add(fault)
    if faults or findings:
        session.flush()  # a quiet server's only change (its freshness) is flushed with its batch's
    return out


def _loaded(
    session: Session, server: Server, now: datetime, params: RuleParams, pre: Preloaded | None
) -> tuple[Preloaded, ServerModel]:
    """The server's rows (as preloaded with its batch, else read and locked here) and its model."""
    assert server.id is not None
    if pre is None:
        lock_server(session, server.id)
        rows = list(session.exec(ecc_query([server.id], now=now, window=params.ecc_window)))
        pre = Preloaded(open_faults(session, server.id), installed_of(session, server.id), rows)
    model = session.get(ServerModel, server.model_id)
    if model is None:
        raise NotFound(f"server {server.hostname}: no server model {server.model_id}")
    return pre, model


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
        source=FaultSource.MONITORING,
        detected_at=now,
        notified_at=now,
        critical_since=now if finding.critical else None,
        last_seen_at=now,
        last_poll_at=now,
    )
    return insert_open_fault(session, fault, now=now, actor=actor)


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
    if finding.critical and fault.severity != Severity.CRITICAL:
        escalate(fault, at=now)
        changed.append("fault.escalate")
    elif not finding.critical and fault.severity == Severity.CRITICAL and fault.source == FaultSource.MONITORING:
        # Redundancy is back (the other PSU of the pair was replaced): the server no longer depends on this part,
        # so it is non-critical again and its swap is planned at a customer window instead of within 4 hours.
        _deescalate(session, fault, now=now, actor=actor)
        changed.append("fault.deescalate")
    if PROBLEM_RANK.get(finding.problem, 0) > PROBLEM_RANK.get(fault.problem, 0):
        fault.problem = finding.problem
        changed.append("fault.update")
    if changed:
        fault.evidence = finding.evidence
        if fault.kind == Kind.OTHER.value or fault.source == FaultSource.TICKET:
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


def _deescalate(session: Session, fault: Fault, *, now: datetime, actor: str) -> None:
    """Critical -> non-critical: the critical clock stops; a critical swap not yet started is cancelled, so the
    next planning round proposes windows to the customer."""
    fault.severity = Severity.NON_CRITICAL
    fault.critical_since = None
    for swap in session.exec(
        select(Swap).where(Swap.fault_id == fault.id, Swap.critical == True, Swap.state == SwapState.PLANNED)  # noqa: E712
    ).all():
        before = audit.snapshot(swap)
        swap.state = SwapState.CANCELLED
        swap.note = "the fault is no longer critical: redundancy is back"
        session.add(swap)
        audit.record(session, at=now, actor=actor, action="swap.cancel", entity="swap", entity_id=swap.id,
                     before=before, after=audit.snapshot(swap))  # fmt: skip


def _reads_healthy(fault: Fault, result: PollResult, key: str) -> bool:
    """This poll reports the fault's slot (`key`) and every relevant reading of it is ok."""
    family = FAMILY.get(fault.problem, fault.problem)
    readings = [r for r in result.readings if reading_key(r) == key]
    if family == "thermal":
        readings = [r for r in readings if r.kind is Kind.TEMPERATURE]
    elif family == "array":
        readings = [r for r in readings if r.kind is Kind.RAID]
    elif family == "power":
        # The feed (slot FEED) is no sensor of its own: it is back when a PSU reads ok again (a PSU that stays
        # dead after the feed came back is that PSU's own fault, opened by the rules).
        return any(r.state is State.OK for r in result.readings if r.kind is Kind.PSU and r.slot.strip())
    else:
        readings = [r for r in readings if r.kind is not Kind.TEMPERATURE]
    in_inventory = any(slot_key(i.slot) == key for i in result.inventory)
    if not readings:
        # Parts only the inventory lists (no sensor): being listed again is all the health there is to read.
        return in_inventory and fault.problem in ("absent", "serial-changed")
    return all(r.state is State.OK for r in readings)
