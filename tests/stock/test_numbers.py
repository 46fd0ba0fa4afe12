"""Stock that holds (issue: the numbers a customer is paid on): failure rates over the recorded window, supplier
orders in the inventory position, a critical fault first to the site's last unit, "in reach" with the swap's own
time. Real database, frozen clock; expected values worked out by hand in the comments."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import timedelta

from sqlmodel import select

from fleet.config import Settings
from fleet.stock.levels import reorder_lines
from fleet.stock.reserve import reserve_for_fault
from fleet.store.db import make_engine, read_session, write_session
from fleet.store.models import Audit, Reservation, Stock, Transfer
from tests.stock import helpers as h
from tests.stock.test_cli import fleet
from tests.stock.test_low import fleet_of_psus

NOW = h.T0
S = Settings()


def test_failure_rate_counts_exposure_only_since_failures_were_recorded(engine) -> None:  # type: ignore[no-untyped-def]
    """120 disks installed in 2019, the fault history began one year ago, 6 disks swapped since: 6 failures in
    120 component-years is 5 % a year. Counting exposure from 2019 would give 6 / 840 = 0.7 %."""
    with write_session(engine) as s:
        par = h.site(s, "PAR1")
        model = h.server_model(s, raid_level="RAID1")
        disk = h.part(s, "DISK-1", "disk", fits=[model], afr=0.015, lead_time_days=10)
        servers = [h.server(s, par, model) for _ in range(120)]
        for srv in servers:
            h.component(s, srv, "Disk 0", disk, installed_at=NOW - timedelta(days=7 * 365.25))
        year_ago = NOW - timedelta(days=365.25)
        for n, srv in enumerate(servers[:6]):
            f = h.fault(s, srv, "Disk 0", "disk", notified_at=year_ago if n == 0 else NOW - timedelta(days=30 * n))
            f.resolved_at, f.resolution, f.state = f.notified_at + timedelta(hours=2), "swapped", "resolved"
            s.add(f)
    with read_session(engine) as s:
        (line,) = reorder_lines(s, now=NOW, settings=S, site="PAR1")
    assert line.afr_source == "history" and math.isclose(line.afr, 6 / 120, rel_tol=1e-6)


def test_an_order_counts_until_it_is_received(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "inventory.db")
    assert fleet("init", "--db", path).returncode == 0
    engine = make_engine(path)
    fleet_of_psus(engine)  # PAR1: one PSU-A on the shelf at a level of 1: low, order 1
    engine.dispose()

    def low() -> list[tuple[str, int, int, int]]:
        out = fleet("stock", "--low", "--db", path, "--json")
        assert out.returncode == 0, out.stderr
        return [(r["site"], r["on_order"], r["position"], r["order"]) for r in json.loads(out.stdout)["low"]]

    assert low() == [("PAR1", 0, 1, 1)]
    placed = fleet("stock", "order", "PAR1", "PSU-A", "1", "--db", path, "--json")
    assert placed.returncode == 0, placed.stderr
    order_id = json.loads(placed.stdout)["order_id"]
    assert low() == []  # on order: the position is 2, above the level; not recommended again
    assert fleet("stock", "order", "PAR1", "NOPE", "1", "--db", path).returncode == 4
    assert fleet("stock", "order", "PAR1", "PSU-A", "0", "--db", path).returncode == 2
    assert fleet("stock", "receive", str(order_id), "--db", path).returncode == 0
    assert fleet("stock", "receive", str(order_id), "--db", path).returncode == 1  # already received
    assert low() == []
    engine = make_engine(path)
    with read_session(engine) as s:
        on_hand = {(r.site_id, r.on_hand) for r in s.exec(select(Stock)).all()}
        actions = [a.action for a in s.exec(select(Audit).order_by(Audit.id)).all()]
    engine.dispose()
    assert (1, 2) in on_hand  # PAR1 (site 1) has two now
    assert actions[-3:] == ["order.place", "stock.receive", "order.receive"]


def _two_faults(engine, *, ams_stock: int):  # type: ignore[no-untyped-def]
    with write_session(engine) as s:
        par, ams = h.site(s, "PAR1"), h.site(s, "AMS1")
        model = h.server_model(s, psu_count=2)
        psu = h.part(s, "PSU-A", "psu", fits=[model])
        a, b = h.server(s, par, model), h.server(s, par, model)
        for srv in (a, b):
            h.component(s, srv, "PSU1", psu)
            h.component(s, srv, "PSU2", psu)
        h.stock(s, par, psu, 1)
        if ams_stock:
            h.stock(s, ams, psu, ams_stock)
        slow = h.fault(s, a, "PSU2", notified_at=NOW - timedelta(hours=2))  # a redundant PSU: non-critical
        first = reserve_for_fault(s, slow.id, now=NOW - timedelta(hours=2), settings=S, actor="sweep")
        down = h.fault(s, b, "PSU1", critical=True, notified_at=NOW)  # the server is down
        return slow.id, down.id, first.status


def test_a_critical_fault_takes_the_only_unit_from_a_non_critical_one(engine) -> None:  # type: ignore[no-untyped-def]
    settings = replace(S, transit_hours={"AMS1-PAR1": 24.0})
    slow, down, first = _two_faults(engine, ams_stock=1)
    assert first == "reserved"  # the non-critical fault held PAR1's only unit
    with write_session(engine) as s:
        got = reserve_for_fault(s, down, now=NOW, settings=settings, actor="sweep")
    assert (got.status, got.site, got.in_reach, got.flag) == ("reserved", "PAR1", True, None)
    with read_session(engine) as s:
        active = {r.fault_id: r for r in s.exec(select(Reservation).where(Reservation.state == "active")).all()}
        transfer = s.exec(select(Transfer).where(Transfer.fault_id == slow)).one()
        preempt = [a for a in s.exec(select(Audit)).all() if a.action == "stock.preempt"]
    assert set(active) == {slow, down}
    assert (transfer.state, transfer.eta) == ("proposed", NOW + timedelta(hours=24))  # the slow one falls back
    before = preempt[0].before if len(preempt) == 1 else None
    assert (json.loads(before) if isinstance(before, str) else before)["fault_id"] == slow


def test_the_non_critical_fault_waits_when_no_other_site_has_one(engine) -> None:  # type: ignore[no-untyped-def]
    _, down, _ = _two_faults(engine, ams_stock=0)
    with write_session(engine) as s:
        got = reserve_for_fault(s, down, now=NOW, settings=S, actor="sweep")
    assert got.status == "reserved"
    with read_session(engine) as s:
        holders = [r.fault_id for r in s.exec(select(Reservation).where(Reservation.state == "active")).all()]
    assert holders == [down]  # the non-critical fault waits for stock


def test_in_reach_counts_the_swaps_own_time(engine) -> None:  # type: ignore[no-untyped-def]
    """Limit: 4 h after notification. A PSU swap takes 15 minutes: a spare arriving after 3.9 h cannot be fitted
    in time (3.9 h + 15 min > 4 h); one arriving after 3.5 h can (3 h 45 min)."""
    for hours, in_reach in ((3.9, False), (3.5, True)):
        with write_session(engine) as s:
            par, ams = h.site(s, "PAR1"), h.site(s, "AMS1")
            model = h.server_model(s, psu_count=1)
            psu = h.part(s, f"PSU-{hours}", "psu", fits=[model])
            srv = h.server(s, par, model)
            h.component(s, srv, "PSU1", psu)
            h.stock(s, ams, psu, 1)
            f = h.fault(s, srv, "PSU1", critical=True, notified_at=NOW)
            got = reserve_for_fault(s, f.id, now=NOW, settings=replace(S, transit_hours={"AMS1-PAR1": hours}),
                                    actor="sweep")  # fmt: skip
        assert (got.status, got.in_reach) == ("transfer", in_reach), hours
