"""Matching a fault to a spare, reserving it, transfers, releasing it; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from fleet.config import Settings
from fleet.errors import FleetError, NotFound
from fleet.stock.reserve import NO_SPARE_IN_REACH, release_for_fault, reserve_for_fault
from fleet.stock.transfers import receive_transfer, ship_transfer
from fleet.store.db import read_session, write_session
from fleet.store.models import Audit, Fault, PartModel, Reservation, ServerModel, Stock, Transfer
from fleet.swaps.work import complete_swap
from tests.stock import helpers as h

NOW = h.T0 + timedelta(minutes=10)
SETTINGS = Settings(transit_hours={"AMS1-PAR1": 6.0, "FRA1-PAR1": 2.0}, transit_default_h=24.0)


def reserve(engine, fault_id, now=NOW, settings=SETTINGS):
    with write_session(engine) as s:
        return reserve_for_fault(s, fault_id, now=now, settings=settings, actor="test")


def stock_row(engine, stock_id):
    with read_session(engine) as s:
        return s.get(Stock, stock_id)


def audits(engine, action):
    with read_session(engine) as s:
        return list(s.exec(select(Audit).where(Audit.action == action)).all())


def psu_world(engine, *, local_units=1):
    """A server at PAR1 with a failed PSU2 of part PSU-A, and `local_units` PSU-A on the PAR1 shelf."""
    with write_session(engine) as s:
        par = h.site(s, "PAR1")
        model = h.server_model(s)
        psu = h.part(s, "PSU-A", fits=[model])
        srv = h.server(s, par, model)
        h.component(s, srv, "PSU2", psu, serial="OLD-PSU2")
        st = h.stock(s, par, psu, local_units)
        f = h.fault(s, srv, "PSU2")
        return {"par": par.id, "model": model.id, "psu": psu.id, "server": srv.id, "stock": st.id, "fault": f.id}


def test_stock_cannot_go_negative_in_the_database(engine):
    w = psu_world(engine)
    for stmt in ("UPDATE stock SET on_hand = -1", "UPDATE stock SET reserved = -1", "UPDATE stock SET reserved = 2"):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text(stmt))
    assert stock_row(engine, w["stock"]).on_hand == 1


def test_reserves_the_spare_at_the_servers_site_once(engine):
    w = psu_world(engine, local_units=3)
    first = reserve(engine, w["fault"])
    assert (first.status, first.part_number, first.site, first.existing) == ("reserved", "PSU-A", "PAR1", False)
    again = reserve(engine, w["fault"])
    assert again.existing and again.reservation_id == first.reservation_id
    row = stock_row(engine, w["stock"])
    assert (row.on_hand, row.reserved) == (3, 1)
    entries = audits(engine, "stock.reserve")
    assert len(entries) == 1 and entries[0].after["reserved"] == 1


def test_the_last_unit_goes_to_one_fault_only(engine):
    w = psu_world(engine)
    with write_session(engine) as s:
        srv2 = h.server(s, h.site(s, "PAR1"), h.server_model(s))
        other = h.fault(s, srv2, "PSU1")
    assert reserve(engine, w["fault"]).status == "reserved"
    second = reserve(engine, other.id)
    assert second.status == "none" and second.flag is None  # non-critical: no alarm, just nothing to reserve
    assert stock_row(engine, w["stock"]).reserved == 1


def test_substitute_is_used_when_the_own_part_is_out_and_incompatible_ones_never(engine):
    w = psu_world(engine, local_units=0)
    with write_session(engine) as s:
        par = h.site(s, "PAR1")
        original = s.get(PartModel, w["psu"])
        other_model = h.server_model(s, "DL380")
        misfit = h.part(s, "PSU-X", fits=[other_model])  # a substitute on paper, but not for this server model
        good = h.part(s, "PSU-B", fits=[s.get(ServerModel, w["model"])])
        h.substitute(s, original, misfit)
        h.substitute(s, original, good)
        h.stock(s, par, misfit, 5)
        good_stock = h.stock(s, par, good, 1)
    out = reserve(engine, w["fault"])
    assert (out.status, out.part_number) == ("reserved", "PSU-B")
    assert stock_row(engine, good_stock.id).reserved == 1


def test_without_inventory_any_compatible_part_of_the_kind_matches(engine):
    with write_session(engine) as s:
        par = h.site(s, "PAR1")
        model = h.server_model(s)
        h.part(s, "DISK-OTHER", "disk", fits=[h.server_model(s, "DL380")])
        disk = h.part(s, "DISK-1", "disk", fits=[model])
        h.stock(s, par, disk, 1)
        srv = h.server(s, par, model)
        f = h.fault(s, srv, "Disk 0:1:4", "disk")
    out = reserve(engine, f.id)
    assert (out.status, out.part_number) == ("reserved", "DISK-1")


def test_transfer_comes_from_the_site_whose_part_arrives_first(engine):
    w = psu_world(engine, local_units=0)
    with write_session(engine) as s:
        psu = s.get(PartModel, w["psu"])
        # More units far away must not beat fewer units close by; LON1 has no configured time (default 24 h).
        h.stock(s, h.site(s, "LON1"), psu, 9)
        h.stock(s, h.site(s, "AMS1"), psu, 5)
        fra = h.stock(s, h.site(s, "FRA1"), psu, 1)
    out = reserve(engine, w["fault"])
    assert (out.status, out.site) == ("transfer", "FRA1")
    assert out.eta == NOW + timedelta(hours=2)
    with read_session(engine) as s:
        t = s.get(Transfer, out.transfer_id)
        assert (t.state, t.fault_id, t.eta) == ("proposed", w["fault"], NOW + timedelta(hours=2))
        assert s.get(Stock, fra.id).reserved == 1
    assert len(audits(engine, "transfer.propose")) == 1


def critical_world(engine, *, notified, critical_since=None, remote_site="LON1"):
    w = psu_world(engine, local_units=0)
    with write_session(engine) as s:
        f = s.get(Fault, w["fault"])
        f.severity, f.notified_at, f.critical_since = "critical", notified, critical_since
        s.add(f)
        if remote_site:
            h.stock(s, h.site(s, remote_site), s.get(PartModel, w["psu"]), 1)
    return w


def test_critical_fault_whose_spare_arrives_too_late_is_flagged(engine):
    w = critical_world(engine, notified=h.T0)  # LON1 -> PAR1: 24 h, far past the 4 h limit
    out = reserve(engine, w["fault"])
    assert out.status == "transfer" and not out.in_reach and out.flag == NO_SPARE_IN_REACH
    assert out.deadline == h.T0 + timedelta(hours=4)
    flagged = audits(engine, "fault.no_spare_in_reach")
    assert [a.entity_id for a in flagged] == [w["fault"]]


def test_critical_fault_with_a_close_spare_is_not_flagged(engine):
    w = critical_world(engine, notified=h.T0, remote_site="FRA1")  # 2 h away, 4 h limit
    out = reserve(engine, w["fault"])
    assert out.in_reach and out.flag is None
    assert audits(engine, "fault.no_spare_in_reach") == []


def test_the_clock_of_a_fault_that_became_critical_starts_then(engine):
    # Notified 10 h ago as non-critical, critical since T0: deadline T0 + 4 h; FRA1 arrives at NOW + 2 h: in reach.
    w = critical_world(engine, notified=h.T0 - timedelta(hours=10), critical_since=h.T0, remote_site="FRA1")
    out = reserve(engine, w["fault"])
    assert out.deadline == h.T0 + timedelta(hours=4) and out.in_reach


def test_critical_fault_with_no_spare_anywhere_is_flagged(engine):
    w = critical_world(engine, notified=h.T0, remote_site=None)
    out = reserve(engine, w["fault"])
    assert (out.status, out.flag) == ("none", NO_SPARE_IN_REACH)
    assert len(audits(engine, "fault.no_spare_in_reach")) == 1


@pytest.mark.parametrize("how", ["cancelled", "recovered"])
def test_a_cancelled_or_resolved_fault_frees_its_spare(engine, how):
    w = psu_world(engine)
    with write_session(engine) as s:
        srv2 = h.server(s, h.site(s, "PAR1"), h.server_model(s))
        waiting = h.fault(s, srv2, "PSU1")
    assert reserve(engine, w["fault"]).status == "reserved"
    assert reserve(engine, waiting.id).status == "none"
    with write_session(engine) as s:
        f = s.get(Fault, w["fault"])
        f.state, f.resolved_at, f.resolution = ("cancelled" if how == "cancelled" else "resolved"), NOW, how
        s.add(f)
        assert release_for_fault(s, w["fault"], now=NOW, actor="test") == 1
    with read_session(engine) as s:
        res = s.exec(select(Reservation).where(Reservation.fault_id == w["fault"])).one()
        assert (res.state, res.closed_at) == ("released", NOW)
    assert stock_row(engine, w["stock"]).reserved == 0
    assert len(audits(engine, "stock.release")) == 1
    # The freed unit is now there for the fault that was waiting.
    assert reserve(engine, waiting.id).status == "reserved"
    # Releasing twice gives nothing back twice.
    with write_session(engine) as s:
        assert release_for_fault(s, w["fault"], now=NOW, actor="test") == 0
    assert stock_row(engine, w["stock"]).reserved == 1


def test_release_cancels_the_proposed_transfer(engine):
    w = critical_world(engine, notified=h.T0, remote_site="FRA1")
    out = reserve(engine, w["fault"])
    with write_session(engine) as s:
        release_for_fault(s, w["fault"], now=NOW, actor="test")
    with read_session(engine) as s:
        assert s.get(Transfer, out.transfer_id).state == "cancelled"
        assert all(st.reserved == 0 for st in s.exec(select(Stock)).all())


def test_resolved_and_unknown_faults_are_clear_errors(engine):
    w = psu_world(engine)
    with pytest.raises(NotFound):
        reserve(engine, 999_999)
    with write_session(engine) as s:
        f = s.get(Fault, w["fault"])
        f.state, f.resolved_at = "resolved", NOW
        s.add(f)
    with pytest.raises(FleetError, match="resolved"):
        reserve(engine, w["fault"])
    assert stock_row(engine, w["stock"]).reserved == 0


def test_a_received_transfer_moves_the_reserved_unit_to_the_servers_shelf(engine):
    w = psu_world(engine, local_units=0)
    with write_session(engine) as s:
        fra = h.stock(s, h.site(s, "FRA1"), s.get(PartModel, w["psu"]), 2)
    out = reserve(engine, w["fault"])
    with write_session(engine) as s:
        ship_transfer(s, out.transfer_id, now=NOW, actor="stores")
    with pytest.raises(FleetError, match="in_transit"), write_session(engine) as s:
        ship_transfer(s, out.transfer_id, now=NOW, actor="stores")
    arrived = NOW + timedelta(hours=2)
    with write_session(engine) as s:
        receive_transfer(s, out.transfer_id, now=arrived, actor="stores")
    with read_session(engine) as s:
        src = s.get(Stock, fra.id)
        dst = s.get(Stock, w["stock"])
        assert (src.on_hand, src.reserved) == (1, 0)
        assert (dst.on_hand, dst.reserved) == (1, 1)
        res = s.get(Reservation, out.reservation_id)
        assert (res.state, res.stock_id) == ("active", w["stock"])
        t = s.get(Transfer, out.transfer_id)
        assert (t.state, t.received_at) == ("received", arrived)
    # Asked again, the fault now has its spare at its own site.
    again = reserve(engine, w["fault"])
    assert (again.status, again.site, again.existing) == ("reserved", "PAR1", True)
    with pytest.raises(FleetError, match="received"), write_session(engine) as s:
        receive_transfer(s, out.transfer_id, now=arrived, actor="stores")


def test_swap_cannot_be_finished_with_a_spare_still_at_another_site(engine):
    w = psu_world(engine, local_units=0)
    with write_session(engine) as s:
        h.stock(s, h.site(s, "FRA1"), s.get(PartModel, w["psu"]), 1)
        swap_id = h.swap(s, s.get(Fault, w["fault"])).id
    reserve(engine, w["fault"])
    with pytest.raises(FleetError, match="still at FRA1"), write_session(engine) as s:
        complete_swap(s, swap_id, new_serial="NEW-1", technician=None, now=NOW, actor="test")
    with read_session(engine) as s:
        assert s.get(Fault, w["fault"]).resolved_at is None
