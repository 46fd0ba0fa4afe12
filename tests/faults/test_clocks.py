"""Clocks that cannot be fooled (docs/SLA.md): acknowledgements inside [alert, now], the critical clock at the first
report of the critical condition, every critical fault of the month measured, a fault resolved by hand closes its
swap. Frozen times throughout; the commands or the services they call."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from fleet.cli import main
from fleet.clock import iso
from fleet.config import Settings
from fleet.faults import acknowledge, apply_poll, open_ticket, resolve
from fleet.sla.clocks import critical_deadlines
from fleet.sla.report import sla_report
from fleet.store.db import make_engine, read_session, write_session
from fleet.store.migrate import upgrade
from fleet.store.models import Fault, Server, Swap, SwapState
from tests.faults.helpers import T0, make_server, poll, rd

SETTINGS = Settings()
PSUS = [("PSU1", "psu", "P-1"), ("PSU2", "psu", "P-2")]
ONE_BAD = poll(rd("PSU1", "psu"), rd("PSU2", "psu", "critical"))
BOTH_BAD = poll(rd("PSU1", "psu", "critical"), rd("PSU2", "psu", "critical"))


@pytest.fixture
def engine(sqlite_url):
    eng = make_engine(sqlite_url)
    upgrade(eng)
    with write_session(eng) as s:
        make_server(s, "web1", components=PSUS)
    yield eng
    eng.dispose()


def sweep(engine, result, at: datetime) -> None:
    with write_session(engine) as s:
        server = s.exec(select(Server).where(Server.hostname == "web1")).one()
        apply_poll(s, server, result, now=at, settings=SETTINGS)


def psu2(engine) -> Fault:
    with read_session(engine) as s:
        return s.exec(select(Fault).where(Fault.slot == "PSU2")).one()


def ticket(engine, *, at: datetime, now: datetime, critical: bool) -> None:
    with write_session(engine) as s:
        open_ticket(s, "web1", "psu 2", "customer says PSU2 is beeping", critical=critical, at=at, now=now)


# --- the critical clock ------------------------------------------------------------------------------------------


def test_a_backdated_non_critical_ticket_does_not_move_a_later_critical_clock(engine):
    sweep(engine, ONE_BAD, T0)  # non-critical: one PSU of two
    escalated = T0 + timedelta(hours=2)
    sweep(engine, BOTH_BAD, escalated)  # the other one goes too: critical from now
    ticket(engine, at=T0 - timedelta(hours=1), now=escalated + timedelta(minutes=10), critical=False)
    f = psu2(engine)
    assert f.critical_since == escalated and f.notified_at == escalated  # neither clock of the critical alert moved
    d = critical_deadlines(f, SETTINGS)
    assert d is not None and d.limit == escalated + timedelta(hours=4)


def test_a_backdated_critical_ticket_starts_the_critical_clock_at_the_ticket(engine):
    sweep(engine, ONE_BAD, T0)
    escalated = T0 + timedelta(hours=2)
    sweep(engine, BOTH_BAD, escalated)
    reported = T0 + timedelta(hours=1)  # the customer said the server was down an hour before monitoring saw it
    ticket(engine, at=reported, now=escalated + timedelta(minutes=10), critical=True)
    f = psu2(engine)
    assert f.critical_since == reported and f.notified_at == reported


def test_an_earlier_ticket_on_a_fault_critical_from_its_first_detection_moves_its_clock(engine):
    sweep(engine, BOTH_BAD, T0)  # critical from the first poll
    ticket(engine, at=T0 - timedelta(minutes=30), now=T0 + timedelta(minutes=5), critical=False)
    f = psu2(engine)
    assert f.critical_since == T0 - timedelta(minutes=30) == f.notified_at


# --- acknowledgement ---------------------------------------------------------------------------------------------


def fleet(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_ack_at_refuses_a_time_before_the_alert_or_in_the_future(engine, sqlite_url, capsys):
    sweep(engine, ONE_BAD, T0)
    fid = str(psu2(engine).id)
    for when in (iso(T0 - timedelta(minutes=1)), "2999-01-01T00:00Z"):
        code, _, err = fleet(capsys, "faults", "ack", fid, "--by", "alice", "--at", when, "--db", sqlite_url)
        assert code == 2 and err.startswith("fleet: ") and err.count("\n") == 1 and "Traceback" not in err
    assert psu2(engine).acknowledged_at is None  # nothing written
    code, out, _ = fleet(capsys, "faults", "ack", fid, "--by", "alice", "--at", iso(T0 + timedelta(minutes=20)),
                         "--db", sqlite_url)  # fmt: skip
    assert code == 0 and "alice" in out and psu2(engine).acknowledged_at == T0 + timedelta(minutes=20)


def test_ack_service_keeps_the_window_too(engine):
    sweep(engine, ONE_BAD, T0)
    fid = psu2(engine).id
    with write_session(engine) as s, pytest.raises(Exception, match="before the alert"):
        acknowledge(s, fid, by="bob", now=T0 + timedelta(hours=1), at=T0 - timedelta(seconds=1))


# --- the report counts every critical fault; resolving closes the swap -------------------------------------------


def plan_swap(engine, fault_id: int) -> int:
    with write_session(engine) as s:
        f = s.get(Fault, fault_id)
        swap = Swap(fault_id=fault_id, server_id=f.server_id, critical=True, state=SwapState.PLANNED)
        s.add(swap)
        s.flush()
        return swap.id


def test_resolving_by_hand_closes_or_cancels_the_swap(engine):
    sweep(engine, BOTH_BAD, T0)
    with read_session(engine) as s:
        psu1, psu2_ = (s.exec(select(Fault).where(Fault.slot == slot)).one().id for slot in ("PSU1", "PSU2"))
    swapped, recovered = plan_swap(engine, psu1), plan_swap(engine, psu2_)
    at = T0 + timedelta(minutes=40)
    with write_session(engine) as s:
        resolve(s, psu1, resolution="swapped", now=at, actor="alice")
        resolve(s, psu2_, resolution="recovered", now=at, actor="alice")
    with read_session(engine) as s:
        done, off = s.get(Swap, swapped), s.get(Swap, recovered)
        assert (done.state, done.done_at) == (SwapState.DONE, at)
        assert off.state == SwapState.CANCELLED and off.done_at is None


def test_sla_report_counts_every_critical_fault_whatever_closed_it(engine):
    month, now = "2026-11", T0 + timedelta(days=1)
    sweep(engine, BOTH_BAD, T0)  # two critical faults at T0, nobody plans a swap for either
    with read_session(engine) as s:
        psu1, psu2_ = (s.exec(select(Fault).where(Fault.slot == slot)).one().id for slot in ("PSU1", "PSU2"))
    swap_id = plan_swap(engine, psu1)
    with write_session(engine) as s:  # PSU1 swapped by hand after 30 min: inside the target
        resolve(s, psu1, resolution="swapped", now=T0 + timedelta(minutes=30), actor="alice")
    # PSU2: never planned, still open a day later: late (a swap record is not needed to be counted).
    with read_session(engine) as s:
        swaps = sla_report(s, month, now=now, settings=SETTINGS)["swaps"]
        assert s.get(Swap, swap_id).state == SwapState.DONE
    assert (swaps["critical_swaps"], swaps["within_target"], swaps["within_limit"], swaps["late"]) == (2, 1, 1, 1)
    assert swaps["pending"] == 0

    with write_session(engine) as s:  # fixed five hours after the clock started: still late, counted once
        resolve(s, psu2_, resolution="recovered", now=T0 + timedelta(hours=5), actor="bob")
    with read_session(engine) as s:
        swaps = sla_report(s, month, now=now, settings=SETTINGS)["swaps"]
    assert (swaps["critical_swaps"], swaps["late"]) == (2, 1)


def test_a_fault_cancelled_as_not_a_fault_is_not_counted(engine):
    sweep(engine, BOTH_BAD, T0)
    with write_session(engine) as s:
        for f in s.exec(select(Fault)).all():
            resolve(s, f.id, resolution="cancelled", now=T0 + timedelta(minutes=5), actor="alice")
    with read_session(engine) as s:
        assert sla_report(s, "2026-11", now=T0 + timedelta(days=1), settings=SETTINGS)["swaps"]["critical_swaps"] == 0
