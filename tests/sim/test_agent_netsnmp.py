"""The simulated SNMP agents seen through net-snmp (snmpget, snmpgetnext, snmpbulkwalk, snmpwalk)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.sim.layout import SimServer
from fleet.sim.run import SimFleet, start_simulators
from tests.sim.conftest import SERIALS, NetSnmp, free_udp_port

DELL = "1.3.6.1.4.1.674.10892.5"
PSU_STATUS = f"{DELL}.4.600.12.1.5.1"
PSU_LOCATION = f"{DELL}.4.600.12.1.8.1"
DISK_STATE = f"{DELL}.5.1.20.130.4.1.4"
DISK_SERIAL = f"{DELL}.5.1.20.130.4.1.7"
MEMORY_STATUS = f"{DELL}.4.1100.50.1.5.1"
FAN_STATUS = f"{DELL}.4.700.12.1.5.1"
TEMP_STATUS = f"{DELL}.4.700.20.1.5.1"
TEMP_LOCATION = f"{DELL}.4.700.20.1.8.1"
GLOBAL = f"{DELL}.2.1.0"
HP_PSU_CONDITION = "1.3.6.1.4.1.232.6.2.9.3.1.4.0"
HP_DRIVE_STATUS = "1.3.6.1.4.1.232.3.2.5.1.1.6.0"
HP_MIB_CONDITION = "1.3.6.1.4.1.232.6.1.3.0"


@pytest.fixture(scope="module")
def snmp(tmp_path_factory: pytest.TempPathFactory, community: str) -> NetSnmp:
    return NetSnmp(Path(tmp_path_factory.mktemp("netsnmp")), community)


def target(fleet: SimFleet, index: int) -> str:
    server = fleet.servers[index]
    return f"udp:{server.host}:{server.port}"


def test_dell_identity_and_healthy_tables(snmp: NetSnmp, clean: SimFleet) -> None:
    dell = target(clean, 2)
    got = snmp.values("snmpget", dell, "1.3.6.1.2.1.1.2.0", GLOBAL)
    assert got["1.3.6.1.2.1.1.2.0"] == f"OID: .{DELL}"
    assert got[GLOBAL] == "INTEGER: 3"  # ok
    layout = clean.servers[2].layout
    psus = snmp.values("snmpbulkwalk", dell, PSU_STATUS)
    assert list(psus.values()) == ["INTEGER: 3"] * layout.psu_count
    names = snmp.values("snmpbulkwalk", dell, PSU_LOCATION)
    assert list(names.values()) == [f'STRING: "PS{i} Status"' for i in range(1, layout.psu_count + 1)]
    disks = snmp.values("snmpbulkwalk", dell, DISK_STATE)
    assert list(disks.values()) == ["INTEGER: 3"] * layout.disks  # online
    serials = snmp.values("snmpbulkwalk", dell, DISK_SERIAL)
    assert f'STRING: "{SERIALS["Disk 1"]}"' in serials.values()


def test_dell_status_columns_follow_faults(snmp: NetSnmp, clean: SimFleet) -> None:
    dell = target(clean, 2)
    host = clean.servers[2].host
    clean.inject(host, "PSU2", "failed")
    clean.inject(host, "Disk 1", "failed")
    clean.inject(host, "DIMM_A2", "correctable-ecc")
    clean.inject(host, "CPU1", "over-temperature")
    got = snmp.values("snmpget", dell, f"{PSU_STATUS}.1", f"{PSU_STATUS}.2", f"{DISK_STATE}.2", f"{MEMORY_STATUS}.2")
    assert got[f"{PSU_STATUS}.1"] == "INTEGER: 3"
    assert got[f"{PSU_STATUS}.2"] == "INTEGER: 5"  # critical
    assert got[f"{DISK_STATE}.2"] == "INTEGER: 7"  # failed
    assert got[f"{MEMORY_STATUS}.2"] == "INTEGER: 4"  # nonCritical
    temps = snmp.values("snmpbulkwalk", dell, TEMP_STATUS)
    where = snmp.values("snmpbulkwalk", dell, TEMP_LOCATION)
    hot = [where[o.replace(TEMP_STATUS, TEMP_LOCATION)] for o, v in temps.items() if v == "INTEGER: 5"]
    assert hot == ['STRING: "CPU1 Temp"']
    assert snmp.values("snmpget", dell, GLOBAL)[GLOBAL] == "INTEGER: 5"
    clean.repair(host, "PSU2")
    assert snmp.values("snmpget", dell, f"{PSU_STATUS}.2")[f"{PSU_STATUS}.2"] == "INTEGER: 3"


def test_removed_drive_and_stopped_fan(snmp: NetSnmp, clean: SimFleet) -> None:
    dell = target(clean, 2)
    host = clean.servers[2].host
    clean.inject(host, "Drive 0", "removed")
    clean.inject(host, "FAN4", "failed")
    got = snmp.values("snmpget", dell, f"{DISK_STATE}.1", f"{FAN_STATUS}.4", f"{FAN_STATUS}.3")
    assert got[f"{DISK_STATE}.1"] == "INTEGER: 9"  # removed
    assert got[f"{FAN_STATUS}.4"] == "INTEGER: 5"
    assert got[f"{FAN_STATUS}.3"] == "INTEGER: 3"


def test_hpe_agent(snmp: NetSnmp, clean: SimFleet) -> None:
    hpe = target(clean, 3)
    assert snmp.values("snmpget", hpe, "1.3.6.1.2.1.1.2.0")["1.3.6.1.2.1.1.2.0"].startswith("OID: .1.3.6.1.4.1.232.")
    clean.inject(clean.servers[3].host, "PSU1", "failed")
    clean.inject(clean.servers[3].host, "Disk 3", "predictive")
    psus = snmp.values("snmpbulkwalk", hpe, HP_PSU_CONDITION)
    assert psus == {f"{HP_PSU_CONDITION}.1": "INTEGER: 4", f"{HP_PSU_CONDITION}.2": "INTEGER: 2"}
    drives = snmp.values("snmpbulkwalk", hpe, HP_DRIVE_STATUS)
    assert drives[f"{HP_DRIVE_STATUS}.3"] == "INTEGER: 4"  # predictiveFailure
    # One PSU of a redundant pair and a drive predicting failure: the server is degraded (3), not failed (4).
    assert snmp.values("snmpget", hpe, HP_MIB_CONDITION)[HP_MIB_CONDITION] == "INTEGER: 3"


def test_getnext_walk_v1_and_end_of_mib(snmp: NetSnmp, clean: SimFleet) -> None:
    dell = target(clean, 2)
    first = snmp.values("snmpgetnext", dell, "1.3.6.1.2.1.1")
    assert list(first) == ["1.3.6.1.2.1.1.1.0"]
    # The whole tree once with GETNEXT (v1) and once with GETBULK (v2c): same OIDs, in order.
    walk = snmp.values("snmpwalk", dell, "1.3.6", extra=("-v1",))
    bulk = snmp.values("snmpbulkwalk", dell, "1.3.6", extra=("-Cr25",))
    assert list(walk) == list(bulk) and len(walk) > 100
    assert list(walk) == sorted(walk, key=lambda o: tuple(int(p) for p in o.split(".")))
    past = snmp.run("snmpgetnext", dell, "1.3.6.1.4.1.674.10892.9")
    assert "No more variables left in this MIB View" in past.stdout


def test_missing_oid_and_wrong_community(snmp: NetSnmp, clean: SimFleet, tmp_path: Path) -> None:
    dell = target(clean, 2)
    missing = snmp.run("snmpget", dell, f"{PSU_STATUS}.9")
    assert "No Such Instance" in missing.stdout
    wrong = NetSnmp(tmp_path, "not-the-community")
    out = wrong.run("snmpget", dell, "1.3.6.1.2.1.1.2.0")
    assert out.returncode != 0 and "Timeout" in out.stderr + out.stdout


# Status columns of HEALTH-OIDS-style references for the other vendors: (vendor, slot, problem, column OID of the
# part's row, value when healthy, value after the fault). Values from the vendors' MIB enumerations.
OTHER_VENDORS = [
    ("cisco", "PSU2", "failed", "1.3.6.1.4.1.9.9.719.1.15.56.1.8.2", "1", "2"),  # operable -> inoperable
    ("cisco", "Disk 1", "removed", "1.3.6.1.4.1.9.9.719.1.45.4.1.9.2", "1", "6"),  # operable -> removed
    ("fujitsu", "FAN2", "failed", "1.3.6.1.4.1.231.2.10.2.2.10.5.2.1.5.1.2", "3", "4"),  # ok -> failed
    ("fujitsu", "PSU1", "input-lost", "1.3.6.1.4.1.231.2.10.2.2.10.6.2.1.5.1.1", "3", "5"),  # ok -> ac-fail
    ("lenovo", "PSU1", "failed", "1.3.6.1.4.1.19046.11.1.1.4.1.0", "255", "2"),  # normal -> critical
]


@pytest.mark.parametrize(("vendor", "slot", "problem", "column", "before", "after"), OTHER_VENDORS)
def test_other_vendor_tables(
    snmp: NetSnmp, community: str, vendor: str, slot: str, problem: str, column: str, before: str, after: str
) -> None:
    host = "127.0.6.1"
    server = SimServer(host, free_udp_port(host), protocol="snmp", vendor=vendor)
    with start_simulators([server], community=community) as sim:
        where = f"udp:{host}:{server.port}"
        assert snmp.values("snmpget", where, column)[column] == f"INTEGER: {before}"
        sim.inject(host, slot, problem)
        assert snmp.values("snmpget", where, column)[column] == f"INTEGER: {after}"
