"""A small real fleet for the sweep: the sample's catalogue and layouts, a dozen servers kept, their controllers
simulated on loopback (real IPMI RMCP+ and SNMP over UDP), the rest decommissioned."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from fleet.sim.sample import load_sample
from fleet.store.db import make_engine, read_session, write_session
from fleet.store.migrate import upgrade
from fleet.store.models import Server
from tests.conftest import REPO

PASSWORD = "sweep-test-bmc-pw"
COMMUNITY = "sweep-test-community"
ENV = {"FLEET_DEMO_BMC_PASSWORD": PASSWORD, "FLEET_DEMO_SNMP_COMMUNITY": COMMUNITY}


@dataclass
class SmallFleet:
    url: str
    path: Path
    ipmi: list[Server]
    snmp: list[Server]


def keep_few(url: str, n_ipmi: int, n_snmp: int) -> SmallFleet:
    engine = make_engine(url)
    upgrade(engine)
    load_sample(engine)
    with read_session(engine) as s:
        servers = s.exec(select(Server).where(Server.controller_protocol != "none").order_by(Server.id)).all()
    ipmi = [x for x in servers if x.controller_protocol == "ipmi"][:n_ipmi]
    snmp = [x for x in servers if x.controller_protocol == "snmp"][:n_snmp]
    keep = [x.id for x in ipmi + snmp]
    with write_session(engine) as s:
        s.execute(text(f"UPDATE server SET status = 'decommissioned' WHERE id NOT IN ({','.join(map(str, keep))})"))
    engine.dispose()
    return SmallFleet(url=url, path=Path(url.removeprefix("sqlite:///")), ipmi=ipmi, snmp=snmp)


def fleet_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fleet", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **ENV, **(env or {})},
    )  # fmt: skip


@pytest.fixture
def small_fleet(tmp_path, monkeypatch):
    """6 IPMI + 4 SNMP servers of the sample, with simulated controllers running in this process, and their
    customers' web and DNS servers answering (else every sweep waits out the service checks' deadline)."""
    from fleet.sim.inventory import simulated_servers
    from fleet.sim.run import start_simulators
    from fleet.sim.services import ServiceSim, simulated_services

    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    fleet = keep_few(f"sqlite:///{tmp_path / 'inventory.db'}", 6, 4)
    engine = make_engine(fleet.url)
    with read_session(engine) as s:
        sims, services = simulated_servers(s), simulated_services(s)
    engine.dispose()
    with ServiceSim(services).start():
        sim = start_simulators(sims, users={"admin": PASSWORD}, community=COMMUNITY)
        try:
            yield fleet, sim
        finally:
            sim.stop()
