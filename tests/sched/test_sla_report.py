"""`sla_report` and `fleet report sla` over a database: scope, month split, credits, acknowledgements, swaps, gaps."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert

from fleet.clock import iso
from fleet.config import Settings
from fleet.store.db import make_engine, read_session, write_session
from fleet.store.migrate import upgrade
from fleet.store.models import Outage, Swap, SweepRun

from . import fleet_rows as rows
from .fleet_rows import cli

S = Settings()
NOW = datetime(2026, 11, 27, 6, tzinfo=UTC)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def _build(engine: Engine) -> None:
    with write_session(engine) as s:
        st = rows.site(s)
        ded = rows.server(s, st, "ded1", monthly_fee_cents=10_000)
        ann = rows.server(s, st, "ann1", monthly_fee_cents=10_000, billing="annual")
        vps = rows.server(s, st, "vps1", plan="vps", monthly_fee_cents=10_000)
        # ded1: 22:30 31 Oct to 01:45 1 Nov (90 min in October, 105 in November) and 61 minutes on 10 Oct.
        s.add(Outage(server_id=ded1_id(ded), start_at=utc(2026, 10, 31, 22, 30), end_at=utc(2026, 11, 1, 1, 45)))
        s.add(Outage(server_id=ded1_id(ded), start_at=utc(2026, 10, 10, 3), end_at=utc(2026, 10, 10, 4, 1)))
        # ann1: 59 minutes and exactly 60 minutes: no credit, but downtime.
        s.add(Outage(server_id=ann.id or 0, start_at=utc(2026, 10, 5, 0), end_at=utc(2026, 10, 5, 0, 59)))
        s.add(Outage(server_id=ann.id or 0, start_at=utc(2026, 10, 6, 0), end_at=utc(2026, 10, 6, 1)))
        # vps1: a long outage that the SLA does not cover.
        s.add(Outage(server_id=vps.id or 0, start_at=utc(2026, 10, 7), end_at=utc(2026, 10, 7, 10)))
        # Alerts: one acknowledged in 30 min, one in 61 min, one on the VPS (out of scope).
        rows.fault(s, ded, "FAN1", "fan", at=utc(2026, 10, 3, 10), severity="non-critical",
                   acknowledged_at=utc(2026, 10, 3, 10, 30))  # fmt: skip
        f2 = rows.fault(s, ann, "PSU1", "psu", at=utc(2026, 10, 4, 10), acknowledged_at=utc(2026, 10, 4, 11, 1))
        rows.fault(s, vps, "PSU1", "psu", at=utc(2026, 10, 4, 10))
        # Critical swaps: f2 done after 50 min; another done after 3 h; a third done after 5 h.
        s.add(Swap(fault_id=f2.id or 0, server_id=ann.id or 0, critical=True, state="done",
                   done_at=utc(2026, 10, 4, 10, 50)))  # fmt: skip
        f3 = rows.fault(s, ded, "Disk 0:1:0", "disk", at=utc(2026, 10, 8, 10))
        s.add(Swap(fault_id=f3.id or 0, server_id=ded.id or 0, critical=True, state="done",
                   done_at=utc(2026, 10, 8, 13)))  # fmt: skip
        f4 = rows.fault(s, ded, "CPU1", "cpu", at=utc(2026, 10, 9, 10))
        s.add(Swap(fault_id=f4.id or 0, server_id=ded.id or 0, critical=True, state="done",
                   done_at=utc(2026, 10, 9, 15)))  # fmt: skip
        # Sweeps every 5 minutes over October and the first day of November except 12:00-12:30 on 15 Oct.
        t, runs = utc(2026, 9, 30, 23, 58), []
        while t < utc(2026, 11, 2):
            if not utc(2026, 10, 15, 12) < t < utc(2026, 10, 15, 12, 30):
                runs.append({"started_at": t})
            t += timedelta(minutes=5)
        s.execute(insert(SweepRun), runs)


def ded1_id(srv) -> int:  # type: ignore[no-untyped-def]
    return int(srv.id)


def test_october_report(engine: Engine) -> None:
    from fleet.sla.report import sla_report

    _build(engine)
    with read_session(engine) as s:
        rep = sla_report(s, "2026-10", now=NOW, settings=S)
    assert rep["period"]["complete"]
    assert rep["excluded"]["servers"] == ["vps1"]
    credits = {r["server"]: r for r in rep["credits"]["servers"]}
    # ded1 in October: 61 min (1 period) -> 3.30. The boundary outage ended in November: November credits it.
    assert set(credits) == {"ded1"}
    assert credits["ded1"]["periods"] == 1 and credits["ded1"]["credit_cents"] == 330
    assert rep["credits"]["total_cents"] == 330
    avail = {r["server"]: r for r in rep["availability"]["servers"]}
    assert "vps1" not in avail
    october_min = 31 * 24 * 60
    assert avail["ded1"]["down_minutes"] == 151
    # Over the minutes monitoring saw: October less its one 35-minute gap.
    assert avail["ded1"]["availability_pct"] == round(100 * (1 - 151 / (october_min - 35)), 4)
    # 119 minutes of 44,640 is 99.733 %, below 99.95 %; 151 likewise.
    assert avail["ann1"]["down_minutes"] == 119 and not avail["ann1"]["met"] and not avail["ded1"]["met"]
    ack = rep["acknowledgement"]
    assert (ack["alerts"], ack["within"], ack["late"]) == (4, 1, 3)  # f3 and f4 never acknowledged, f2 at 61 min
    sw = rep["swaps"]
    assert (sw["critical_swaps"], sw["within_target"], sw["within_limit"], sw["late"]) == (3, 1, 2, 1)
    mon = rep["monitoring"]
    # Sweeps start at :58, :03, :08 ...; the ones from 12:03 to 12:28 are missing: 11:58 to 12:33 is one 35-minute gap.
    assert [(g["start"], g["minutes"]) for g in mon["gaps"]] == [(iso(utc(2026, 10, 15, 11, 58)), 35.0)]


def test_november_gets_the_rest_of_the_boundary_outage(engine: Engine) -> None:
    from fleet.sla.report import sla_report

    _build(engine)
    with read_session(engine) as s:
        rep = sla_report(s, "2026-11", now=NOW, settings=S)
    (c,) = rep["credits"]["servers"]
    # 22:30 31 Oct to 01:45 1 Nov is 195 minutes: three periods, all credited in November (the month it ended), 9.90.
    assert (c["server"], c["periods"], c["credit_cents"]) == ("ded1", 3, 990)
    assert not rep["period"]["complete"] and rep["period"]["end"] == iso(NOW)


def test_cli_report_sla_json_and_bad_month(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    eng = make_engine(sqlite_url)
    upgrade(eng)
    _build(eng)
    eng.dispose()
    run = ["report", "sla", "--db", sqlite_url]
    code, out, _ = cli([*run, "--month", "2026-10", "--json"], capsys)
    assert code == 0
    assert json.loads(out)["credits"]["total_cents"] == 330
    code, out, _ = cli([*run, "--month", "2026-10"], capsys)
    assert code == 0 and "outage credits: 3.30" in out
    code, _, err = cli([*run, "--month", "2026-13"], capsys)
    assert code == 2 and err.strip() == "fleet: --month wants YYYY-MM, got '2026-13'"


def test_site_filter_keeps_that_site_only(engine: Engine) -> None:
    from fleet.sla.report import sla_report

    _build(engine)
    with write_session(engine) as s:
        other = rows.site(s, "AMS1", "Europe/Amsterdam")
        far = rows.server(s, other, "ams1", monthly_fee_cents=20_000)
        s.add(Outage(server_id=far.id or 0, start_at=utc(2026, 10, 20), end_at=utc(2026, 10, 20, 2)))
    with read_session(engine) as s:
        par = sla_report(s, "2026-10", now=NOW, settings=S, site="PAR1")
        ams = sla_report(s, "2026-10", now=NOW, settings=S, site="AMS1")
    assert [r["server"] for r in ams["credits"]["servers"]] == ["ams1"]
    # 2 h: two periods of 3.3 % of 200.00 = 13.20.
    assert ams["credits"]["total_cents"] == 1_320
    assert "ams1" not in {r["server"] for r in par["availability"]["servers"]}
    assert par["credits"]["total_cents"] == 330
