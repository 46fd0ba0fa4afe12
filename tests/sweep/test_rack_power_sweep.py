"""A rack's PDU fails under a real sweep: three simulated BMCs of one rack report every PSU's input lost (AC lost) in
the same round, the sweep opens one rack power fault with one inspection work order, no PSU swap and no spare; when
their power is back the next round resolves it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from fleet.config import load_settings
from fleet.store.db import make_engine, read_session, write_session
from fleet.store.models import Fault, Reservation, Server, Swap
from fleet.sweep.run import run_sweep

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("worker", [None, "w1"])  # a sweep alone, and one of several workers sharing the round
def test_a_rack_losing_its_pdu_is_one_fault_in_a_real_sweep(small_fleet, worker) -> None:  # type: ignore[no-untyped-def]
    fleet, sim = small_fleet
    by_key = {s.key: s for s in sim.servers}
    rack = [s for s in fleet.ipmi if len(psus(by_key, s)) >= 2][:3]
    assert len(rack) == 3
    engine = make_engine(fleet.url)
    with write_session(engine) as s:
        for server in rack:  # the three share one rack (the sample spreads them)
            row = s.get(Server, server.id)
            row.site_id, row.rack = rack[0].site_id, "R-PDU"
            s.add(row)
    for server in rack:
        for slot in psus(by_key, server):
            sim.inject(server.controller_host, slot, "input-lost", port=server.controller_port)
    # One healthy poll resolves a fault here, so the test needs two rounds, not four.
    settings = dataclasses.replace(load_settings(), healthy_polls_to_resolve=1, poll_timeout_s=10.0)

    # Two servers per worker batch: the rack's servers are stored in different batches and grouped as they come.
    settings = dataclasses.replace(settings, sweep_concurrency=2)
    report = run_sweep(engine, settings, clock=lambda: T0, services=False, worker=worker)
    ids = {s.id for s in rack}
    with read_session(engine) as s:
        faults = s.exec(select(Fault).where(Fault.resolved_at.is_(None), Fault.server_id.in_(ids))).all()  # type: ignore[attr-defined]
        (rack_fault,) = [f for f in faults if f.slot == "RACK"]
        assert "check rack R-PDU's PDU/feed" in rack_fault.evidence and rack_fault.severity == "critical"
        feeds = [f for f in faults if f.slot == "FEED"]
        assert sorted(f.server_id for f in feeds) == sorted(ids)
        assert all(f.parent_id == rack_fault.id for f in feeds)
        assert [f for f in faults if f.kind == "psu"] == []  # no PSU swap
        fault_ids = [f.id for f in faults]
        orders = s.exec(select(Swap).where(Swap.fault_id.in_(fault_ids), Swap.state != "cancelled")).all()  # type: ignore[attr-defined]
        assert [(w.fault_id, w.critical) for w in orders] == [(rack_fault.id, True)]
        assert s.exec(select(Reservation).where(Reservation.fault_id.in_(fault_ids))).all() == []  # type: ignore[attr-defined]
    assert set(report.critical_servers) >= {s.hostname for s in rack}

    for server in rack:  # the PDU is back
        for slot in psus(by_key, server):
            sim.repair(server.controller_host, slot, port=server.controller_port)
    run_sweep(engine, settings, clock=lambda: T0 + timedelta(minutes=5), services=False, worker=worker)
    with read_session(engine) as s:
        closed = s.get(Fault, rack_fault.id)
        assert closed.resolution == "recovered"
        assert s.exec(select(Fault).where(Fault.resolved_at.is_(None), Fault.server_id.in_(ids))).all() == []  # type: ignore[attr-defined]
        assert [w.state for w in s.exec(select(Swap).where(Swap.fault_id == rack_fault.id))] == ["cancelled"]
    engine.dispose()


def psus(by_key, server: Server) -> list[str]:  # type: ignore[no-untyped-def]
    where = (server.controller_host, server.controller_port)
    sim_server = next(s for s in by_key.values() if (s.host, s.port) == where)
    return [slot for slot, kind in sim_server.layout.slots() if kind == "psu"]
