"""Properties of the fault service (hypothesis), on both engines. Each example gets a server of its own."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from fleet.config import Settings
from fleet.faults import apply_poll
from fleet.store.db import read_session, write_session
from fleet.store.models import Audit, Fault, SensorChange, Server
from tests.faults.helpers import T0, ev, inv, make_server, poll, rd

_hosts = itertools.count()
SLOTS = [("PSU1", "psu"), ("PSU2", "psu"), ("FAN1", "fan"), ("FAN2", "fan"), ("Disk 0", "disk"), ("Disk 1", "disk"),
         ("DIMM_A1", "dimm"), ("CPU1", "cpu"), ("BAT", "battery"), ("VD0", "raid")]  # fmt: skip
STATES = ["ok", "ok", "warning", "critical", "absent", "unknown"]

readings_st = st.lists(st.tuples(st.sampled_from(SLOTS), st.sampled_from(STATES)), max_size=12).map(
    lambda pairs: [rd(slot, kind, state) for (slot, kind), state in pairs]
)
events_st = st.lists(
    st.sampled_from(["Correctable ECC", "Uncorrectable ECC", "Processor IERR", "Thermal Trip"]), max_size=3
)


@st.composite
def polls(draw):
    readings = draw(readings_st)
    texts = draw(events_st)
    kinds = {"Correctable ECC": "dimm", "Uncorrectable ECC": "dimm", "Processor IERR": "cpu", "Thermal Trip": "cpu"}
    slot = {"dimm": "DIMM_A1", "cpu": "CPU1"}
    events = [ev(slot[kinds[t]], kinds[t], t, record_id=draw(st.integers(0, 5))) for t in texts]
    inventory = []
    if draw(st.booleans()):
        # No serial reported, or one that differs from the recorded one (serial-changed).
        inventory = [inv(s, k, draw(st.sampled_from([None, "OTHER"]))) for s, k in SLOTS[:4]]
    return poll(*readings, events=events, inventory=inventory, power=draw(st.sampled_from(["on", "off"])))


def new_server(engine) -> int:
    with write_session(engine) as s:
        host = f"prop{next(_hosts)}"
        components = [(slot, kind, f"{host}-{slot}") for slot, kind in SLOTS if kind != "raid"]
        return make_server(s, host, components=components, fan_count=2).id  # type: ignore[return-value]


def state_of(engine, sid):
    with read_session(engine) as s:
        rows = [f.model_dump() for f in s.exec(select(Fault).where(Fault.server_id == sid).order_by(Fault.id))]
        audits = s.exec(select(func.count()).select_from(Audit)).one()
        changes = s.exec(select(func.count()).select_from(SensorChange).where(SensorChange.server_id == sid)).one()
    return rows, audits, changes


def apply(engine, sid, result, now, cfg):
    with write_session(engine) as s:
        return apply_poll(s, s.get(Server, sid), result, now=now, settings=cfg)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(polls(), max_size=3), last=polls())
def test_applying_the_same_poll_twice_changes_nothing(engine, history, last):
    sid = new_server(engine)
    cfg = Settings()
    for i, p in enumerate(history):
        apply(engine, sid, p, T0 + timedelta(minutes=5 * i), cfg)
    now = T0 + timedelta(minutes=5 * len(history))
    apply(engine, sid, last, now, cfg)
    before = state_of(engine, sid)
    again = apply(engine, sid, last, now, cfg)
    assert state_of(engine, sid) == before
    assert not (again.opened or again.escalated or again.updated or again.resolved)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 5), healthy=st.lists(st.booleans(), min_size=1, max_size=14))
def test_resolving_needs_exactly_the_configured_healthy_polls(engine, n, healthy):
    """After a PSU fails, a run of polls, each healthy or bad: the fault resolves at the first poll that ends a run
    of `n` healthy ones, and not a poll earlier."""
    cfg = replace(Settings(), healthy_polls_to_resolve=n)
    sid = new_server(engine)
    bad = poll(rd("PSU1", "psu"), rd("PSU2", "psu", "critical"))
    good = poll(rd("PSU1", "psu"), rd("PSU2", "psu"))
    apply(engine, sid, bad, T0, cfg)
    expected = next((i for i in range(len(healthy)) if i + 1 >= n and all(healthy[i + 1 - n : i + 1])), None)
    for i, ok in enumerate(healthy):
        res = apply(engine, sid, good if ok else bad, T0 + timedelta(minutes=5 * (i + 1)), cfg)
        assert bool(res.resolved) == (i == expected), f"poll {i}: resolved={res.resolved}, expected at {expected}"
        if i == expected:
            break
    with read_session(engine) as s:
        [fault] = s.exec(select(Fault).where(Fault.server_id == sid)).all()
    assert (fault.resolved_at is not None) == (expected is not None)
