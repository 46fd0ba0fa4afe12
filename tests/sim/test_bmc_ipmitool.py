"""The simulated BMC seen through ipmitool (lanplus), an IPMI client that shares no code with fleet or pyghmi."""

from __future__ import annotations

import pytest

from fleet.sim.run import SimFleet
from tests.sim.conftest import SERIALS, Ipmitool


@pytest.fixture
def big(clean: SimFleet, password: str) -> Ipmitool:
    server = clean.servers[0]
    return Ipmitool(server.host, server.port, password)


def sdr_rows(text: str) -> dict[str, list[str]]:
    """ipmitool `sdr elist` rows by sensor name: [number, status, entity, reading]."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) == 5:
            rows[cells[0]] = cells[1:]
    return rows


def test_sdr_lists_every_part_of_the_layout(big: Ipmitool, clean: SimFleet) -> None:
    layout = clean.servers[0].layout
    rows = sdr_rows(big("sdr", "elist"))
    expected = {f"PSU{i} Status" for i in range(1, layout.psu_count + 1)}
    expected |= {f"FAN{i}" for i in range(1, layout.fan_count + 1)}
    expected |= {f"Drive {i}" for i in range(layout.disks)}
    expected |= {f"CPU{i} Temp" for i in range(1, layout.cpus + 1)} | {"Inlet Temp", "Exhaust Temp"}
    assert expected <= set(rows)
    assert len([n for n in rows if n.startswith("DIMM")]) == layout.dimms
    assert all(rows[f"Drive {i}"][3] == "Drive Present" for i in range(layout.disks))
    assert rows["FAN1"][3].endswith("RPM") and rows["FAN1"][1] == "ok"


def test_psu_failure_shows_in_sensors_and_sel(big: Ipmitool, clean: SimFleet) -> None:
    before = big("sel", "list").count("\n")
    clean.inject(clean.servers[0].host, "PSU2", "failed")
    rows = sdr_rows(big("sdr", "elist"))
    assert "Failure detected" in rows["PSU2 Status"][3]
    assert "Failure detected" not in rows["PSU1 Status"][3]
    sel = big("sel", "elist").splitlines()
    assert len(sel) == before + 1
    assert "PSU2 Status" in sel[-1] and "Failure detected" in sel[-1] and "Asserted" in sel[-1]


def test_repair_clears_the_sensor_and_logs_a_deassertion(big: Ipmitool, clean: SimFleet) -> None:
    host = clean.servers[0].host
    clean.inject(host, "PSU1", "failed")
    clean.repair(host, "PSU1")
    assert "Failure detected" not in sdr_rows(big("sdr", "elist"))["PSU1 Status"][3]
    last = big("sel", "elist").splitlines()[-1]
    assert "PSU1 Status" in last and "Deasserted" in last


def test_fan_below_critical_is_a_lower_critical_reading(big: Ipmitool, clean: SimFleet) -> None:
    clean.inject(clean.servers[0].host, "FAN3", "below-critical")
    rows = sdr_rows(big("sdr", "elist"))
    assert rows["FAN3"][1] == "lcr"  # ipmitool's "lower critical" status
    rpm = int(rows["FAN3"][3].split()[0])
    assert 0 < rpm < 600  # below the 600 RPM lower-critical threshold the SDR declares
    assert "Lower Critical going low" in big("sel", "elist").splitlines()[-1]


def test_drive_removed_and_dimm_ecc_and_overtemperature(big: Ipmitool, clean: SimFleet) -> None:
    host = clean.servers[0].host
    clean.inject(host, "Drive 1", "removed")
    clean.inject(host, "DIMM A1", "uncorrectable-ecc")
    clean.inject(host, "inlet", "over-temperature")
    rows = sdr_rows(big("sdr", "elist"))
    assert "Drive Present" not in rows["Drive 1"][3]
    assert "Drive Present" in rows["Drive 0"][3]
    assert "Uncorrectable ECC" in rows["DIMM A1 ECC"][3]
    assert rows["Inlet Temp"][1] == "ucr"
    assert int(rows["Inlet Temp"][3].split()[0]) > 42  # the upper critical threshold of the inlet probe


def test_all_psus_lost_powers_the_chassis_off(big: Ipmitool, clean: SimFleet) -> None:
    host = clean.servers[0].host
    assert "System Power         : on" in big("chassis", "status")
    clean.inject(host, "PSU1", "input-lost")
    clean.inject(host, "PSU2", "failed")
    status = big("chassis", "status")
    assert "System Power         : off" in status
    assert "Main Power Fault     : true" in status


def test_fru_reports_the_given_serials_and_the_swapped_one(big: Ipmitool, clean: SimFleet) -> None:
    text = big("fru", "print")
    assert "CHASSIS-0001" in text
    assert SERIALS["PSU2"] in text and SERIALS["Disk 1"] in text
    try:
        clean.repair(clean.servers[0].host, "PSU2", serial="PSU-REPLACEMENT-77")
        text = big("fru", "print")
        assert "PSU-REPLACEMENT-77" in text and SERIALS["PSU2"] not in text
    finally:
        clean.repair(clean.servers[0].host, "PSU2", serial=SERIALS["PSU2"])


def test_small_fru_reads_are_honoured(big: Ipmitool) -> None:
    # `fru read` writes the raw image; reading it in 8-byte pieces must give the same bytes as one big read.
    whole = big("raw", "0x0a", "0x11", "0", "0", "0", "0x40").split()
    pieces: list[str] = []
    for offset in range(0, 64, 8):
        reply = big("raw", "0x0a", "0x11", "0", hex(offset), "0", "8").split()
        assert int(reply[0], 16) == 8
        pieces += reply[1:]
    assert int(whole[0], 16) == 64
    assert pieces == whole[1:]


def test_cipher_suite_17_works_too(big: Ipmitool) -> None:
    assert "Chassis Power is on" in big("chassis", "power", "status", cipher="17")


def test_wrong_password_and_unknown_user_are_refused(big: Ipmitool) -> None:
    assert big.run("chassis", "power", "status", password="not-the-password").returncode != 0
    assert big.run("chassis", "power", "status", user="nobody").returncode != 0


def test_each_bmc_has_its_own_layout(fleet: SimFleet, password: str) -> None:
    small = fleet.servers[1]
    rows = sdr_rows(Ipmitool(small.host, small.port, password)("sdr", "elist"))
    assert len([n for n in rows if n.startswith("PSU")]) == small.layout.psu_count
    assert len([n for n in rows if n.startswith("FAN")]) == small.layout.fan_count
