"""One sweep over IPMI, SNMP and Redfish servers side by side (the simulators of `fleet demo`): each read, the Redfish
server's broken PSU a fault with its spare reservation path, its log cursor stored, its certificate pinned."""

from __future__ import annotations

import dataclasses
import json
import socket
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from fleet.config import load_settings
from fleet.sim.inventory import simulated_servers
from fleet.sim.run import start_simulators
from fleet.sim.tlscert import self_signed
from fleet.store.db import read_session, write_session
from fleet.store.models import Component, Fault, PartModel, Server, ServerModel, Site
from fleet.sweep.run import poll_server, run_sweep
from tests.conftest import free_port


def _server(n: int, model: ServerModel, site: Site, protocol: str, port: int, **kw: object) -> Server:
    return Server(
        hostname=f"srv{n}.example.net",
        asset_tag=f"AT-{n}",
        serial=f"CH-{n:04d}",
        model_id=model.id or 0,
        site_id=site.id or 0,
        rack="A01",
        unit=n,
        controller_host=f"127.0.7.{n}",
        controller_port=port,
        controller_protocol=protocol,
        controller_user="admin",
        credential_ref="env:FLEET_TEST_BMC",
        **kw,
    )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_one_sweep_reads_ipmi_snmp_and_redfish(engine: Engine, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FLEET_TEST_BMC", "bmc-pass")
    monkeypatch.setenv("FLEET_TEST_COMMUNITY", "sweep-community")
    _cert, _key, pin = self_signed(tmp_path)
    ports = {"ipmi": free_port(), "snmp": free_port(), "redfish": free_port(socket.SOCK_STREAM)}
    with write_session(engine) as s:
        site = Site(code="PAR1", name="Paris", timezone="Europe/Paris")
        model = ServerModel(vendor="HPE", name="ProLiant DL380 Gen11", controller="ilo", psu_count=2, fan_count=2,
                            disk_slots=2, dimm_slots=2, raid_level="RAID1", raid_battery=False)  # fmt: skip
        psu = PartModel(part_number="P38995-B21", kind="psu", vendor="HPE", description="800W PSU")
        s.add_all([site, model, psu])
        s.flush()
        servers = [
            _server(1, model, site, "ipmi", ports["ipmi"]),
            _server(2, model, site, "snmp", ports["snmp"]),
            _server(3, model, site, "redfish", ports["redfish"], controller_cert_sha256=pin),
        ]
        servers[1].credential_ref = "env:FLEET_TEST_COMMUNITY"
        s.add_all(servers)
        s.flush()
        for srv in servers:
            for slot in ("PSU1", "PSU2"):
                s.add(Component(server_id=srv.id or 0, slot=slot, part_model_id=psu.id or 0, serial=f"{slot}-{srv.id}"))
    with read_session(engine) as s:
        sims = simulated_servers(s)
    settings = dataclasses.replace(load_settings(), outbox=str(tmp_path / "outbox"), poll_timeout_s=15.0)
    with start_simulators(
        sims, users={"admin": "bmc-pass"}, community="sweep-community", tls=(str(_cert), str(_key))
    ) as sim:
        sim.inject("127.0.7.3", "PSU2", "failed")
        report = run_sweep(engine, settings)
        assert report.unreachable == [] and report.polled == 3
        with read_session(engine) as s:
            rf = s.exec(select(Server).where(Server.controller_protocol == "redfish")).one()
            faults = s.exec(select(Fault).where(Fault.resolved_at.is_(None))).all()
            cursor = rf.poll_cursor or {}  # a JSON column
        assert [(f.server_id, f.slot, f.severity) for f in faults] == [(rf.id, "PSU2", "non-critical")]
        assert cursor["log_paths"] == ["/redfish/v1/Managers/1/LogServices/SEL/Entries"]
        assert "token" not in json.dumps(cursor).lower()  # a session token is a credential: never in the database
        sim.repair("127.0.7.3", "PSU2", serial="NEW-PSU2")
        check = poll_server(engine, rf.id or 0, settings=settings)
        assert check.error is None, str(check)
