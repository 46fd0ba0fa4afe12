"""Outages measured by the sweep's own checks against real web and DNS servers on loopback, classified from what
the same round saw, and the SLA report that credits the network ones only. Frozen clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert
from sqlmodel import select

from fleet.config import Settings
from fleet.health.model import PollResult
from fleet.sim.services import ServiceSim, SimService
from fleet.sla.outages import Seen
from fleet.sla.report import sla_report
from fleet.store.db import read_session, write_session
from fleet.store.models import Outage, Server, SweepRun
from fleet.sweep.outages import check_services, update_outages
from tests.sched import fleet_rows as rows

S = Settings(service_timeout_s=2.0)
T0 = datetime(2026, 10, 14, 9, 0, tzinfo=UTC)
WEB, DNS = 18480, 18453  # on each server's own 127.0.4.x address


def polled(reachable: bool = True, power: str = "on") -> PollResult:
    """What the round's controller poll said (the collectors' contract), for the rules that judge the outage."""
    return PollResult(host="bmc", protocol="ipmi", reachable=reachable, error=None if reachable else "timeout",
                      power=power)  # fmt: skip


@pytest.fixture
def fleet(engine: Engine) -> Iterator[tuple[Engine, ServiceSim, dict[str, Server]]]:
    servers: dict[str, Server] = {}
    with write_session(engine) as s:
        par, ams = rows.site(s, "PAR1"), rows.site(s, "AMS1", "Europe/Amsterdam")
        names = ["svc", "net", "hw", "ok1", "ok2", "ok3", "ok4"]
        for i, name in enumerate(names, start=1):
            servers[name] = rows.server(s, par, name, monthly_fee_cents=10_000, service_host=f"127.0.4.{i}",
                                        web_port=WEB, dns_port=DNS)  # fmt: skip
        for i, name in enumerate(["ams1", "ams2", "ams3"], start=1):
            servers[name] = rows.server(s, ams, name, monthly_fee_cents=10_000, service_host=f"127.0.5.{i}",
                                        web_port=WEB, dns_port=DNS)  # fmt: skip
        # Monitoring ran every 5 minutes over the whole day: every minute below was measured.
        runs = [{"started_at": T0 - timedelta(hours=1) + timedelta(minutes=5 * k)} for k in range(12 * 6)]
        s.execute(insert(SweepRun), runs)
    sims = [SimService(x.service_host or "", x.hostname, WEB, DNS) for x in servers.values()]
    with ServiceSim(sims).start() as sim:
        yield engine, sim, servers


def test_each_outage_gets_its_cause_and_only_network_ones_earn_credit(fleet) -> None:
    engine, sim, srv = fleet
    sim.set("127.0.4.1", web="error")  # svc: the web server fails, host and controller fine -> service
    sim.set("127.0.4.2", web="down", dns="down")  # net: controller unreachable too -> network
    sim.set("127.0.4.3", web="down", dns="down")  # hw: controller answers, host powered off -> hardware
    for i in (1, 2, 3):  # AMS1: every server's services gone at once, controllers fine -> network (the site)
        sim.set(f"127.0.5.{i}", web="down", dns="down")
    results = {x.id: polled() for x in srv.values()}
    results[srv["net"].id] = polled(reachable=False)
    results[srv["hw"].id] = polled(power="off")
    count = check_services(engine, S, list(srv.values()), results, T0)
    assert count.opened == 1 + 2 * 5  # svc's web; both checks of net, hw and the three AMS1 servers

    for host in ["127.0.4.1", "127.0.4.2", "127.0.4.3", "127.0.5.1", "127.0.5.2", "127.0.5.3"]:
        sim.set(host, web="up", dns="up")
    # 2 h 10 min later every check passes again: every outage closes.
    count = check_services(engine, S, list(srv.values()), results, T0 + timedelta(minutes=130))
    assert count.closed == 11

    with read_session(engine) as s:
        rep = sla_report(s, "2026-10", now=datetime(2026, 11, 2, tzinfo=UTC), settings=S)
    causes = {(o["server"], o["service"]): o["cause"] for o in rep["outages"]}
    assert causes[("svc", "web")] == "service"
    assert causes[("net", "web")] == causes[("net", "dns")] == "network"
    assert causes[("hw", "web")] == causes[("hw", "dns")] == "hardware"
    assert {causes[(h, "dns")] for h in ("ams1", "ams2", "ams3")} == {"network"}
    credits = {c["server"]: (c["periods"], c["credit_cents"]) for c in rep["credits"]["servers"]}
    # 130 minutes, web and DNS records merged into one outage: 2 periods x 3.3 % of 100.00 = 6.60 each.
    assert credits == {"net": (2, 660), "ams1": (2, 660), "ams2": (2, 660), "ams3": (2, 660)}
    down = {a["server"]: a["down_minutes"] for a in rep["availability"]["servers"]}
    assert down["net"] == 130 and down["hw"] == 0 and down["svc"] == 0


def test_two_writers_open_one_outage_per_server_and_check(engine: Engine) -> None:
    with write_session(engine) as s:
        st = rows.site(s)
        sid = rows.server(s, st, "w1", service_host="127.0.4.9", web_port=WEB, dns_port=DNS).id
    assert sid is not None
    barrier = threading.Barrier(2)
    opened: list[int] = []
    errors: list[BaseException] = []

    sqlite = engine.dialect.name == "sqlite"

    def writer() -> None:
        try:
            if sqlite:  # SQLite writers take the file's lock up front: they meet before, then run one after another
                barrier.wait(timeout=30)
            with write_session(engine) as s:
                if not sqlite:  # PostgreSQL: both transactions have begun and seen no open outage
                    s.exec(select(Outage)).all()
                    barrier.wait(timeout=30)
                opened.append(update_outages(s, {sid: {"web": False}}, {sid: Seen(False)}, T0).opened)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # Exactly one of them opened it; the other was told by the unique index (PostgreSQL) or saw it (SQLite).
    assert not errors and sorted(opened) == [0, 1]
    with read_session(engine) as s:
        open_rows = s.exec(select(Outage).where(Outage.end_at.is_(None))).all()  # type: ignore[union-attr]
    assert [(o.server_id, o.service) for o in open_rows] == [(sid, "web")]
