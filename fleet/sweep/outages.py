"""Service outages: which servers the SLA's monitoring checks, the outages its checks reveal and their cause.

An outage of one check (web or DNS) opens at the first failed check and closes at the first good one; its cause is
decided when it opens, from what the same round saw (fleet.sla.outages.classify). The SLA report turns network
outages into availability and credits. A server without a service_host is not checked (nothing is guessed from its
name: a lookup could send traffic where it must not go).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from fleet.collectors.services import ServiceCheck, run_checks
from fleet.config import Settings
from fleet.faults.rack import RACK_SLOT
from fleet.health.model import PollResult, Severity
from fleet.health.rules import POWER_FEED
from fleet.sla.clocks import in_scope
from fleet.sla.outages import Seen, classify, site_wide
from fleet.store.db import write_session
from fleet.store.models import Fault, Outage, Server, security_fault


@dataclass
class OutageCount:
    opened: int = 0
    closed: int = 0


def checks_for(servers: Iterable[Server]) -> list[ServiceCheck]:
    out = []
    for s in servers:
        if s.id is not None and s.service_host and (s.web_port or s.dns_port) and in_scope(s.plan):
            out.append(ServiceCheck(s.id, s.service_host, s.hostname, s.web_port, s.dns_port))
    return out


def seen_in_round(session: Session, server_ids: Iterable[int], results: Mapping[int, PollResult]) -> dict[int, Seen]:
    """What the round saw of each server's controller, and which have a critical fault open (after the round's
    faults were applied)."""
    ids = list(server_ids)
    critical = set(
        session.exec(
            select(Fault.server_id).where(
                col(Fault.server_id).in_(ids),
                col(Fault.resolved_at).is_(None),
                Fault.severity == Severity.CRITICAL,
                ~security_fault(),  # an exposed BMC does not take a host down
            )
        ).all()
    )
    powerless = rack_power_lost(session, ids, results)
    out = {}
    for sid in ids:
        r = results.get(sid)
        reachable = None if r is None else bool(r.reachable and not r.error)
        out[sid] = Seen(reachable, powered_off=bool(r and r.power == "off"), critical_fault_open=sid in critical,
                        power_lost=sid in powerless)  # fmt: skip
    return out


def rack_power_lost(session: Session, ids: Iterable[int], results: Mapping[int, PollResult]) -> set[int]:
    """The servers down because their rack lost its power (fleet.faults.rack): their feed fault is part of an open
    rack fault, or their controller did not answer this round in a rack whose power fault is open."""
    ids = list(ids)
    attached = set(
        session.exec(
            select(Fault.server_id).where(
                col(Fault.server_id).in_(ids), col(Fault.resolved_at).is_(None), col(Fault.parent_id).is_not(None)
            )
        ).all()
    )
    dark = [sid for sid in ids if sid not in attached and (r := results.get(sid)) is not None
            and not (r.reachable and not r.error)]  # fmt: skip
    if not dark:
        return attached
    racks = {
        (site_id, rack)
        for site_id, rack in session.exec(
            select(Server.site_id, Server.rack)
            .join(Fault, col(Fault.server_id) == Server.id)
            .where(col(Fault.resolved_at).is_(None), Fault.slot == RACK_SLOT, Fault.kind == POWER_FEED)
        ).all()
    }
    servers = session.exec(select(Server).where(col(Server.id).in_(dark))).all()
    return attached | {s.id for s in servers if s.id is not None and (s.site_id, s.rack) in racks}


def update_outages(
    session: Session, up: Mapping[int, Mapping[str, bool]], seen: Mapping[int, Seen], now: datetime
) -> OutageCount:
    """Open an outage for each check that failed (with its cause), close the open one of each that passed."""
    ids = list(up)
    servers = {s.id: s for s in session.exec(select(Server).where(col(Server.id).in_(ids))).all()}
    open_rows = {
        (o.server_id, o.service): o
        for o in session.exec(select(Outage).where(col(Outage.server_id).in_(ids), col(Outage.end_at).is_(None)))
    }
    down = {sid for sid, checks in up.items() if not all(checks.values())}
    count = OutageCount()
    for sid, checks in up.items():
        server = servers.get(sid)
        if server is None:
            continue
        for service, ok in checks.items():
            current = open_rows.get((sid, service))
            if ok and current is not None:
                current.end_at = now
                session.add(current)
                count.closed += 1
            elif not ok and current is None:
                others = [o for o, s in servers.items() if o != sid and s.site_id == server.site_id]
                cause = classify(
                    seen.get(sid, Seen(None)), site_down=site_wide(len(others), len([o for o in others if o in down]))
                )
                count.opened += _open(session, Outage(server_id=sid, service=service, start_at=now, cause=cause))
    return count


def _open(session: Session, outage: Outage) -> int:
    """Insert an open outage unless another writer just did (the partial unique index decides)."""
    try:
        with session.begin_nested():
            session.add(outage)
        return 1
    except IntegrityError:
        return 0


def check_services(
    engine: Engine, settings: Settings, servers: Iterable[Server], results: Mapping[int, PollResult], now: datetime
) -> OutageCount:
    """Run the round's web and DNS checks for these servers and record the outages they reveal."""
    checks = checks_for(servers)
    if not checks:
        return OutageCount()
    up = asyncio.run(run_checks(checks, timeout=settings.service_timeout_s, concurrency=settings.sweep_concurrency))
    with write_session(engine) as session:
        seen = seen_in_round(session, up, results)
        return update_outages(session, up, seen, now)
