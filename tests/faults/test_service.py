"""The fault service on both engines: dedup across sweeps and protocols, escalation, hysteresis, flapping, tickets,
acknowledgement, and the audit trail."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from fleet.clock import FrozenClock, iso
from fleet.config import Settings
from fleet.errors import InputError, NotFound
from fleet.faults import acknowledge, apply_poll, open_ticket, resolve
from fleet.store.db import read_session, write_session
from fleet.store.models import Audit, Fault, Server, Ticket
from fleet.views.faults import fault_rows
from tests.faults.helpers import T0, ev, inv, make_server, poll, rd

SETTINGS = Settings()
PSUS = [("PSU1", "psu", "P-1"), ("PSU2", "psu", "P-2")]
FANS = [(f"FAN{i}", "fan", f"F-{i}") for i in range(1, 5)]


def setup(engine, **kw) -> int:
    with write_session(engine) as s:
        return make_server(s, components=kw.pop("components", PSUS + FANS), **kw).id


def apply(engine, server_id, result, now, settings=SETTINGS):
    with write_session(engine) as s:
        return apply_poll(s, s.get(Server, server_id), result, now=now, settings=settings)


def faults(engine, server_id, *, open_only=False) -> list[Fault]:
    with read_session(engine) as s:
        q = select(Fault).where(Fault.server_id == server_id).order_by(Fault.id)
        rows = list(s.exec(q))
    return [f for f in rows if f.resolved_at is None] if open_only else rows


def fault_dict(s, fault, now, settings):
    """The fault as `fleet faults --json` shows it."""
    [row] = fault_rows(s, now=now, settings=settings, fault_id=fault.id)
    return row.to_json()


def audits(engine, action: str | None = None) -> list[Audit]:
    with read_session(engine) as s:
        rows = list(s.exec(select(Audit).order_by(Audit.id)))
    return [a for a in rows if action is None or a.action == action]


PSU2_BAD = poll(rd("PSU1", "psu"), rd("PSU2", "psu", "critical"))
PSU2_OK = poll(rd("PSU1", "psu"), rd("PSU2", "psu"))


def test_one_fault_across_sweeps_and_protocols(engine):
    sid = setup(engine)
    first = apply(engine, sid, PSU2_BAD, T0)
    snmp = poll(rd("Power Supply 1", "psu"), rd("Power Supply 2", "psu", "critical"), protocol="snmp")
    second = apply(engine, sid, snmp, T0 + timedelta(minutes=5))
    third = apply(engine, sid, PSU2_BAD, T0 + timedelta(minutes=10))
    [fault] = faults(engine, sid)
    assert first.opened == [fault.id] and second.unchanged == [fault.id] and third.unchanged == [fault.id]
    assert (fault.slot, fault.kind, fault.problem, fault.severity) == ("PSU2", "psu", "failed", "non-critical")
    assert fault.notified_at == T0 and fault.last_seen_at == T0 + timedelta(minutes=10)
    assert len(audits(engine, "fault.open")) == 1


def test_an_unreachable_or_failed_poll_changes_no_fault(engine):
    sid = setup(engine)
    apply(engine, sid, PSU2_BAD, T0)
    before = faults(engine, sid)
    for i, bad in enumerate([poll(reachable=False, error="timeout"), poll(error="auth"), poll(reachable=False)]):
        res = apply(engine, sid, bad, T0 + timedelta(minutes=5 * (i + 1)))
        assert res.skipped and res.counts() == dict.fromkeys(res.counts(), 0)
    assert faults(engine, sid) == before
    assert len(audits(engine)) == 1


def test_escalation_restarts_the_critical_clock(engine):
    sid = setup(engine)
    apply(engine, sid, PSU2_BAD, T0)
    [f] = faults(engine, sid)
    with write_session(engine) as s:
        acknowledge(s, f.id, by="alice", now=T0 + timedelta(minutes=20))
    later = T0 + timedelta(hours=2)
    res = apply(engine, sid, poll(rd("PSU1", "psu", "critical"), rd("PSU2", "psu", "critical")), later)
    psu2, psu1 = faults(engine, sid)
    assert res.escalated == [psu2.id] and res.opened == [psu1.id]
    assert psu2.severity == "critical" and psu2.critical_since == later and psu2.notified_at == later
    assert psu2.detected_at == T0  # first seen stays on record
    # A new critical alert: the acknowledgement of the non-critical one does not cover it.
    assert psu2.acknowledged_at is None and psu2.state == "open"
    with read_session(engine) as s:
        d = fault_dict(s, psu2, later + timedelta(minutes=30), SETTINGS)
    assert d["target_at"] == iso(later + timedelta(minutes=SETTINGS.critical_target_min))
    assert d["hard_limit_at"] == iso(later + timedelta(minutes=SETTINGS.critical_limit_min))
    assert d["ack"] == "due"
    assert [a.action for a in audits(engine) if a.entity_id == psu2.id] == ["fault.open", "fault.ack", "fault.escalate"]


def test_a_psu_is_reassessed_when_its_partner_is_back(engine):
    """Both PSUs failed (critical, a 4 h clock each); PSU1 is replaced: at the next poll PSU2 fails alone, with
    redundancy back, so it is non-critical again, its critical clock gone and its planned critical swap cancelled."""
    from fleet.store.models import Swap

    sid = setup(engine)
    apply(engine, sid, poll(rd("PSU1", "psu", "critical"), rd("PSU2", "psu", "critical")), T0)
    psu1, psu2 = faults(engine, sid)
    assert psu1.severity == psu2.severity == "critical" and psu2.critical_since == T0
    with write_session(engine) as s:
        s.add(
            Swap(fault_id=psu2.id, server_id=sid, critical=True, state="planned", hard_limit_at=T0 + timedelta(hours=4))
        )
    apply(engine, sid, PSU2_BAD, T0 + timedelta(minutes=5))  # PSU1 back: PSU2 alone is non-critical
    psu2 = next(f for f in faults(engine, sid) if f.slot == "PSU2")
    assert (psu2.severity, psu2.critical_since, psu2.resolved_at) == ("non-critical", None, None)
    with read_session(engine) as s:
        swap = s.exec(select(Swap).where(Swap.fault_id == psu2.id)).one()
    assert swap.state == "cancelled"
    assert [a.action for a in audits(engine) if a.entity_id == psu2.id and a.entity == "fault"][-1] == (
        "fault.deescalate"
    )


def test_predictive_then_failed_is_one_fault(engine):
    sid = setup(engine, components=[("Disk 0", "disk", "D0"), ("Disk 1", "disk", "D1")], raid_level="RAID1")
    apply(engine, sid, poll(rd("Disk 0", "disk", "warning"), rd("Disk 1", "disk")), T0)
    res = apply(engine, sid, poll(rd("Disk 0", "disk", "critical"), rd("Disk 1", "disk")), T0 + timedelta(minutes=5))
    [f] = faults(engine, sid)
    assert res.updated == [f.id] and f.problem == "failed" and f.severity == "non-critical"


@pytest.mark.parametrize("n", [1, 3])
def test_resolves_after_n_consecutive_healthy_polls(engine, n):
    settings = replace(SETTINGS, healthy_polls_to_resolve=n)
    sid = setup(engine)
    apply(engine, sid, PSU2_BAD, T0, settings)
    t = T0
    # One healthy poll short, then bad again: the count starts over.
    for _ in range(n - 1):
        t += timedelta(minutes=5)
        apply(engine, sid, PSU2_OK, t, settings)
    t += timedelta(minutes=5)
    apply(engine, sid, PSU2_BAD, t, settings)
    for i in range(n):
        t += timedelta(minutes=5)
        assert faults(engine, sid, open_only=True), f"resolved after only {i} healthy polls"
        res = apply(engine, sid, PSU2_OK, t, settings)
    [f] = faults(engine, sid)
    assert res.resolved == [f.id] and f.resolved_at == t and f.resolution == "recovered" and f.state == "resolved"


def test_no_news_is_not_good_news(engine):
    """A slot that is not reported, or reads unknown, does not count towards resolution."""
    settings = replace(SETTINGS, healthy_polls_to_resolve=1)
    sid = setup(engine)
    apply(engine, sid, PSU2_BAD, T0, settings)
    apply(engine, sid, poll(rd("PSU1", "psu")), T0 + timedelta(minutes=5), settings)
    apply(engine, sid, poll(rd("PSU1", "psu"), rd("PSU2", "psu", "unknown")), T0 + timedelta(minutes=10), settings)
    assert faults(engine, sid, open_only=True)
    apply(engine, sid, PSU2_OK, T0 + timedelta(minutes=15), settings)
    assert not faults(engine, sid, open_only=True)


def test_a_day_of_a_flapping_fan_is_one_fault(engine):
    sid = setup(engine)
    clock = FrozenClock(T0)
    good = poll(rd("PSU1", "psu"), rd("PSU2", "psu"), *(rd(f"FAN{i}", "fan") for i in range(1, 5)))
    bad = poll(rd("PSU1", "psu"), rd("PSU2", "psu"), *(rd(f"FAN{i}", "fan", "critical" if i == 3 else "ok")
                                                      for i in range(1, 5)))  # fmt: skip
    for i in range(288):  # 24 h of 5-minute polls
        apply(engine, sid, bad if i % 2 == 0 else good, clock())
        clock.advance(timedelta(minutes=5))
    [f] = faults(engine, sid)
    assert f.slot == "FAN3" and f.flapping and f.resolved_at is None
    assert f.flaps == 143  # 144 bad polls: every one after the first came back from a healthy one
    assert len(audits(engine, "fault.open")) == 1 and len(audits(engine, "fault.flapping")) == 1


# --- tickets -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ticket_first", [True, False], ids=["ticket first", "monitoring first"])
def test_ticket_and_monitoring_are_one_fault_at_the_earliest_time(engine, ticket_first):
    sid = setup(engine)
    ticket_at, detect_at = T0, T0 + timedelta(minutes=25)
    if ticket_first:
        with write_session(engine) as s:
            open_ticket(s, "web1", "psu 2", "PSU LED amber", critical=False, at=ticket_at, now=ticket_at, by="cs")
        apply(engine, sid, PSU2_BAD, detect_at)
    else:
        apply(engine, sid, PSU2_BAD, detect_at)
        with write_session(engine) as s:
            res = open_ticket(s, "web1", "Power Supply 2", "PSU LED amber", critical=False, at=ticket_at,
                              now=detect_at + timedelta(minutes=5), by="cs")  # fmt: skip
            assert res.joined
    [f] = faults(engine, sid)
    assert f.notified_at == ticket_at and f.problem == "failed" and f.kind == "psu" and f.severity == "non-critical"
    with read_session(engine) as s:
        [t] = s.exec(select(Ticket)).all()
    assert t.fault_id == f.id and t.opened_at == ticket_at


def test_a_critical_ticket_escalates_an_open_fault(engine):
    sid = setup(engine)
    apply(engine, sid, PSU2_BAD, T0)
    at = T0 + timedelta(minutes=40)
    with write_session(engine) as s:
        res = open_ticket(s, "web1", "PSU2", "server is down", critical=True, at=at, now=at, by="cs")
    assert res.joined and res.fault.severity == "critical" and res.fault.critical_since == at
    assert [a.action for a in audits(engine)] == ["fault.open", "fault.ticket", "ticket.open"]


def test_a_ticket_for_a_critical_fault_moves_its_clock_earlier(engine):
    sid = setup(engine)
    apply(engine, sid, poll(rd("PSU1", "psu", "critical"), rd("PSU2", "psu", "critical")), T0)
    with write_session(engine) as s:
        res = open_ticket(s, "web1", "PSU1", "down", critical=True, at=T0 - timedelta(minutes=30), now=T0, by="cs")
    assert res.fault.notified_at == res.fault.critical_since == T0 - timedelta(minutes=30)


def test_a_ticket_monitoring_never_confirmed_waits_for_a_person(engine):
    settings = replace(SETTINGS, healthy_polls_to_resolve=1)
    sid = setup(engine)
    with write_session(engine) as s:
        open_ticket(s, "web1", "PSU2", "burning smell", critical=False, at=T0, now=T0, by="cs")
    for i in range(1, 4):
        apply(engine, sid, PSU2_OK, T0 + timedelta(minutes=5 * i), settings)
    [f] = faults(engine, sid, open_only=True)
    assert f.source == "ticket" and f.problem == "reported"


def test_ticket_errors(engine):
    setup(engine)
    with write_session(engine) as s, pytest.raises(NotFound, match="nosuch"):
        open_ticket(s, "nosuch", "PSU2", "x", critical=False, at=None, now=T0)
    with write_session(engine) as s, pytest.raises(InputError, match="future"):
        open_ticket(s, "web1", "PSU2", "x", critical=False, at=T0 + timedelta(hours=1), now=T0)
    with write_session(engine) as s, pytest.raises(InputError):
        open_ticket(s, "web1", " ", "x", critical=False, at=None, now=T0)
    with read_session(engine) as s:
        assert s.exec(select(Ticket)).all() == [] and s.exec(select(Fault)).all() == []


# --- acknowledgement and resolution ------------------------------------------------------------------------------


def test_acknowledgement_is_recorded_and_audited(engine):
    sid = setup(engine)
    apply(engine, sid, PSU2_BAD, T0)
    [f] = faults(engine, sid)
    with read_session(engine) as s:
        assert fault_dict(s, f, T0 + timedelta(minutes=59), SETTINGS)["ack"] == "due"
        assert fault_dict(s, f, T0 + timedelta(minutes=61), SETTINGS)["ack"] == "overdue"
    at = T0 + timedelta(minutes=12)
    with write_session(engine) as s:
        acknowledge(s, f.id, by="bob", now=at)
    with write_session(engine) as s:
        acknowledge(s, f.id, by="carol", now=at + timedelta(minutes=5))  # the first look is the one that counts
    [f] = faults(engine, sid)
    assert (f.acknowledged_by, f.acknowledged_at, f.state) == ("bob", at, "acknowledged")
    with read_session(engine) as s:
        assert fault_dict(s, f, T0 + timedelta(hours=3), SETTINGS)["ack"] == "done"
    [a] = audits(engine, "fault.ack")
    assert a.actor == "bob" and a.at == at and a.entity_id == f.id


def test_resolve_by_hand(engine):
    sid = setup(engine)
    apply(engine, sid, PSU2_BAD, T0)
    [f] = faults(engine, sid)
    with write_session(engine) as s:
        resolve(s, f.id, resolution="swapped", now=T0 + timedelta(hours=1), actor="bob")
    with write_session(engine) as s, pytest.raises(InputError, match="already"):
        resolve(s, f.id, resolution="swapped", now=T0 + timedelta(hours=2), actor="bob")
    with write_session(engine) as s, pytest.raises(InputError, match="already"):
        acknowledge(s, f.id, by="bob", now=T0 + timedelta(hours=2))
    with write_session(engine) as s, pytest.raises(NotFound):
        acknowledge(s, 9999, by="bob", now=T0)
    with write_session(engine) as s, pytest.raises(InputError, match="resolution"):
        resolve(s, 9999, resolution="magic", now=T0, actor="bob")
    [f] = faults(engine, sid)
    assert f.resolution == "swapped" and f.resolved_at == T0 + timedelta(hours=1)
    # The part fails again later: a new fault, the old one stays history.
    apply(engine, sid, PSU2_BAD, T0 + timedelta(hours=5))
    assert len(faults(engine, sid)) == 2 and len(faults(engine, sid, open_only=True)) == 1


# --- ECC, vanished and changed parts through the service ---------------------------------------------------------


def test_correctable_ecc_across_polls(engine):
    sid = setup(engine, components=[("DIMM_A1", "dimm", "M-1")])
    one = poll(rd("DIMM_A1", "dimm"), events=[ev("DIMM A1", "dimm", "Correctable ECC", at=T0, record_id=7)])
    apply(engine, sid, one, T0)
    apply(engine, sid, one, T0)  # the same poll again (a retried sweep): the event is not counted twice
    assert faults(engine, sid) == []
    two = poll(rd("DIMM_A1", "dimm"), events=[ev("DIMM_A1", "dimm", "Correctable ECC", at=T0 + timedelta(hours=3),
                                                 record_id=8)])  # fmt: skip
    apply(engine, sid, two, T0 + timedelta(hours=3))
    [f] = faults(engine, sid)
    assert (f.slot, f.problem, f.severity) == ("DIMM_A1", "ecc", "non-critical")


def test_vanished_and_swapped_without_record(engine):
    sid = setup(engine, components=[("PSU 1", "psu", "P-1"), ("PSU 2", "psu", "P-2")])
    result = poll(rd("PSU1", "psu"), inventory=[inv("Power Supply 1", "psu", "P-9")])
    res = apply(engine, sid, result, T0)
    got = sorted((f.slot, f.problem) for f in faults(engine, sid))
    # Slots keep the inventory's spelling, so the swap finds the component.
    assert got == [("PSU 1", "serial-changed"), ("PSU 2", "absent")] and len(res.opened) == 2


def test_a_machine_check_waits_for_a_person_even_when_the_cpu_reads_fine_again(engine):
    settings = replace(SETTINGS, healthy_polls_to_resolve=1)
    sid = setup(engine)
    apply(engine, sid, poll(rd("CPU1", "cpu"), events=[ev("CPU1", "cpu", "Processor IERR asserted")]), T0, settings)
    for i in range(1, 4):
        apply(engine, sid, poll(rd("CPU1", "cpu")), T0 + timedelta(minutes=5 * i), settings)
    [f] = faults(engine, sid, open_only=True)
    assert (f.slot, f.problem, f.severity) == ("CPU1", "mce", "critical")


def test_a_ticket_during_a_sweep_transaction_joins_the_fault_it_opens(engine):
    """The sweep's transaction holds the server; the ticket waits for it and then joins (one fault, not two)."""
    sid = setup(engine)
    done: list[bool] = []

    def ticket() -> None:
        with write_session(engine) as s:
            done.append(open_ticket(s, "web1", "PSU2", "amber", critical=False, at=T0, now=T0, by="cs").joined)

    with write_session(engine) as s:
        apply_poll(s, s.get(Server, sid), PSU2_BAD, now=T0 + timedelta(minutes=1), settings=SETTINGS)
        worker = threading.Thread(target=ticket)
        worker.start()
        worker.join(timeout=1.0)
        assert worker.is_alive(), "the ticket did not wait for the sweep's transaction"
    worker.join(timeout=10)
    assert done == [True]
    [f] = faults(engine, sid)
    assert f.notified_at == T0 and f.problem == "failed"
