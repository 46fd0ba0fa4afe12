"""The credit rules at their edges, through `sla_report` on a real database with a frozen clock; the expected
figures are worked out by hand in the comments."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert
from sqlmodel import select

from fleet.clock import iso
from fleet.config import Settings
from fleet.exchange.csv import export_csv, import_csv
from fleet.sla.report import sla_report
from fleet.store.db import read_session, write_session
from fleet.store.models import Outage, Server, SweepRun
from tests.sched import fleet_rows as rows

S = Settings()
NOW = datetime(2026, 12, 5, tzinfo=UTC)


def utc(mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(2026, mo, d, h, mi, tzinfo=UTC)


def sweeps(engine: Engine, start: datetime, end: datetime, *, skip: tuple[datetime, datetime] | None = None) -> None:
    runs, t = [], start
    while t < end:
        if skip is None or not skip[0] < t < skip[1]:
            runs.append({"started_at": t})
        t += timedelta(minutes=5)
    with write_session(engine) as s:
        s.execute(insert(SweepRun), runs)


def report(engine: Engine, month: str) -> dict:  # type: ignore[type-arg]
    with read_session(engine) as s:
        return sla_report(s, month, now=NOW, settings=S)


def credit(rep: dict, server: str) -> tuple[int, int] | None:  # type: ignore[type-arg]
    rows_ = {c["server"]: (c["periods"], c["credit_cents"]) for c in rep["credits"]["servers"]}
    return rows_.get(server)


def test_overlapping_records_are_one_outage(engine: Engine) -> None:
    """Web down 10:00-10:40, DNS down 10:30-11:20: one outage of 80 minutes (1 period), though each record alone
    stays under the hour."""
    sweeps(engine, utc(10, 1), utc(11, 1))
    with write_session(engine) as s:
        srv = rows.server(s, rows.site(s), "a", monthly_fee_cents=10_000)
        s.add(Outage(server_id=srv.id or 0, service="web", start_at=utc(10, 9, 10), end_at=utc(10, 9, 10, 40)))
        s.add(Outage(server_id=srv.id or 0, service="dns", start_at=utc(10, 9, 10, 30), end_at=utc(10, 9, 11, 20)))
    rep = report(engine, "2026-10")
    assert credit(rep, "a") == (1, 330)
    assert rep["availability"]["servers"][0]["down_minutes"] == 80


def test_an_outage_across_the_month_end_keeps_its_periods(engine: Engine) -> None:
    """23:30 31 Oct to 01:15 1 Nov: 105 minutes, one period. Cut at midnight it would be 30 + 75 minutes and lose
    it; it is credited whole in November, the month it ended, and October credits nothing for it."""
    sweeps(engine, utc(10, 25), utc(11, 5))
    with write_session(engine) as s:
        srv = rows.server(s, rows.site(s), "a", monthly_fee_cents=10_000)
        s.add(Outage(server_id=srv.id or 0, start_at=utc(10, 31, 23, 30), end_at=utc(11, 1, 1, 15)))
    october, november = report(engine, "2026-10"), report(engine, "2026-11")
    assert credit(october, "a") is None
    assert credit(november, "a") == (1, 330)
    # Availability still counts each month's own minutes: 30 in October, 75 in November.
    assert october["availability"]["servers"][0]["down_minutes"] == 30
    assert november["availability"]["servers"][0]["down_minutes"] == 75


def test_months_before_the_first_sweep_claim_nothing(engine: Engine) -> None:
    """A network outage recorded in September, before the fleet's first sweep (1 October): September is one gap,
    no availability, no credit."""
    sweeps(engine, utc(10, 1), utc(10, 2))
    with write_session(engine) as s:
        srv = rows.server(s, rows.site(s), "a", monthly_fee_cents=10_000)
        s.add(Outage(server_id=srv.id or 0, start_at=utc(9, 10, 8), end_at=utc(9, 10, 12)))
    rep = report(engine, "2026-09")
    (avail,) = rep["availability"]["servers"]
    assert avail["measured"] is False and avail["availability_pct"] is None and avail["met"] is None
    assert rep["credits"]["servers"] == [] and rep["availability"]["breaches"] == 0
    assert rep["monitoring"]["measured_minutes"] == 0
    assert rep["monitoring"]["gaps"] == [{"start": iso(utc(9, 1)), "end": iso(utc(10, 1)),
                                          "minutes": 30 * 24 * 60}]  # fmt: skip


def test_a_monitoring_gap_inside_an_outage_is_not_credited(engine: Engine) -> None:
    """Outage 10:00-12:30 (150 min); no sweep started between 10:30 and 11:35 (a 65-minute gap): 85 measured
    minutes, one period instead of two."""
    sweeps(engine, utc(10, 1), utc(10, 31), skip=(utc(10, 9, 10, 30), utc(10, 9, 11, 35)))
    with write_session(engine) as s:
        srv = rows.server(s, rows.site(s), "a", monthly_fee_cents=10_000)
        s.add(Outage(server_id=srv.id or 0, start_at=utc(10, 9, 10), end_at=utc(10, 9, 12, 30)))
    rep = report(engine, "2026-10")
    (c,) = rep["credits"]["servers"]
    (o,) = c["outages"]
    assert (o["minutes"], o["unmeasured_minutes"], c["periods"], c["credit_cents"]) == (85, 65, 1, 330)


def test_annual_payers_are_credited_on_their_discounted_annual_fee(engine: Engine) -> None:
    """An annual price of 1,000.00 (ten months of 100.00): 2 periods x 0.27 % = 5.40; 16 periods would be
    43.20, above the cap of 1/24 of the year, 41.67."""
    sweeps(engine, utc(10, 1), utc(11, 1))
    with write_session(engine) as s:
        st = rows.site(s)
        a = rows.server(s, st, "a", monthly_fee_cents=10_000, billing="annual", annual_fee_cents=100_000)
        b = rows.server(s, st, "b", monthly_fee_cents=10_000, billing="annual", annual_fee_cents=100_000)
        s.add(Outage(server_id=a.id or 0, start_at=utc(10, 3, 1), end_at=utc(10, 3, 3, 5)))
        s.add(Outage(server_id=b.id or 0, start_at=utc(10, 3, 1), end_at=utc(10, 3, 17, 5)))
    rep = report(engine, "2026-10")
    assert credit(rep, "a") == (2, 540)
    assert credit(rep, "b") == (16, 4_167)
    assert {c["server"]: c["capped"] for c in rep["credits"]["servers"]} == {"a": False, "b": True}


def test_service_address_and_annual_fee_travel_through_the_servers_csv(engine: Engine, tmp_path: Path) -> None:
    with write_session(engine) as s:
        rows.server(s, rows.site(s), "seed")  # the site, and the server model R650
    path = tmp_path / "servers.csv"
    path.write_text(
        "hostname,asset_tag,serial,model,site,rack,unit,controller_host,service_host,web_port,dns_port,billing,"
        "monthly_fee_cents,annual_fee_cents\n"
        "web1,AT-1,SN-1,R650,PAR1,R1,3,127.0.9.1,127.0.9.2,8080,5353,annual,10000,100000\n",
        encoding="utf-8",
    )
    import_csv(engine, "servers", path)
    with read_session(engine) as s:
        srv = s.exec(select(Server).where(Server.hostname == "web1")).one()
    assert (srv.service_host, srv.web_port, srv.dns_port, srv.annual_fee_cents) == ("127.0.9.2", 8080, 5353, 100_000)
    out = io.StringIO()
    export_csv(engine, "servers", out)
    header, *lines = out.getvalue().splitlines()
    row = dict(zip(header.split(","), next(line for line in lines if line.startswith("web1,")).split(","), strict=True))
    assert (row["service_host"], row["annual_fee_cents"]) == ("127.0.9.2", "100000")
