"""The sweep report's spare and plan fields count what happened (docs/SWEEP.md): a spare reserved at the server's
site, a transfer proposed that arrives in time, a critical fault with no spare in reach, swaps planned."""

from __future__ import annotations

import json

from sqlalchemy import update
from sqlmodel import col, func, select

from fleet.store.db import make_engine, read_session, write_session
from fleet.store.models import Fault, PartModel, Server, Site, Stock, Swap, Transfer
from tests.sweep.conftest import fleet_cli

LOCAL_PART, NEAR_PART, FAR_PART = "7N67A00883", "PWS-751P-1R", "S26113-F575-E13"


def shelve(engine, part_number: str, site_code: str, units: int) -> None:
    """The only units of this part in the fleet: `units` at one site."""
    with write_session(engine) as s:
        part = s.exec(select(PartModel).where(PartModel.part_number == part_number)).one()
        site = s.exec(select(Site).where(Site.code == site_code)).one()
        s.exec(update(Stock).where(col(Stock.part_model_id) == part.id).values(on_hand=0, reserved=0))
        row = s.exec(select(Stock).where(Stock.part_model_id == part.id, Stock.site_id == site.id)).first()
        row = row or Stock(site_id=site.id, part_model_id=part.id, bin="T-1")
        row.on_hand, row.reserved = units, 0
        s.add(row)


def sweep(url: str, config: str) -> dict:
    r = fleet_cli("sweep", "--db", url, "--json", "-", "--timeout", "30", env={"FLEET_CONFIG": config})
    report = json.loads(r.stdout)
    assert report["unreachable"] == [], r.stderr
    return report


def test_each_spare_and_plan_field_counts_what_happened(small_fleet, tmp_path):
    fleet, sim = small_fleet
    local, near, far = fleet.ipmi[0], fleet.ipmi[1], fleet.ipmi[2]  # all three at PAR1
    engine = make_engine(fleet.url)
    with write_session(engine) as s:  # only these three are swept: a short round on a loaded machine
        s.exec(update(Server).where(col(Server.id).not_in([local.id, near.id, far.id])).values(status="decommissioned"))
    shelve(engine, LOCAL_PART, "PAR1", 2)  # at the server's site
    shelve(engine, NEAR_PART, "NYC1", 2)  # 2 h away: a transfer arrives inside the 4 h limit
    shelve(engine, FAR_PART, "SIN1", 2)  # the default 24 h away: out of reach of a critical swap
    config = tmp_path / "fleet.toml"
    config.write_text('[transit_hours]\n"NYC1-PAR1" = 2.0\n')
    with read_session(engine) as s:
        swaps_before = s.exec(select(func.count()).select_from(Swap)).one()

    sim.inject(local.controller_host, "PSU2", "failed", port=local.controller_port)  # non-critical: one of two
    for server in (near, far):  # both PSUs: critical, two faults each
        for psu in ("PSU1", "PSU2"):
            sim.inject(server.controller_host, psu, "failed", port=server.controller_port)

    report = sweep(fleet.url, str(config))

    with read_session(engine) as s:
        opened = {
            (f.server_id, f.slot): f
            for f in s.exec(select(Fault).where(col(Fault.resolved_at).is_(None))).all()
            if f.server_id in (local.id, near.id, far.id)
        }
        transfers = s.exec(select(Transfer).where(col(Transfer.fault_id).in_([f.id for f in opened.values()]))).all()
        swaps_after = s.exec(select(func.count()).select_from(Swap)).one()
    assert len(opened) == 5 and report["faults_opened"] == 5
    assert report["spares_reserved"] == 1  # the local one only: a transfer is not a spare on the shelf
    assert report["transfers_proposed"] == 4 == len(transfers)
    far_faults = sorted(f.id for (sid, _), f in opened.items() if sid == far.id)
    assert sorted(report["no_spare_in_reach"]) == far_faults  # the near transfers arrive in time: not listed
    assert report["swaps_planned"] == swaps_after - swaps_before > 0

    # The next round finds the same faults: nothing new happened, nothing is counted again.
    again = sweep(fleet.url, str(config))
    assert (again["faults_opened"], again["spares_reserved"], again["transfers_proposed"]) == (0, 0, 0)
    assert again["no_spare_in_reach"] == [] and again["swaps_planned"] == 0
    engine.dispose()
