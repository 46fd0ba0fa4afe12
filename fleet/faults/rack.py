"""A rack that lost its power is one fault: its PDU (or its feed), not one power fault per server.

When a rack's PDU fails, every server in it reports, in the same round, every PSU's input lost: each becomes a
power-feed finding (fleet.health.rules: kind `power-feed`, slot FEED, problem `feed-lost`). Two or more of them in one
site and rack in one round are grouped: ONE critical rack fault (slot RACK on its lead server: the first affected
server by hostname whose plan the SLA covers, or the first by hostname when none is, so that a rack of dedicated
servers never drops out of the SLA's figures because a VPS host sorts first; evidence "check rack R's PDU/feed" with
the affected servers) carries the one inspection work order and the SLA clock; each server's feed fault stays open
(the server is down, its state shows it) but is attached to it (`Fault.parent_id`): no work order, no swap, no spare
of its own. The rack fault closes when the last attached fault has closed (fleet.faults.common.close), that is when
every server reads its PSUs' input back.

Who is in a group:
- only servers whose controller *reported* the feed lost this round count, and it takes two of them: one server
  alone keeps its own power-feed fault (it may be that server's cord or its own PDU outlet);
- a server of the same rack whose controller did not answer in the same round is listed on the rack fault as
  "not answering" (a BMC on standby power goes dark with the PDU), but gets no fault: it reported nothing, and its
  parts' faults, if any, stay its own. The SLA counts its outage as power (fleet.sla.outages), not network;
- findings other than the feed (a failed disk in the same round) are never attached: they are that server's faults.

`rack_groups` is the pure rule; `group_rack_power` applies it to a round's faults in the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from fleet.health.model import Severity
from fleet.health.rules import POWER_FEED
from fleet.sla.clocks import clock_start, in_scope
from fleet.store import audit
from fleet.store.models import REPLANNABLE_SWAP_STATES, Fault, FaultSource, Server, Swap, SwapState

RACK_SLOT = "RACK"  # the rack fault's slot: it is about the rack, not a part of its lead server
FEED_SLOT = "FEED"  # fleet.health.rules' slot of one server's lost feed
MIN_SERVERS = 2  # reports of a lost feed in one rack and round that make it the rack's power


# --- the rule (pure) ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoundServer:
    """One server as the round saw it."""

    server_id: int
    hostname: str
    site: Hashable
    rack: str
    feed_lost: bool  # its controller reported every PSU's input lost this round
    unreachable: bool  # its controller did not answer this round
    in_scope: bool = True  # the SLA covers its plan (fleet.sla.clocks.in_scope)


@dataclass(frozen=True, slots=True)
class RackGroup:
    site: Hashable
    rack: str
    lost: tuple[RoundServer, ...]  # by hostname
    unreachable: tuple[RoundServer, ...]  # by hostname

    @property
    def lead(self) -> RoundServer:
        """The server that carries the rack fault: the first by hostname the SLA covers, else the first."""
        return next((s for s in self.lost if s.in_scope), self.lost[0])


def rack_groups(servers: Iterable[RoundServer]) -> list[RackGroup]:
    """The racks where MIN_SERVERS or more servers reported their feed lost in the round, with the servers of the
    same rack that did not answer. A server without a rack is never grouped."""
    racks: dict[tuple[Hashable, str], list[RoundServer]] = defaultdict(list)
    for s in servers:
        if s.rack.strip():
            racks[(s.site, s.rack.strip())].append(s)
    out = []
    for (site, rack), members in racks.items():
        lost = tuple(sorted((s for s in members if s.feed_lost), key=lambda s: s.hostname))
        if len(lost) >= MIN_SERVERS:
            dark = tuple(sorted((s for s in members if s.unreachable and not s.feed_lost), key=lambda s: s.hostname))
            out.append(RackGroup(site, rack, lost, dark))
    return sorted(out, key=lambda g: (str(g.site), g.rack))


def rack_evidence(group: RackGroup) -> str:
    """The rack fault's evidence: what the technician is sent to do, and on which servers it was seen."""
    text = (
        f"check rack {group.rack}'s PDU/feed: {len(group.lost)} servers lost every PSU's input in the same round: "
        + ", ".join(s.hostname for s in group.lost)
    )
    if group.unreachable:
        text += "; not answering in the same round: " + ", ".join(s.hostname for s in group.unreachable)
    return text


def is_rack_fault(fault: Fault) -> bool:
    return fault.slot == RACK_SLOT and fault.kind == POWER_FEED


# --- the service -------------------------------------------------------------------------------------------------


@dataclass
class RackResult:
    opened: list[int]  # rack faults opened
    attached: list[int]  # server feed faults attached to a rack fault this time


