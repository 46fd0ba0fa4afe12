"""The simulated BMC seen through pyghmi's client, in the same process as the simulators (as in `fleet demo`)."""

from __future__ import annotations

import pytest
from pyghmi import constants
from pyghmi.exceptions import IpmiException
from pyghmi.ipmi import command

from fleet.sim.run import SimFleet
from tests.sim.conftest import SERIALS


def client(fleet: SimFleet, index: int, password: str) -> command.Command:
    server = fleet.servers[index]
    # pyghmi wants bytes credentials (its RAKP code concatenates them with bytes).
    return command.Command(bmc=server.host, userid=b"admin", password=password.encode(), port=server.port)


def test_sensor_health_follows_injected_faults(clean: SimFleet, password: str) -> None:
    host = clean.servers[0].host
    clean.inject(host, "PSU2", "failed")
    clean.inject(host, "DIMM_B2", "uncorrectable-ecc")
    readings = {r.name: r for r in client(clean, 0, password).get_sensor_data()}
    assert readings["PSU2 Status"].health >= constants.Health.Critical
    assert readings["PSU1 Status"].health == constants.Health.Ok
    assert readings["DIMM B2 ECC"].health >= constants.Health.Critical
    assert readings["CPU1 Temp"].units == "°C" and 20 < readings["CPU1 Temp"].value < 85


def test_power_and_event_log(clean: SimFleet, password: str) -> None:
    ipmi = client(clean, 0, password)
    assert ipmi.get_power()["powerstate"] == "on"
    before = len(list(ipmi.get_event_log()))
    clean.inject(clean.servers[0].host, "Disk 2", "failed")
    events = list(ipmi.get_event_log())
    assert len(events) == before + 1
    assert events[-1]["component"] == "Drive 2" and not events[-1]["deassertion"]


def test_inventory_names_slots_and_serials(clean: SimFleet, password: str) -> None:
    inventory = dict(client(clean, 0, password).get_inventory())
    assert inventory["PSU2"]["Serial Number"] == SERIALS["PSU2"]
    assert inventory["Disk 1"]["Serial Number"] == SERIALS["Disk 1"]
    assert inventory["System"]["Serial Number"] == "CHASSIS-0001"


def test_two_layouts_are_not_mixed_up_by_the_sdr_cache(clean: SimFleet, password: str) -> None:
    # pyghmi caches SDRs per process by controller identity; BMCs of different layouts must not share an entry.
    big = [r.name for r in client(clean, 0, password).get_sensor_data()]
    small = [r.name for r in client(clean, 1, password).get_sensor_data()]
    layout = clean.servers[1].layout
    assert len([n for n in small if n.startswith("FAN")]) == layout.fan_count
    assert len(big) > len(small)


def test_wrong_password_is_an_authentication_error(fleet: SimFleet) -> None:
    server = fleet.servers[0]
    with pytest.raises(IpmiException, match="password"):
        command.Command(bmc=server.host, userid=b"admin", password=b"wrong-password", port=server.port)
