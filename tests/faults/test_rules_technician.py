"""Rules a technician would sign: a lost power feed is not two dead PSUs, a hot CPU is a cooling inspection, an
uncorrectable memory error that reset the host is critical. Through the fault service the sweep calls (real
database), and the spare it looks for."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from fleet.config import Settings
from fleet.faults import apply_poll
from fleet.health.layout import Layout
from fleet.health.rules import assess
from fleet.stock.reserve import reserve_for_fault
from fleet.store.db import read_session, write_session
from fleet.store.models import Audit, Fault, Reservation
from tests.faults.helpers import T0, ev, make_server, poll, rd

S = Settings()
PSUS = [("PSU1", "psu", "P-1"), ("PSU2", "psu", "P-2")]


def open_and_reserve(engine, result, components=PSUS, **kw) -> tuple[list[Fault], list[str]]:  # type: ignore[no-untyped-def]
    with write_session(engine) as s:
        server = make_server(s, components=components, **kw)
        applied = apply_poll(s, server, result, now=T0, settings=S)
        outcomes = [reserve_for_fault(s, fid, now=T0, settings=S, actor="test").status for fid in applied.opened]
    with read_session(engine) as s:
        return list(s.exec(select(Fault).order_by(Fault.id)).all()), outcomes


def test_both_psus_losing_ac_is_the_power_feed(engine) -> None:  # type: ignore[no-untyped-def]
    ac = "AC lost"
    faults, outcomes = open_and_reserve(
        engine, poll(rd("PSU1", "psu", "critical", detail=ac), rd("PSU2", "psu", "critical", detail=ac), power="off")
    )
    assert [(f.kind, f.slot, f.problem, f.severity) for f in faults] == [
        ("power-feed", "FEED", "feed-lost", "critical")
    ]
    assert outcomes == ["no-part"]  # no PSU swap, no spare reserved, no "no spare in reach" flag
    with read_session(engine) as s:
        assert s.exec(select(Reservation)).all() == []
        assert [a for a in s.exec(select(Audit)).all() if a.action == "fault.no_spare_in_reach"] == []


def test_one_psu_losing_ac_is_still_that_psu(engine) -> None:  # type: ignore[no-untyped-def]
    faults, _ = open_and_reserve(engine, poll(rd("PSU1", "psu"), rd("PSU2", "psu", "critical", detail="AC lost")))
    assert [(f.kind, f.slot, f.severity) for f in faults] == [("psu", "PSU2", "non-critical")]


def test_two_dead_psus_without_ac_lost_are_two_psus(engine) -> None:  # type: ignore[no-untyped-def]
    faults, _ = open_and_reserve(engine, poll(rd("PSU1", "psu", "critical"), rd("PSU2", "psu", "critical")))
    assert sorted((f.kind, f.severity) for f in faults) == [("psu", "critical"), ("psu", "critical")]


def test_a_hot_cpu_is_a_cooling_inspection_not_a_cpu_swap(engine) -> None:  # type: ignore[no-untyped-def]
    hot = rd("CPU1", "temperature", "critical", name="CPU1 Temp", detail="above upper critical")
    faults, outcomes = open_and_reserve(engine, poll(rd("PSU1", "psu"), rd("PSU2", "psu"), hot))
    assert [(f.kind, f.slot, f.problem, f.severity) for f in faults] == [
        ("cooling", "CPU1", "overtemp", "non-critical")
    ]
    assert outcomes == ["no-part"]


def test_an_uncorrectable_memory_error_that_reset_the_host_is_critical() -> None:
    ue = ev("DIMM_A1", "dimm", "Memory: Uncorrectable ECC asserted", at=T0 - timedelta(minutes=2))
    reset = ev("", "other", "System Restart: hard reset asserted", at=T0 - timedelta(minutes=1))
    layout = Layout(psu_count=2)
    running = assess(poll(events=[ue]), layout, now=T0)
    after_reset = assess(poll(events=[ue, reset]), layout, now=T0)
    assert [(f.slot, f.problem, f.severity) for f in running] == [("DIMM_A1", "uncorrectable", "non-critical")]
    assert [(f.slot, f.problem, f.severity) for f in after_reset] == [("DIMM_A1", "uncorrectable", "critical")]