def group_rack_power(session: Session, *, since: datetime, now: datetime, actor: str = "sweep") -> RackResult:
    """Group this round's lost feeds by rack (in the caller's transaction). A feed fault counts when it is open,
    from monitoring, was seen since `since` (the round's start) and read bad on its latest poll; a server counts as
    not answering when its latest poll, in this round, failed. Applying it twice changes nothing the second time."""
    out = RackResult([], [])
    feeds = {
        f.server_id: f
        for f in session.exec(
            select(Fault).where(
                col(Fault.resolved_at).is_(None), Fault.kind == POWER_FEED, Fault.slot == FEED_SLOT,
                Fault.source == FaultSource.MONITORING, col(Fault.last_seen_at) >= since, Fault.healthy_polls == 0,
            )
        ).all()
    }  # fmt: skip
    if len(feeds) < MIN_SERVERS:
        return out
    lost_servers = session.exec(select(Server).where(col(Server.id).in_(list(feeds)))).all()
    racks = {(s.site_id, s.rack.strip()) for s in lost_servers}
    # Every server of those racks: the others may be the ones not answering.
    candidates = session.exec(
        select(Server).where(col(Server.site_id).in_({site for site, _ in racks}), Server.status != "decommissioned")
    ).all()
    round_rows = [
        RoundServer(
            s.id, s.hostname, s.site_id, s.rack, feed_lost=s.id in feeds,
            unreachable=s.last_poll_error is not None and s.next_poll_at is not None and s.next_poll_at > now,
            in_scope=in_scope(s.plan),
        )
        for s in candidates
        if s.id is not None and (s.site_id, s.rack.strip()) in racks
    ]  # fmt: skip
    for group in rack_groups(round_rows):
        rack_fault = _rack_fault(session, group, feeds, now=now, actor=actor, out=out)
        for member in group.lost:
            child = feeds[member.server_id]
            if child.parent_id != rack_fault.id:
                _attach(session, child, rack_fault, now=now, actor=actor)
                out.attached.append(child.id or 0)
    session.flush()
    return out


def _open_rack_fault(session: Session, site_id: Hashable, rack: str) -> Fault | None:
    q = (
        select(Fault)
        .join(Server, col(Server.id) == Fault.server_id)
        .where(col(Fault.resolved_at).is_(None), Fault.slot == RACK_SLOT, Fault.kind == POWER_FEED)
        .where(Server.site_id == site_id, Server.rack == rack)
    )
    return session.exec(q.order_by(col(Fault.id))).first()


def _rack_fault(
    session: Session, group: RackGroup, feeds: dict[int, Fault], *, now: datetime, actor: str, out: RackResult
) -> Fault:
    """The rack's open power fault, its evidence brought up to date; a new one when the rack has none."""
    evidence = rack_evidence(group)
    fault = _open_rack_fault(session, group.site, group.rack)
    if fault is not None:
        if fault.evidence != evidence:
            before = audit.snapshot(fault)
            fault.evidence = evidence
            fault.last_seen_at = now
            session.add(fault)
            audit.record(session, at=now, actor=actor, action="fault.update", entity="fault", entity_id=fault.id,
                         before=before, after=audit.snapshot(fault))  # fmt: skip
        return fault
    # The critical clock starts at the earliest report of the condition: a server whose feed was lost a round ago
    # (its own fault open since) moves the rack's clock back to then.
    start = min(clock_start(feeds[m.server_id]) for m in group.lost)
    fault = Fault(
        server_id=group.lead.server_id, slot=RACK_SLOT, kind=POWER_FEED, problem="feed-lost",
        severity=Severity.CRITICAL, evidence=evidence, source=FaultSource.MONITORING, detected_at=start,
        notified_at=start, critical_since=start, last_seen_at=now, last_poll_at=now,
    )  # fmt: skip
    session.add(fault)
    session.flush()
    audit.record(session, at=now, actor=actor, action="fault.open", entity="fault", entity_id=fault.id,
                 after=audit.snapshot(fault))  # fmt: skip
    out.opened.append(fault.id or 0)
    return fault


def _attach(session: Session, child: Fault, rack_fault: Fault, *, now: datetime, actor: str) -> None:
    """The server's feed fault becomes part of the rack's: its own work order, if one was planned, is called off
    (the rack's inspection covers it)."""
    before = audit.snapshot(child)
    child.parent_id = rack_fault.id
    # Said first: a list cut to its width still shows that this server's fault is the rack's, not a job of its own.
    child.evidence = f"part of fault {rack_fault.id} (the rack's power): {child.evidence}"
    session.add(child)
    audit.record(session, at=now, actor=actor, action="fault.attach", entity="fault", entity_id=child.id,
                 before=before, after=audit.snapshot(child))  # fmt: skip
    swaps = session.exec(
        select(Swap).where(Swap.fault_id == child.id, col(Swap.state).in_(REPLANNABLE_SWAP_STATES))
    ).all()
    for swap in swaps:
        before = audit.snapshot(swap)
        swap.state = SwapState.CANCELLED
        swap.note = f"part of fault {rack_fault.id}: one inspection of the rack's power"
        session.add(swap)
        audit.record(session, at=now, actor=actor, action="swap.cancel", entity="swap", entity_id=swap.id,
                     before=before, after=audit.snapshot(swap))  # fmt: skip
