"""Service outages: which servers the SLA's monitoring checks, and the outages its checks reveal.

An outage opens at the first failed check and closes at the first good one; the SLA report turns outages into
availability and credits. A server without a service_host is not checked (nothing is guessed from its name: a
lookup could send traffic where it must not go).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, select

from fleet.collectors.services import ServiceCheck
from fleet.sla.clocks import in_scope
from fleet.store.models import Outage, Server


def checks_for(servers: Iterable[Server]) -> list[ServiceCheck]:
    out = []
    for s in servers:
        ports = tuple(p for p in (s.web_port, s.dns_port) if p)
        if s.id is not None and s.service_host and ports and in_scope(s.plan):
            out.append(ServiceCheck(s.id, s.service_host, ports))
    return out


def update_outages(session: Session, up: dict[int, bool], now: datetime) -> tuple[int, int]:
    """Open an outage for each server that went down, close the open one of each that came back. (opened, closed)"""
    open_rows = {
        o.server_id: o
        for o in session.exec(select(Outage).where(Outage.end_at.is_(None), Outage.cause == "network"))  # type: ignore[union-attr]
    }
    opened = closed = 0
    for server_id, ok in up.items():
        current = open_rows.get(server_id)
        if not ok and current is None:
            session.add(Outage(server_id=server_id, start_at=now, cause="network", detected_by="monitoring"))
            opened += 1
        elif ok and current is not None:
            current.end_at = now
            session.add(current)
            closed += 1
    return opened, closed
