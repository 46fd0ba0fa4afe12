"""Storing a batch of a sweep's results in one transaction: each server's freshness, sensor changes and faults,
and a spare reserved for every fault opened or escalated.

What storing reads (the servers, locked; their sensors' latest states, open faults, installed parts, ECC history)
is loaded for the whole batch in one query per table (fleet.faults.preload, fleet.store.history.latest_states), so
a quiet server (every reading as stored, no event, no open fault) costs no statement but its freshness update,
which the session flushes with the batch's others.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from fleet.config import Settings
from fleet.faults import apply_poll, rule_params
from fleet.faults.preload import Preloaded, lock_servers, preload
from fleet.health.model import PollResult
from fleet.stock.reserve import reserve_for_fault
from fleet.store.history import Latest, latest_states, record_readings
from fleet.store.models import Server, ServerModel
from fleet.sweep.report import SweepReport, count_spare


def round_start(now: datetime, interval: timedelta) -> datetime:
    """The start of the monitoring round `now` falls in: every worker computes the same one."""
    epoch = datetime(2000, 1, 1, tzinfo=now.tzinfo)
    n = (now - epoch) // interval
    return epoch + n * interval


def store_batch(
    session: Session,
    items: Sequence[tuple[int, PollResult]],
    now: datetime,
    settings: Settings,
    report: SweepReport,
    interval: timedelta,
) -> None:
    """Store a batch of results in the caller's transaction. What storing reads (the servers, locked; their sensors'
    latest states, open faults, installed parts, ECC history) is loaded for the whole batch in one query per table:
    a quiet server then costs no statement but its freshness update, flushed with the others."""
    ids = [sid for sid, _r in items]
    read = [sid for sid, r in items if r.reachable and not r.error]
    window = rule_params(settings).ecc_window
    # Held here, not just loaded: the session's identity map holds its objects weakly, and a `session.get` that
    # misses it queries again, flushing first (a statement or two per server where none is needed).
    servers = {s.id: s for s in lock_servers(session, ids)}
    model_ids = sorted({s.model_id for s in servers.values() if s.model_id is not None})
    models = list(session.exec(select(ServerModel).where(col(ServerModel.id).in_(model_ids)))) if model_ids else []
    pre = preload(session, read, now=now, window=window, locked=True)
    states = latest_states(session, read)
    for sid, result in items:
        store_one(session, sid, result, now, settings, report, interval, pre.get(sid), states.get(sid),
                  server=servers.get(sid))  # fmt: skip
    del models  # loaded for apply_poll's session.get(ServerModel), held until the batch is stored


def store_one(
    session: Session,
    server_id: int,
    result: PollResult,
    now: datetime,
    settings: Settings,
    report: SweepReport,
    interval: timedelta,
    pre: Preloaded | None = None,
    states: dict[str, Latest] | None = None,
    server: Server | None = None,
) -> None:
    server = server if server is not None else session.get(Server, server_id)
    if server is None:  # deleted while we polled
        return
    server.next_poll_at = round_start(now, interval) + interval
    if not result.reachable or result.error:
        # Stale data stays, with its age (last_polled_at is not moved): a dead BMC is never a healthy server.
        server.last_poll_error = result.error or "unreachable"
        session.add(server)
        return
    server.last_polled_at = now
    server.last_poll_error = None
    if result.cursor is not None:
        server.poll_cursor = result.cursor
    record_readings(session, server_id, result.readings, now, states)
    applied = apply_poll(session, server, result, now=now, settings=settings, actor="sweep", pre=pre)
    # The server's health is what the rules say (redundancy-aware), not the raw worst reading.
    server.health = applied.health
    report.faults_opened += len(applied.opened)
    report.faults_escalated += len(applied.escalated)
    report.faults_resolved += len(applied.resolved)
    for fault_id in [*applied.opened, *applied.escalated]:
        reserve(session, fault_id, now, settings, report)
    session.add(server)


def reserve(session: Session, fault_id: int, now: datetime, settings: Settings, report: SweepReport) -> None:
    outcome = reserve_for_fault(session, fault_id, now=now, settings=settings, actor="sweep")
    count_spare(report, outcome)
