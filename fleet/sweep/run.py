"""The headless sweep: poll every controller, then rules -> faults -> spares -> schedule proposals, in one run.

    load servers ─> resolve credentials ─> poll all (bounded, per-host deadline) ─> store in batches (sweep.store):
        server freshness, sensor changes, faults (apply_poll), spares for new faults ─> plan swaps ─> SweepRun

Polling happens outside any database transaction, so a dead controller never holds a lock; writes are batched so
the database is never the bottleneck. Exit status (monitoring convention, worst wins in this order): 2 a critical
fault is open on a swept server, 1 a warning or non-critical fault, 3 some controllers could not be read, 0 healthy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from fleet.clock import Clock, iso, utcnow
from fleet.collectors.dispatch import PollJob, poll_as_they_end, poll_jobs
from fleet.collectors.targets import IpmiOptions
from fleet.config import Settings
from fleet.errors import FleetError
from fleet.faults.rack import group_rack_power
from fleet.health.model import PollResult, Severity
from fleet.store.db import read_session, write_session
from fleet.store.models import Fault, Server, Site, SweepRun, security_fault
from fleet.swaps.rounds import plan_swaps
from fleet.sweep.credentials import target_for
from fleet.sweep.ipmi_options import ipmi_options
from fleet.sweep.report import SweepReport
from fleet.sweep.runs import mark_abandoned, this_process
from fleet.sweep.store import round_start, store_batch, store_one

log = logging.getLogger("fleet.sweep.run")

PLAN_LOCK = 0x666C656574  # "fleet": the advisory lock key planners take on PostgreSQL
BATCH = 100  # servers written per transaction: short enough that a console's write never waits long
STORE_EVERY_S = 2.0  # results that end within this of each other are stored in one transaction (fewer commits)


def due_servers(session: Session, *, site: str | None, now: datetime | None = None) -> list[Server]:
    q = select(Server).where(Server.status != "decommissioned", Server.controller_protocol != "none")
    if site:
        q = q.join(Site, col(Site.id) == Server.site_id).where(Site.code == site)
    if now is not None:
        q = q.where(col(Server.next_poll_at).is_(None) | (col(Server.next_poll_at) <= now))
    return list(session.exec(q.order_by(col(Server.id))).all())


def claim_due(session: Session, *, site: str | None, due_by: datetime, limit: int) -> list[Server]:
    """Lock up to `limit` servers due in this round that no other worker holds (PostgreSQL: SKIP LOCKED)."""
    q = select(Server).where(
        Server.status != "decommissioned",
        Server.controller_protocol != "none",
        col(Server.next_poll_at).is_(None) | (col(Server.next_poll_at) <= due_by),
    )
    if site:
        q = q.join(Site, col(Site.id) == Server.site_id).where(Site.code == site)
    q = q.order_by(col(Server.id)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True, of=Server)
    return list(session.exec(q).all())


def build_jobs(
    servers: Sequence[Server], session: Session | None = None
) -> tuple[list[PollJob], dict[int, PollResult]]:
    """Targets for the servers whose credentials resolve; a ready-made failed result for the others.

    With a session, an IPMI server whose recorded part serials disagree with the inventory its controller last
    reported gets its FRU read again on this poll (after a swap, say), whatever its age.
    """
    jobs: list[PollJob] = []
    failed: dict[int, PollResult] = {}
    recorded = _recorded_serials(session, servers) if session is not None else {}
    for s in servers:
        assert s.id is not None
        try:
            target = target_for(s)
        except FleetError as exc:
            # A collector problem, never a failing part; the message names the reference, never the secret.
            failed[s.id] = PollResult(
                host=s.controller_host, protocol=s.controller_protocol, reachable=False, error=f"credentials: {exc}"
            )
            continue
        cursor = dict(s.poll_cursor) if s.poll_cursor else None
        if cursor and s.controller_protocol == "ipmi" and recorded.get(s.id):
            from fleet.collectors.ipmi.fruplan import force_read, serials_disagree

            if serials_disagree(cursor, recorded[s.id]):
                cursor = force_read(cursor)
        jobs.append(PollJob(key=s.id, target=target, cursor=cursor))
    return jobs, failed


def _recorded_serials(session: Session, servers: Sequence[Server]) -> dict[int, dict[str, str]]:
    """server id -> {slot key: serial} of the parts installed, for the IPMI servers among `servers`."""
    from fleet.health.slots import slot_key
    from fleet.store.models import Component

    ids = [s.id for s in servers if s.controller_protocol == "ipmi" and s.poll_cursor and s.id is not None]
    out: dict[int, dict[str, str]] = {}
    for i in range(0, len(ids), 500):
        rows = session.exec(
            select(Component.server_id, Component.slot, Component.serial).where(
                col(Component.server_id).in_(ids[i : i + 500]),
                col(Component.removed_at).is_(None),
                col(Component.serial).is_not(None),
            )
        ).all()
        for server_id, slot, serial in rows:
            if serial is not None:  # the query leaves none out; the type does not know it
                out.setdefault(server_id, {})[slot_key(slot)] = serial
    return out


@dataclass
class _Round:
    """What every part of one round shares: where it writes, how it polls, and the report it fills."""

    engine: Engine
    settings: Settings
    site: str | None
    concurrency: int
    timeout: float
    clock: Clock
    options: IpmiOptions
    report: SweepReport
    interval: timedelta
    run_id: int | None
    services: bool
    progress: Callable[[int, int], None] | None
    started: datetime
    results: dict[int, PollResult] = field(default_factory=dict)
    hosts: dict[int, str] = field(default_factory=dict)
    now: datetime | None = None


def run_sweep(
    engine: Engine,
    settings: Settings,
    *,
    site: str | None = None,
    concurrency: int | None = None,
    timeout: float | None = None,
    clock: Clock = utcnow,
    worker: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    first: Collection[int] = (),
    services: bool = True,
) -> SweepReport:
    """One round. With `services`, the SLA's web and DNS checks of the swept servers run in the same round, after
    their controllers' results are stored, so an outage's cause is judged on what this round saw."""
    t0 = time.monotonic()
    started = clock()
    report = SweepReport(started_at=iso(started), site=site, worker=worker)
    rnd = _Round(
        engine=engine, settings=settings, site=site, concurrency=concurrency or settings.sweep_concurrency,
        timeout=timeout or settings.poll_timeout_s, clock=clock, options=ipmi_options(settings), report=report,
        interval=timedelta(minutes=settings.monitoring_interval_min), run_id=_start_run(engine, started, site, worker),
        services=services, progress=progress, started=started, now=started,
    )  # fmt: skip
    if worker is None:
        _sweep_alone(rnd, first)
    else:
        _sweep_as_worker(rnd, started)
    if settings.audit_every_days:
        from fleet.sweep.audit import periodic_audit  # the collectors' audit probes load only when it is on

        report.audit = periodic_audit(engine, settings, site=site, now=clock())
    _finish_run(rnd, t0)
    return report


def _start_run(engine: Engine, started: datetime, site: str | None, worker: str | None) -> int | None:
    with write_session(engine) as session:
        abandoned = mark_abandoned(session, started)
        if abandoned:
            log.warning("sweep runs %s ended without finishing (process gone): marked abandoned", abandoned)
        host, pid = this_process()
        run = SweepRun(started_at=started, site_code=site, worker=worker, host=host, pid=pid)
        session.add(run)
        session.flush()
        return run.id


def _sweep_alone(rnd: _Round, first: Collection[int]) -> None:
    """The whole round in this process: every due server polled, each result stored as it comes."""
    engine, settings, report, interval = rnd.engine, rnd.settings, rnd.report, rnd.interval
    with read_session(engine) as session:
        servers = due_servers(session, site=rnd.site)
        # Servers named in `first` lead (the demo's broken ones; a caller's suspects): their faults show first. Then
        # the controllers that did not answer last round: a dead one holds its slot for its whole deadline, and
        # started first that wait runs beside everybody else's polls instead of after them.
        servers.sort(key=lambda s: (s.id not in first, s.last_poll_error is None))
        jobs, rnd.results = build_jobs(servers, session)
    rnd.hosts = {s.id: s.hostname for s in servers if s.id is not None}
    _record_progress(engine, rnd.run_id, len(rnd.hosts), 0)
    tp = time.monotonic()
    stored_ids: set[int] = set()
    polled = 0
    # Stored as they come (one transaction for what ends within STORE_EVERY_S, at most BATCH): faults and the
    # run's progress appear as the sweep goes, and storing never holds up the polls still in flight.
    for part in poll_as_they_end(jobs, timeout=rnd.timeout, concurrency=rnd.concurrency, ipmi_options=rnd.options,
                                 group_s=STORE_EVERY_S, group_max=BATCH):  # fmt: skip
        now = rnd.clock()
        with write_session(engine) as session:
            rnd.results.update(part)
            stored_ids.update(key for key, _r in part)
            store_batch(session, part, now, settings, report, interval)
            polled += sum(1 for _k, r in part if r.reachable and not r.error)
            _record_progress_in(session, rnd.run_id, len(rnd.hosts), polled)
        if rnd.progress:
            rnd.progress(len(stored_ids), len(rnd.hosts))
    report.poll_seconds = {"wall": round(time.monotonic() - tp, 3)}
    rnd.now = now = rnd.clock()
    rest = [sid for sid in rnd.hosts if sid not in stored_ids]  # servers whose credentials did not resolve
    for i in range(0, len(rest), BATCH):
        with write_session(engine) as session:
            store_batch(session, [(sid, rnd.results[sid]) for sid in rest[i : i + BATCH]], now, settings, report,
                         interval)  # fmt: skip
    if rnd.progress:
        rnd.progress(len(rnd.hosts), len(rnd.hosts))
    assert rnd.now is not None
    _group_racks(engine, report, since=rnd.started, now=now)
    if rnd.services:
        _services(engine, settings, servers, rnd.results, now, report)


def _sweep_as_worker(rnd: _Round, started: datetime) -> None:
    """Several workers share the round: each claims a batch of due servers and holds their row locks while it polls
    them (SKIP LOCKED on PostgreSQL: the others pass over them). A worker killed mid-batch rolls back and releases
    its rows, which stay due, so another worker polls them: none is polled twice, none forgotten."""
    engine, settings, report, interval = rnd.engine, rnd.settings, rnd.report, rnd.interval
    due_by = round_start(started, interval)
    hold_locks = engine.dialect.name == "postgresql"
    while True:
        with write_session(engine) as session:
            batch = claim_due(session, site=rnd.site, due_by=due_by, limit=rnd.concurrency)
            if not batch:
                break
            rnd.hosts.update({s.id: s.hostname for s in batch if s.id is not None})
            jobs, batch_results = build_jobs(batch, session)
            if not hold_locks:
                # SQLite has one writer lock for the whole file: holding it through a poll would stall every
                # console. Mark the batch claimed and commit first (a killed worker's batch waits a round).
                for s in batch:
                    s.next_poll_at = due_by + interval
                    session.add(s)
            else:
                batch_results.update(
                    poll_jobs(jobs, timeout=rnd.timeout, concurrency=rnd.concurrency, ipmi_options=rnd.options)
                )
                rnd.now = rnd.clock()
                store_batch(session, list(batch_results.items()), rnd.now, settings, report, interval)
        if not hold_locks:
            batch_results.update(
                poll_jobs(jobs, timeout=rnd.timeout, concurrency=rnd.concurrency, ipmi_options=rnd.options)
            )
            rnd.now = rnd.clock()
            with write_session(engine) as session:
                store_batch(session, list(batch_results.items()), rnd.now, settings, report, interval)
        assert rnd.now is not None
        # The rack's power is judged on every lost feed of the round so far, this worker's and the others'.
        _group_racks(engine, report, since=due_by, now=rnd.now)
        if rnd.services:
            _services(engine, settings, batch, batch_results, rnd.now, report)
        rnd.results.update(batch_results)
        if rnd.progress:
            rnd.progress(len(rnd.results), len(rnd.results))


def _finish_run(rnd: _Round, t0: float) -> None:
    """The report's totals, the planning round, and the run's row closed."""
    report, hosts, results = rnd.report, rnd.hosts, rnd.results
    report.servers = len(hosts)
    report.swept = sorted(hosts.values())
    report.polled = sum(1 for r in results.values() if r.reachable and not r.error)
    report.unreachable = sorted(
        (
            {"server": hosts[k], "error": r.error or "unreachable"}
            for k, r in results.items()
            if not r.reachable or r.error
        ),
        key=lambda d: d["server"],
    )
    assert rnd.now is not None
    report.swaps_planned = _plan(rnd.engine, rnd.settings, rnd.now, rnd.site)
    _final_status(rnd.engine, report, list(hosts))
    finished = rnd.clock()
    report.finished_at = iso(finished)
    report.duration_s = round(time.monotonic() - t0, 3)
    with write_session(rnd.engine) as session:
        done = session.get(SweepRun, rnd.run_id)
        assert done is not None
        done.finished_at = finished
        done.servers, done.polled, done.unreachable = report.servers, report.polled, len(report.unreachable)
        done.faults_opened, done.faults_resolved = report.faults_opened, report.faults_resolved
        done.status = report.status
        # The stored copy leaves out the list of swept hosts: 105,120 runs a year at 5 minutes would make it the
        # largest thing in the database; the JSON report written for cron keeps it.
        done.report = {k: v for k, v in report.to_dict().items() if k != "swept"}
        session.add(done)


def _record_progress(engine: Engine, run_id: int | None, servers: int, polled: int) -> None:
    with write_session(engine) as session:
        _record_progress_in(session, run_id, servers, polled)


def _record_progress_in(session: Session, run_id: int | None, servers: int, polled: int) -> None:
    """How far a running sweep is, where the consoles read it: polled of servers."""
    run = session.get(SweepRun, run_id)
    if run is not None:
        run.servers, run.polled = servers, polled
        session.add(run)


def _services(
    engine: Engine,
    settings: Settings,
    servers: Sequence[Server],
    results: dict[int, PollResult],
    now: datetime,
    report: SweepReport,
) -> None:
    from fleet.sweep.outages import check_services

    count = check_services(engine, settings, servers, results, now)
    report.outages_opened += count.opened
    report.outages_closed += count.closed


def _group_racks(engine: Engine, report: SweepReport, *, since: datetime, now: datetime) -> None:
    """Servers of one rack that lost their feed in this round: one rack power fault (fleet.faults.rack), before the
    round's service checks judge their outages' cause and before the plan sends anyone."""
    with write_session(engine) as session:
        if session.get_bind().dialect.name == "postgresql":
            # Two workers finishing batches of one rack at once: one groups at a time, so the rack gets one fault.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PLAN_LOCK})
        grouped = group_rack_power(session, since=since, now=now, actor="sweep")
    report.faults_opened += len(grouped.opened)


def _plan(engine: Engine, settings: Settings, now: datetime, site: str | None) -> int:
    with write_session(engine) as session:
        if session.get_bind().dialect.name == "postgresql":
            # Several workers finish a round at about the same time: one plans at a time, so no fault ever gets
            # two swaps (SQLite already serialises writers).
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PLAN_LOCK})
        result = plan_swaps(session, now=now, settings=settings, site=site, actor="sweep")
    return result.planned_now


def _final_status(engine: Engine, report: SweepReport, server_ids: list[int]) -> None:
    with read_session(engine) as session:
        open_faults = session.exec(
            select(Fault, Server.hostname)
            .join(Server, col(Server.id) == Fault.server_id)
            .where(col(Fault.resolved_at).is_(None), ~security_fault())  # the status is the hardware's health
        ).all()
    swept = set(server_ids)
    crit = sorted({h for f, h in open_faults if f.server_id in swept and f.severity == Severity.CRITICAL})
    warn = sorted({h for f, h in open_faults if f.server_id in swept} - set(crit))
    report.critical_servers, report.warning_servers = crit, warn
    if crit:
        report.status = 2
    elif warn:
        report.status = 1
    elif report.unreachable:
        report.status = 3
    else:
        report.status = 0


@dataclass(frozen=True)
class ServerPoll:
    """What polling one server now changed; str() is the line a console shows."""

    hostname: str
    error: str | None
    health: str
    opened: int
    resolved: int
    still_open: int

    def __str__(self) -> str:
        if self.error:
            return f"{self.hostname}: controller not read ({self.error}); last known state kept"
        parts = [f"{self.hostname}: {self.health}"]
        if self.opened:
            parts.append(f"{self.opened} fault(s) opened")
        if self.resolved:
            parts.append(f"{self.resolved} resolved")
        parts.append(f"{self.still_open} open" if self.still_open else "no open fault")
        return ", ".join(parts)


def poll_server(
    engine: Engine, server_id: int, *, settings: Settings | None = None, clock: Clock = utcnow
) -> ServerPoll:
    """Poll one server now through the sweep's own pipeline (re-poll from the console, verify after a swap).

    A fault needs `healthy_polls_to_resolve` healthy polls to close by itself; after a swap it is already resolved,
    so one poll is the verification: the report says whether anything is still open on the server.
    """
    from fleet.config import load_settings

    settings = settings or load_settings()
    with read_session(engine) as session:
        server = session.get(Server, server_id)
        if server is None:
            raise FleetError(f"no server {server_id}", exit_code=4)
        hostname = server.hostname
        jobs, results = build_jobs([server], session)
    results.update(poll_jobs(jobs, timeout=settings.poll_timeout_s, concurrency=1, ipmi_options=ipmi_options(settings)))
    report = SweepReport(started_at=iso(clock()))
    interval = timedelta(minutes=settings.monitoring_interval_min)
    now = clock()
    with write_session(engine) as session:
        store_one(session, server_id, results[server_id], now, settings, report, interval)
    with read_session(engine) as session:
        server = session.get(Server, server_id)
        still = session.exec(select(Fault).where(Fault.server_id == server_id, Fault.resolved_at.is_(None))).all()  # type: ignore[union-attr]
        health = server.health if server else "unknown"
    result = results[server_id]
    return ServerPoll(
        hostname=hostname,
        error=None if result.reachable and not result.error else (result.error or "unreachable"),
        health=health,
        opened=report.faults_opened,
        resolved=report.faults_resolved,
        still_open=len(still),
    )
