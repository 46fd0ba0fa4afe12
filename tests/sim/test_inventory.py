"""Simulators built from inventory rows: same slots, same serials, same addresses as the database says."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from fleet.sim.inventory import simulated_servers
from fleet.sim.run import start_simulators
from fleet.store.db import write_session
from fleet.store.models import Component, PartModel, Server, ServerModel, Site
from tests.sim.conftest import Ipmitool, free_udp_port


def add_server(s: Session, site: Site, model: ServerModel, part: PartModel, n: int, protocol: str, port: int) -> None:
    server = Server(
        hostname=f"srv{n}.example.net",
        asset_tag=f"AT-{n}",
        serial=f"CH-{n:04d}",
        model_id=model.id or 0,
        site_id=site.id or 0,
        rack="A01",
        unit=n,
        controller_host=f"127.0.5.{n}",
        controller_port=port,
        controller_protocol=protocol,
    )
    s.add(server)
    s.flush()
    slots = ["PSU1", "PSU2", "FAN1", "FAN2", "FAN3", "DIMM_A1", "DIMM_B1", "Disk 0", "Disk 1", "BAT"]
    for slot in slots:
        s.add(Component(server_id=server.id or 0, slot=slot, part_model_id=part.id or 0, serial=f"{slot}-{n}"))


def test_simulators_mirror_the_inventory(engine: Engine, password: str) -> None:
    ipmi_port, snmp_port = free_udp_port("127.0.5.1"), free_udp_port("127.0.5.2")
    with write_session(engine) as s:
        site = Site(code="PAR1", name="Paris", timezone="Europe/Paris")
        dell = ServerModel(vendor="Dell", name="PowerEdge R640", controller="idrac")
        hpe = ServerModel(vendor="HPE", name="ProLiant DL360 Gen10", controller="ilo")
        part = PartModel(part_number="P1", kind="psu", vendor="Dell", description="PSU")
        s.add_all([site, dell, hpe, part])
        s.flush()
        add_server(s, site, dell, part, 1, "ipmi", ipmi_port)
        add_server(s, site, hpe, part, 2, "snmp", snmp_port)
    with Session(engine) as s:
        sims = simulated_servers(s)
    assert [(x.host, x.port, x.protocol, x.vendor) for x in sims] == [
        ("127.0.5.1", ipmi_port, "ipmi", "dell"),
        ("127.0.5.2", snmp_port, "snmp", "hpe"),
    ]
    first = sims[0]
    assert (first.layout.psu_count, first.layout.fan_count, first.layout.disks) == (2, 3, 2)
    assert first.layout.raid_battery and first.layout.dimm_names == ("DIMM_A1", "DIMM_B1")
    with start_simulators(sims, users={"admin": password}, community="c") as sim:
        sim.inject("127.0.5.1", "BAT", "failed")
        ipmitool = Ipmitool("127.0.5.1", ipmi_port, password)
        fru = ipmitool("fru", "print")
        assert "PSU2-1" in fru and "Disk 1-1" in fru and "CH-0001" in fru
        assert "[Failed]" in ipmitool("sdr", "get", "RAID Battery")  # battery offset 1, "failed"
