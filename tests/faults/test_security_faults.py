"""Security faults (BMC audit findings) through the fault service, on a real database: one fault and one work order
per finding, closed only by an audit that looked again, and never a part swap, a spare, a planned SLA swap, an SLA
figure or an outage's cause. The audit itself, against ipmi_sim, is in tests/audit/test_security_faults.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from fleet.config import Settings
from fleet.errors import FleetError
from fleet.faults import open_ticket, resolve
from fleet.faults.security import Exposure, apply_audit
from fleet.sla.report import sla_report
from fleet.store.db import read_session, write_session
from fleet.store.models import Fault, MaintenanceWindow, Reservation, Server, Swap, SwapState, Technician
from fleet.swaps.rounds import run_planning
from fleet.swaps.work import complete_swap
from fleet.sweep.outages import seen_in_round
from fleet.views.faults import fault_rows
from tests.faults.helpers import T0, make_server

S = Settings()
ALL_WEEK = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
CIPHER0 = Exposure("cipher-zero", True, "cipher suite 0 accepted", "RMCP+ open session", "disable cipher suite 0")
WEAK15 = Exposure("ipmi15-weak", False, "IPMI 1.5 offered with MD5", "capabilities", "disable IPMI 1.5")
DEFAULTS = Exposure("default-credentials", True, "default password works for 'ADMIN'", "one login", "change it")
CAPS = ("anonymous-login", "null-user", "ipmi15-only", "ipmi15-none", "ipmi15-weak")


def audit(engine, exposures, checked, *, at=T0):  # type: ignore[no-untyped-def]
    with write_session(engine) as s:
        server = s.exec(select(Server).where(Server.hostname == "web1")).first() or make_server(s)
        return apply_audit(s, server, exposures, checked, now=at, actor="audit:test")


def rows(engine):  # type: ignore[no-untyped-def]
    with read_session(engine) as s:
        faults = {f.problem: f for f in s.exec(select(Fault)).all()}
        swaps = {sw.fault_id: sw for sw in s.exec(select(Swap)).all()}
        return faults, swaps


def test_a_finding_is_a_fault_with_a_work_order_and_no_spare(engine) -> None:  # type: ignore[no-untyped-def]
    result = audit(engine, [CIPHER0, WEAK15], {"cipher-zero", *CAPS})
    faults, swaps = rows(engine)
    assert len(result.opened) == 2 and len(result.work_orders) == 2
    c0, weak = faults["cipher-zero"], faults["ipmi15-weak"]
    assert (c0.kind, c0.slot, c0.source, c0.severity) == ("security", "BMC", "audit", "critical")
    assert weak.severity == "non-critical"
    assert swaps[c0.id].state == SwapState.PLANNED and swaps[c0.id].critical
    assert "disable cipher suite 0" in (swaps[c0.id].note or "")
    with read_session(engine) as s:
        assert s.exec(select(Reservation)).all() == []


def test_planning_leaves_the_work_orders_alone(engine) -> None:  # type: ignore[no-untyped-def]
    audit(engine, [CIPHER0, WEAK15], {"cipher-zero", *CAPS})
    with write_session(engine) as s:
        server = s.exec(select(Server)).one()
        s.add(Technician(name="Tom", site_id=server.site_id, shifts=ALL_WEEK))
    with write_session(engine) as s:
        plan = run_planning(s, now=T0, settings=S)
    assert plan.critical == [] and plan.proposals == []  # no 1 h / 4 h swap, no mail to the customer
    _, swaps = rows(engine)
    assert all(sw.technician_id is None and sw.hard_limit_at is None for sw in swaps.values())
    with read_session(engine) as s:
        assert s.exec(select(MaintenanceWindow)).all() == []


def test_outside_the_sla_figures_and_outage_causes(engine) -> None:  # type: ignore[no-untyped-def]
    audit(engine, [CIPHER0], {"cipher-zero"})
    with read_session(engine) as s:
        report = sla_report(s, "2026-11", now=T0 + timedelta(hours=6), settings=S)
        server = s.exec(select(Server)).one()
        seen = seen_in_round(s, [server.id], {})  # type: ignore[list-item]
    assert report["swaps"]["critical_swaps"] == 0 and report["acknowledgement"]["alerts"] == 0
    assert not seen[server.id].critical_fault_open  # type: ignore[index]
    # ... and the fault list agrees with the report: no acknowledgement hour runs for it, hours later either
    with read_session(engine) as s:
        [row] = fault_rows(s, now=T0 + timedelta(hours=6), settings=S)
    assert row.ack == "none" and row.ack_due_at is None and row.to_json()["ack_due_at"] is None


def test_the_next_audit_keeps_what_is_still_there_and_closes_what_is_gone(engine) -> None:  # type: ignore[no-untyped-def]
    audit(engine, [CIPHER0, WEAK15], {"cipher-zero", *CAPS})
    before, _ = rows(engine)
    later = T0 + timedelta(days=7)
    result = audit(engine, [WEAK15], {"cipher-zero", *CAPS}, at=later)
    faults, swaps = rows(engine)
    assert result.resolved == [before["cipher-zero"].id] and result.kept == [before["ipmi15-weak"].id]
    c0 = faults["cipher-zero"]
    assert c0.resolved_at == later and c0.resolution == "recovered"
    assert swaps[c0.id].state == SwapState.DONE and swaps[c0.id].done_at == later
    assert faults["ipmi15-weak"].resolved_at is None and faults["ipmi15-weak"].last_seen_at == later
    assert swaps[faults["ipmi15-weak"].id].state == SwapState.PLANNED
    # Seen again after it was fixed (a board back from repair): a new fault and a new work order.
    again = audit(engine, [CIPHER0], {"cipher-zero"}, at=later + timedelta(days=7))
    assert len(again.opened) == 1 and again.opened != [c0.id] and len(again.work_orders) == 1


def test_only_what_the_audit_looked_at_is_closed(engine) -> None:  # type: ignore[no-untyped-def]
    audit(engine, [DEFAULTS, CIPHER0], {"default-credentials", "cipher-zero", *CAPS})
    # Default logins not tried, cipher 0 not probed (no user), a controller that did not answer: nothing closes.
    audit(engine, [], set(CAPS), at=T0 + timedelta(days=1))
    audit(engine, [], set(), at=T0 + timedelta(days=2))
    faults, _ = rows(engine)
    assert faults["default-credentials"].resolved_at is None and faults["cipher-zero"].resolved_at is None


def test_a_work_order_is_not_finished_as_a_part_swap(engine) -> None:  # type: ignore[no-untyped-def]
    audit(engine, [CIPHER0], {"cipher-zero"})
    faults, swaps = rows(engine)
    with pytest.raises(FleetError, match="security work order"), write_session(engine) as s:
        complete_swap(s, swaps[faults["cipher-zero"].id].id, new_serial="X1", technician=None, now=T0, actor="t")
    # Closed by hand (a person fixed it and says so): its work order is done, not left behind.
    with write_session(engine) as s:
        resolve(s, faults["cipher-zero"].id, resolution="recovered", now=T0, actor="marie")  # type: ignore[arg-type]
    _, swaps = rows(engine)
    assert swaps[faults["cipher-zero"].id].state == SwapState.DONE


def test_a_ticket_on_the_bmc_does_not_join_a_security_fault(engine) -> None:  # type: ignore[no-untyped-def]
    audit(engine, [CIPHER0], {"cipher-zero"})
    with write_session(engine) as s:
        res = open_ticket(s, "web1", "BMC", "controller does not answer", critical=False, at=None, now=T0)
    assert not res.joined and res.fault.kind != "security"


def test_a_server_down_is_listed_before_an_older_security_finding(engine) -> None:  # type: ignore[no-untyped-def]
    # Both critical; the finding is hours older, but a server down has a clock running and the finding has none.
    audit(engine, [CIPHER0], {"cipher-zero"}, at=T0)
    with write_session(engine) as s:
        down = open_ticket(s, "web1", "PSU1", "server down", critical=True, at=None, now=T0 + timedelta(hours=3))
        minor = open_ticket(s, "web1", "FAN1", "noisy fan", critical=False, at=None, now=T0 + timedelta(hours=3))
    with read_session(engine) as s:
        listed = fault_rows(s, now=T0 + timedelta(hours=3), settings=S)
    assert [r.problem if r.kind == "security" else r.slot for r in listed] == ["PSU1", "cipher-zero", "FAN1"]
    assert listed[0].id == down.fault.id and listed[2].id == minor.fault.id
