"""`fleet stock --low`: levels from the installed base and failure history, what to order; both engines."""

from __future__ import annotations

import json
import math
from datetime import timedelta

from sqlmodel import select

from fleet.config import Settings
from fleet.stock.levels import reorder_lines
from fleet.stock.reorder import HISTORY_MIN_COMPONENT_YEARS
from fleet.store.db import make_engine, write_session
from fleet.store.models import Site, Stock
from tests.stock import helpers as h
from tests.stock.test_cli import fleet
from tests.stock.test_reorder import poisson_quantile_by_pmf

NOW = h.T0
SETTINGS = Settings()


def fleet_of_psus(engine):
    """PAR1: 30 two-PSU servers with PSU-A (AFR 3 %, 30-day lead time) and 1 on the shelf; AMS1: 2 spare, no base."""
    with write_session(engine) as s:
        par, ams = h.site(s, "PAR1"), h.site(s, "AMS1")
        model = h.server_model(s, psu_count=2)
        psu = h.part(s, "PSU-A", "psu", fits=[model], afr=0.03, lead_time_days=30)
        other = h.server_model(s, "OLD-1U", psu_count=1)
        for _ in range(30):
            srv = h.server(s, par, model)
            h.component(s, srv, "PSU1", psu)
            h.component(s, srv, "PSU2", psu)
        h.component(s, h.server(s, par, other), "PSU1", psu)  # installed, but PSU-A is not listed for this model
        h.stock(s, par, psu, 1)
        h.stock(s, ams, psu, 2)


def test_level_from_installed_base_and_what_to_order(engine):
    fleet_of_psus(engine)
    with write_session(engine) as s:
        lines = {(x.site, x.part_number): x for x in reorder_lines(s, now=NOW, settings=SETTINGS)}
    par = lines[("PAR1", "PSU-A")]
    lam = 60 * 0.03 * 30 / 365.25
    expected = poisson_quantile_by_pmf(lam, SETTINGS.stock_target_other)  # redundant PSUs: the 95 % target
    assert (par.installed, par.afr_source, par.model) == (60, "catalogue", "poisson")
    assert par.demand == lam and par.level == expected
    assert expected >= 1 and par.low  # one on the shelf, at or under the level: low
    assert par.order == expected  # back above the level: expected + 1 - 1
    ams = lines[("AMS1", "PSU-A")]
    assert (ams.installed, ams.level, ams.low) == (0, 0, False)


def test_the_fleets_own_history_replaces_the_catalogue_rate(engine):
    # 60 disks installed two years ago (120 component-years), 6 swapped away: 6 / 120 = 5 % a year.
    with write_session(engine) as s:
        par = h.site(s, "PAR1")
        model = h.server_model(s, raid_level="RAID0")
        disk = h.part(s, "DISK-1", "disk", fits=[model], afr=0.001, lead_time_days=10)
        since = NOW - timedelta(days=2 * 365.25)
        servers = [h.server(s, par, model) for _ in range(60)]
        for srv in servers:
            h.component(s, srv, "Disk 0", disk, installed_at=since)
        for n, srv in enumerate(servers[:6]):
            # The fleet's fault history began with the first of them, when the disks were installed.
            f = h.fault(s, srv, "Disk 0", "disk", notified_at=since if n == 0 else NOW - timedelta(days=100))
            f.resolved_at, f.resolution, f.state = NOW - timedelta(days=99), "swapped", "resolved"
            s.add(f)
    assert HISTORY_MIN_COMPONENT_YEARS <= 120
    with write_session(engine) as s:
        (line,) = reorder_lines(s, now=NOW, settings=SETTINGS, site="PAR1")
    assert line.afr_source == "history" and math.isclose(line.afr, 6 / 120, rel_tol=1e-6)
    assert line.target == SETTINGS.stock_target_critical  # RAID0: one disk down is the server down
    lam = 60 * (6 / 120) * 10 / 365.25
    assert line.level == poisson_quantile_by_pmf(lam, SETTINGS.stock_target_critical)


def test_a_manual_reorder_level_is_a_floor(engine):
    fleet_of_psus(engine)
    with write_session(engine) as s:
        ams = s.exec(select(Stock).join(Site).where(Site.code == "AMS1")).one()
        ams.reorder_level = 5
        s.add(ams)
    with write_session(engine) as s:
        (line,) = reorder_lines(s, now=NOW, settings=SETTINGS, site="AMS1")
    assert (line.level, line.available, line.low, line.order) == (5, 2, True, 4)


def test_stock_low_json_lists_only_what_is_under_its_level(tmp_path):
    path = str(tmp_path / "inventory.db")
    assert fleet("init", "--db", path).returncode == 0
    engine = make_engine(path)
    fleet_of_psus(engine)
    with write_session(engine) as s:
        for row in s.exec(select(Stock)).all():
            row.on_hand = 0  # nothing on any shelf
            s.add(row)
    engine.dispose()
    out = fleet("stock", "--low", "--db", path, "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["low"]
    lam = 60 * 0.03 * 30 / 365.25
    level = poisson_quantile_by_pmf(lam, SETTINGS.stock_target_other)
    # AMS1 keeps no level (no installed base): its empty shelf is not low.
    assert [(r["site"], r["part_number"], r["level"], r["order"]) for r in rows] == [
        ("PAR1", "PSU-A", level, level + 1)
    ]
    assert fleet("stock", "--low", "--db", path, "--site", "AMS1").stdout.strip() == "nothing low"
