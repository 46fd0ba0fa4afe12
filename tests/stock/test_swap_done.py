"""Finishing a swap (all or nothing), starting one, and the RMA lifecycle; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from fleet.config import Settings
from fleet.errors import FleetError, InputError, NotFound
from fleet.stock.reserve import reserve_for_fault
from fleet.stock.rma import advance_rma
from fleet.store.db import read_session, write_session
from fleet.store.models import Audit, Component, Fault, Reservation, Rma, Stock, Swap, Technician
from fleet.swaps.work import complete_swap, start_swap
from tests.stock import helpers as h

NOW = h.T0 + timedelta(minutes=40)


def world(engine, *, units=2, reserve=True):
    """Server at PAR1, PSU2 (serial OLD-PSU2) failed, `units` spares on the shelf, a planned swap, a technician."""
    with write_session(engine) as s:
        par = h.site(s, "PAR1")
        model = h.server_model(s)
        psu = h.part(s, "PSU-A", fits=[model])
        srv = h.server(s, par, model)
        h.component(s, srv, "PSU1", psu, serial="GOOD-PSU1")
        h.component(s, srv, "PSU2", psu, serial="OLD-PSU2")
        st = h.stock(s, par, psu, units)
        f = h.fault(s, srv, "PSU2", critical=True)
        res_id = None
        if reserve:
            res_id = reserve_for_fault(s, f.id, now=h.T0, settings=Settings(), actor="sweep").reservation_id
        sw = h.swap(s, f, reservation_id=res_id)
        h.technician(s, par, "Alice")
        return {"server": srv.id, "stock": st.id, "fault": f.id, "swap": sw.id, "psu": psu.id}


def finish(engine, swap_id, serial="NEW-PSU2", technician="Alice"):
    with write_session(engine) as s:
        return complete_swap(s, swap_id, new_serial=serial, technician=technician, now=NOW, actor="Alice")


def counts(engine):
    """Everything a failed swap must leave untouched."""
    with read_session(engine) as s:
        stock = [(r.on_hand, r.reserved) for r in s.exec(select(Stock).order_by(Stock.id)).all()]
        return {
            "stock": stock,
            "components": s.exec(select(func.count()).select_from(Component)).one(),
            "installed": [
                c.serial
                for c in s.exec(select(Component).where(Component.removed_at.is_(None)).order_by(Component.id)).all()
            ],
            "rmas": s.exec(select(func.count()).select_from(Rma)).one(),
            "audit": s.exec(select(func.count()).select_from(Audit)).one(),
            "swaps": [(w.state, w.new_serial) for w in s.exec(select(Swap)).all()],
            "faults": [(f.state, f.resolved_at) for f in s.exec(select(Fault)).all()],
            "reservations": [r.state for r in s.exec(select(Reservation)).all()],
        }


def test_swap_done_consumes_the_spare_installs_the_serial_and_resolves_the_fault(engine):
    w = world(engine, units=2)
    rma = finish(engine, w["swap"])
    with read_session(engine) as s:
        st = s.get(Stock, w["stock"])
        assert (st.on_hand, st.reserved) == (1, 0)  # two on the shelf, one reserved then installed
        res = s.exec(select(Reservation).where(Reservation.fault_id == w["fault"])).one()
        assert (res.state, res.closed_at) == ("consumed", NOW)
        slot = s.exec(select(Component).where(Component.server_id == w["server"], Component.slot == "PSU2")).all()
        by_serial = {c.serial: c for c in slot}
        assert by_serial["OLD-PSU2"].removed_at == NOW
        assert by_serial["NEW-PSU2"].removed_at is None and by_serial["NEW-PSU2"].installed_at == NOW
        sw = s.get(Swap, w["swap"])
        alice = s.exec(select(Technician).where(Technician.name == "Alice")).one()
        assert (sw.state, sw.done_at, sw.old_serial, sw.new_serial) == ("done", NOW, "OLD-PSU2", "NEW-PSU2")
        assert sw.technician_id == alice.id
        f = s.get(Fault, w["fault"])
        assert (f.state, f.resolved_at, f.resolution) == ("resolved", NOW, "swapped")
        stored = s.get(Rma, rma.id)
        assert (stored.state, stored.serial, stored.fault_id, stored.part_model_id) == (
            "open", "OLD-PSU2", w["fault"], w["psu"])  # fmt: skip
        actions = set(s.exec(select(Audit.action).where(Audit.at == NOW)).all())
    assert {"stock.consume", "component.remove", "component.install", "rma.open", "swap.done", "fault.resolve"} <= (
        actions
    )


def test_swap_done_takes_a_shelf_spare_when_none_was_reserved(engine):
    w = world(engine, units=1, reserve=False)
    finish(engine, w["swap"])
    with read_session(engine) as s:
        st = s.get(Stock, w["stock"])
        assert (st.on_hand, st.reserved) == (0, 0)


@pytest.mark.parametrize(
    ("serial", "error", "message"),
    [("GOOD-PSU1", InputError, "already recorded"), ("   ", InputError, "empty")],
)
def test_bad_serial_writes_nothing(engine, serial, error, message):
    w = world(engine)
    before = counts(engine)
    with pytest.raises(error, match=message):
        finish(engine, w["swap"], serial=serial)
    assert counts(engine) == before


def test_unknown_swap_unknown_technician_and_no_spare_write_nothing(engine):
    w = world(engine, units=1, reserve=False)
    with write_session(engine) as s:  # the only unit goes to someone else
        st = s.get(Stock, w["stock"])
        st.reserved = 1
        s.add(st)
    before = counts(engine)
    with pytest.raises(NotFound):
        finish(engine, 999_999)
    with pytest.raises(NotFound, match="technician"):
        finish(engine, w["swap"], technician="Nobody")
    with pytest.raises(FleetError, match="no spare"):
        finish(engine, w["swap"])
    assert counts(engine) == before


def test_a_swap_is_done_once(engine):
    w = world(engine)
    finish(engine, w["swap"])
    before = counts(engine)
    with pytest.raises(FleetError, match="already done"):
        finish(engine, w["swap"], serial="ANOTHER")
    assert counts(engine) == before


def test_start_marks_swap_and_fault_in_progress(engine):
    w = world(engine)
    with write_session(engine) as s:
        start_swap(s, w["swap"], technician="Alice", now=NOW, actor="Alice")
    with read_session(engine) as s:
        sw, f = s.get(Swap, w["swap"]), s.get(Fault, w["fault"])
        assert (sw.state, sw.started_at, f.state) == ("in_progress", NOW, "in_progress")
        assert sw.technician_id is not None
    with pytest.raises(FleetError, match="in_progress"), write_session(engine) as s:
        start_swap(s, w["swap"], technician=None, now=NOW, actor="Alice")


def test_rma_goes_open_shipped_credited_and_nowhere_else(engine):
    w = world(engine)
    rma_id = finish(engine, w["swap"]).id

    def move(to, at):
        with write_session(engine) as s:
            return advance_rma(s, rma_id, to=to, now=at, actor="stores")

    with pytest.raises(FleetError, match="open: it cannot become credited"):
        move("credited", NOW)
    shipped = move("shipped", NOW + timedelta(days=1))
    assert (shipped.state, shipped.shipped_at) == ("shipped", NOW + timedelta(days=1))
    with pytest.raises(FleetError, match="shipped: it cannot become shipped"):
        move("shipped", NOW + timedelta(days=2))
    credited = move("credited", NOW + timedelta(days=9))
    assert (credited.state, credited.credited_at) == ("credited", NOW + timedelta(days=9))
    with pytest.raises(InputError):
        move("lost", NOW)
    with pytest.raises(NotFound), write_session(engine) as s:
        advance_rma(s, 424242, to="shipped", now=NOW, actor="stores")
    with read_session(engine) as s:
        trail = s.exec(select(Audit.action).where(Audit.entity == "rma", Audit.entity_id == rma_id)).all()
    assert list(trail) == ["rma.open", "rma.ship", "rma.credit"]
