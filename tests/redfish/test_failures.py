"""Failure fixtures (copies of corpus trees with one part broken, served by sushy-static): the right readings, and
through the rules the right faults and severities. Also the newer schema forms, HPE SmartStorage, and the logs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from fleet.health.layout import Installed, Layout
from fleet.health.model import Kind, State, exit_status
from fleet.health.rules import CRITICAL, NON_CRITICAL, assess
from tests.redfish.conftest import Served, Tree, serve, stop, wait_ready
from tests.redfish.helpers import by_slot, poll

pytestmark = pytest.mark.redfish

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
LOCAL = "dmtf-public-localstorage"
SYSTEM = "/redfish/v1/Systems/437XR1138R2"


@pytest.fixture
def served() -> Iterator[Callable[[Tree], Served]]:
    running: list[Served] = []

    def start(tree: Tree) -> Served:
        s = serve(tree.root)
        running.append(s)
        wait_ready(s)
        return s

    yield start
    for s in running:
        stop(s)


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node: Any = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def findings(result: Any, layout: Layout) -> dict[str, tuple[str, str]]:
    installed = [Installed(r.slot, r.kind) for r in result.readings if r.slot and r.state is not State.ABSENT]
    return {f.slot: (f.problem, f.severity) for f in assess(result, layout, installed, now=NOW)}


def test_failed_psu_of_two_is_non_critical_and_both_is_critical(tree_copy, served) -> None:
    tree = tree_copy("dmtf-public-tower")
    tree.edit("/Chassis/Tower/Power", _set(["PowerSupplies", 1, "Status"], {"State": "Enabled", "Health": "Critical"}))
    result = poll(served(tree).port)
    psus = by_slot(result, "psu")
    assert psus["PSU2"].state is State.CRITICAL
    assert exit_status(result) == 2
    found = findings(result, Layout(psu_count=2))
    assert found["PSU2"] == ("failed", NON_CRITICAL)  # the other PSU still carries the server
    assert found["PSU1"] == ("predictive", NON_CRITICAL)  # the tree's own Warning (NON-OK.txt)
    assert findings(result, Layout(psu_count=1))["PSU2"] == ("failed", CRITICAL)


def test_stopped_fan_below_its_threshold_without_a_health_word(tree_copy, served) -> None:
    tree = tree_copy(LOCAL)

    def stop_fan(data: dict[str, Any]) -> None:
        fan = data["Fans"][1]
        fan["Reading"], fan["LowerThresholdCritical"] = 0, 500
        fan["Status"] = {"State": "Enabled"}  # no Health: the thresholds decide

    tree.edit("/Chassis/1U/Thermal", stop_fan)
    result = poll(served(tree).port)
    fan = by_slot(result, "fan")["FAN2"]
    assert (fan.state, fan.value, fan.unit) == (State.CRITICAL, 0.0, "RPM")
    assert "below lower critical" in (fan.detail or "")
    assert findings(result, Layout(fan_count=2))["FAN2"] == ("failed", NON_CRITICAL)


def test_predictive_failure_drive_dimm_uncorrectable_and_critical_temperature(tree_copy, served) -> None:
    tree = tree_copy(LOCAL)
    tree.edit("/Chassis/1U/Drives/35D38F11ACEF7BD3", _set(["FailurePredicted"], True))
    status = {
        "State": "Enabled",
        "Health": "Critical",
        "Conditions": [{"MessageId": "Memory.1.0.UncorrectableError", "Message": "Uncorrectable ECC error on DIMM 1"}],
    }
    tree.edit(f"{SYSTEM}/Memory/DIMM1", _set(["Status"], status))

    def overheat(data: dict[str, Any]) -> None:
        t = data["Temperatures"][0]
        t["ReadingCelsius"], t["Status"] = 47, {"State": "Enabled", "Health": "Critical"}

    tree.edit("/Chassis/1U/Thermal", overheat)
    result = poll(served(tree).port)
    disk = next(r for r in result.readings if r.kind is Kind.DISK and r.state is not State.OK)
    assert disk.state is State.WARNING and "predictive failure" in (disk.detail or "")
    dimm = by_slot(result, "dimm")["DIMM_1"]
    assert dimm.state is State.CRITICAL and "Uncorrectable ECC" in (dimm.detail or "")
    temp = next(r for r in result.readings if r.name == "CPU1 Temp")
    assert (temp.state, temp.value) == (State.CRITICAL, 47.0)
    found = findings(result, Layout(psu_count=1, fan_count=2, raid_level="RAID5"))
    assert found[disk.slot] == ("predictive", NON_CRITICAL)
    assert found["DIMM_1"] == ("uncorrectable", NON_CRITICAL)  # the host is still running
    assert found["CPU1"] == ("overtemp", NON_CRITICAL)  # "CPU1 Temp": the CPU's thermal fault
    # The same DIMM error on a host that went down with it: the SLA's critical swap.
    tree.edit(SYSTEM, _set(["PowerState"], "Off"))
    halted = poll(served(tree).port)
    assert halted.power == "off"
    assert findings(halted, Layout(psu_count=1, fan_count=2, raid_level="RAID5"))["DIMM_1"] == (
        "uncorrectable",
        CRITICAL,
    )


def test_newer_schema_forms_only(tree_copy, served) -> None:
    """A chassis with only PowerSubsystem, ThermalSubsystem and Sensors (newest firmware)."""
    tree = tree_copy("dmtf-public-rackmount1")

    def newer_only(data: dict[str, Any]) -> None:
        del data["Power"], data["Thermal"]

    tree.edit("/Chassis/1U", newer_only)
    result = poll(served(tree).port)
    psus = by_slot(result, "psu")
    assert set(psus) == {"PSU1", "PSU2"} and psus["PSU1"].state is State.WARNING  # Bay1: NON-OK.txt
    assert "predicted failure" in (psus["PSU1"].detail or "")
    fans = by_slot(result, "fan")
    assert len(fans) == 4 and {"FAN1", "FAN2"} <= set(fans)  # two chassis bays and two CPU fans, all distinct
    assert fans["FAN1"].value == 2200.0 and fans["FAN1"].unit == "RPM"
    temps = {r.name: r for r in result.readings if r.kind is Kind.TEMPERATURE}
    assert temps["CPU #1 Temperature"].state is State.WARNING  # Sensors/CPU1Temp: NON-OK.txt
    assert by_slot(result, "battery")["BAT"].state is State.OK
    assert psus["PSU2"].state is State.ABSENT  # an empty bay: no part, no inventory entry
    inventory = {i.slot for i in result.inventory}
    assert "PSU1" in inventory and "PSU2" not in inventory


def test_hpe_smartstorage_when_storage_lists_no_drive(tree_copy, served) -> None:
    tree = tree_copy("csm-XL675d_A100")
    tree.edit("/Systems/1/Storage", _set(["Members"], []))
    result = poll(served(tree).port)
    disks = by_slot(result, "disk")
    assert set(disks) == {"Disk 3:4"}  # Location 1I:3:4
    assert disks["Disk 3:4"].state is State.WARNING and "NonAuthenticDrive" in (disks["Disk 3:4"].detail or "")
    ctl = by_slot(result, "raid")["RAID controller"]
    assert ctl.state is State.WARNING
    inv = {i.slot: i for i in result.inventory}
    assert inv["Disk 3:4"].serial == "21122DE9C12C" and inv["RAID controller"].part_number == "836260-002"


def test_log_cursor_returns_only_new_entries(tree_copy, served) -> None:
    tree = tree_copy(LOCAL)
    s = served(tree)
    first = poll(s.port)
    assert len(first.events) == 3  # Log1 (2) and the Manager's Log (1): the whole logs on first contact
    again = poll(s.port, cursor=first.cursor)
    assert again.events == []
    entry = {
        "@odata.id": "/redfish/v1/Managers/BMC/LogServices/Log/Entries/2",
        "Id": "2",
        "Name": "Log Entry 2",
        "EntryType": "SEL",
        "Severity": "Critical",
        "Created": "2026-11-29T11:58:00Z",
        "SensorType": "Memory",
        "Message": "Uncorrectable ECC error\\n\\x1b[31m on DIMM A1",
    }

    def add(data: dict[str, Any]) -> None:
        data["Members"].append(entry)

    tree.edit("/Managers/BMC/LogServices/Log/Entries", add)
    third = poll(s.port, cursor=again.cursor)
    assert [e.record_id for e in third.events] == [2]
    event = third.events[0]
    assert (event.kind, event.slot, event.severity) == (Kind.DIMM, "DIMM_A1", State.CRITICAL)
    assert "\x1b" not in event.text and "\n" not in event.text
    found = {f.slot: (f.problem, f.severity) for f in assess(third, Layout(), now=NOW)}
    assert found["DIMM_A1"] == ("uncorrectable", NON_CRITICAL)
    # The log cleared and refilled: Ids start again below the cursor, entries newer than it are new.
    tree.edit("/Managers/BMC/LogServices/Log/Entries", _set(["Members"], [{**entry, "Id": "1"}]))
    tree.edit("/Systems/437XR1138R2/LogServices/Log1/Entries", _set(["Members"], []))
    cleared = poll(s.port, cursor=third.cursor)
    assert cleared.events == []  # the refilled entry is not newer than what was already returned
