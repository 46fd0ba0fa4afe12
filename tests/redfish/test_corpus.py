"""The seven captured Redfish services: every tree read, no alarm beyond what NON-OK.txt lists, empty bays absent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from fleet.health.layout import Installed, Layout
from fleet.health.model import Kind, PollResult, State, exit_status
from fleet.health.rules import assess
from fleet.health.slots import slot_key
from tests.redfish.conftest import TREES, Served
from tests.redfish.helpers import bad, by_slot, poll

pytestmark = pytest.mark.redfish

# What each tree may report as warning or critical, and the NON-OK.txt line (resource path) that says so. Everything
# else NON-OK.txt lists is a NIC (not read), a firmware entry, an HPE OEM rollup, a PowerControl, or a Sensors /
# SimpleStorage duplicate of a resource read through its other form.
ALLOWED: dict[str, dict[tuple[str, str], tuple[State, str]]] = {
    "dmtf-public-rackmount1": {("psu", "PSU1"): (State.WARNING, "/redfish/v1/Chassis/1U/Power/PowerSupplies[0]")},
    "dmtf-public-localstorage": {("psu", "PSU1"): (State.WARNING, "/redfish/v1/Chassis/1U/Power/PowerSupplies[0]")},
    "dmtf-public-tower": {("psu", "PSU1"): (State.WARNING, "/redfish/v1/Chassis/Tower/Power/PowerSupplies[0]")},
    "csm-DL325": {},
    "csm-XL675d_A100": {
        ("disk", "Disk 1"): (State.CRITICAL, "/redfish/v1/Systems/1/Storage/DE07A000/Drives/3"),
        ("board", "ProLiant XL675d Gen10 Plus health"): (State.WARNING, "/redfish/v1/Systems/1  'Computer System'"),
    },
    "csm-Gigabyte": {},
    "csm-Intel": {},
}
# Parts each tree holds (from the trees' own Memory, Processors, Power and Thermal resources).
COUNTS = {
    "csm-DL325": {"psu": 2, "fan": 8, "dimm": 16, "cpu": 1},
    "csm-XL675d_A100": {"psu": 6, "fan": 15, "dimm": 32, "cpu": 2, "disk": 2},
    "csm-Gigabyte": {"psu": 0, "dimm": 16, "cpu": 2, "disk": 1},  # two PSU entries with nothing but "nil"
    "csm-Intel": {"psu": 2, "fan": 6, "dimm": 6, "cpu": 2},
    "dmtf-public-rackmount1": {"psu": 1, "fan": 2, "dimm": 4, "cpu": 2},
    "dmtf-public-localstorage": {"psu": 1, "fan": 2, "dimm": 4, "cpu": 2, "disk": 4},
    "dmtf-public-tower": {"psu": 2, "fan": 2, "dimm": 16, "cpu": 8, "disk": 18},
}


@pytest.fixture(scope="module")
def results(corpus_servers: dict[str, Served]) -> dict[str, PollResult]:
    return {name: poll(s.port) for name, s in corpus_servers.items()}


def test_the_allowed_alarms_are_what_non_ok_txt_lists(corpus_dir: Path) -> None:
    text = (corpus_dir / "NON-OK.txt").read_text(encoding="utf-8")
    sections = {s.split("\n", 1)[0].strip(): s for s in text.split("## ")[1:]}
    for tree, allowed in ALLOWED.items():
        for state, line in allowed.values():
            assert line in sections[tree], (tree, line)
            assert f": {state.value.capitalize()}" in sections[tree].split(line, 1)[1].split("\n", 1)[0]


@pytest.mark.parametrize("tree", TREES)
def test_tree_is_read_with_no_alarm_beyond_non_ok(results: dict[str, PollResult], tree: str) -> None:
    result = results[tree]
    assert result.reachable and result.error is None, result.error
    assert result.power == "on"
    got = bad(result)
    allowed = {k: v[0] for k, v in ALLOWED[tree].items()}
    assert got == allowed, f"alarms not in NON-OK.txt: { {k: v for k, v in got.items() if k not in allowed} }"
    counts = {kind: sum(1 for r in result.readings if r.kind.value == kind) for kind in COUNTS[tree]}
    assert counts == COUNTS[tree]
    worst = max((s for s in allowed.values()), key=lambda s: s is State.CRITICAL, default=State.OK)
    assert exit_status(result) == {State.OK: 0, State.WARNING: 1, State.CRITICAL: 2}[worst]


@pytest.mark.parametrize("tree", TREES)
def test_rules_find_faults_only_where_non_ok_says(results: dict[str, PollResult], tree: str) -> None:
    result = results[tree]
    psus = COUNTS[tree]["psu"] or 2
    # The server as the inventory knows it: the bays that hold a PSU, the DIMMs that are populated.
    installed = [Installed(r.slot, r.kind) for r in result.readings if r.slot and r.state is not State.ABSENT]
    findings = assess(result, Layout(psu_count=psus, fan_count=COUNTS[tree].get("fan", 0)), installed, now=_NOW)
    allowed_slots = {slot_key(slot) for (_kind, slot) in ALLOWED[tree]}
    assert {f.slot for f in findings} <= allowed_slots, findings


_NOW = datetime(2026, 11, 29, tzinfo=UTC)


def test_empty_bays_and_sockets_are_absent_not_failed(results: dict[str, PollResult]) -> None:
    xl = by_slot(results["csm-XL675d_A100"], "psu")
    # HPE reports the two empty bays with Health Warning: an empty bay, not a failed PSU.
    not_ok = {s: r.state for s, r in xl.items() if r.state is not State.OK}
    assert not_ok == {"PSU5": State.ABSENT, "PSU6": State.ABSENT}
    dl = by_slot(results["csm-DL325"], "fan")
    assert {s for s, r in dl.items() if r.state is State.ABSENT} == {"FAN2", "FAN7"}
    assert by_slot(results["dmtf-public-localstorage"], "cpu")["CPU2"].state is State.ABSENT


def test_slots_are_named_as_the_inventory_names_them(results: dict[str, PollResult]) -> None:
    assert "DIMM_B16" in by_slot(results["csm-XL675d_A100"], "dimm")  # PROC 2 DIMM 16
    assert set(by_slot(results["csm-Gigabyte"], "dimm")) == {f"DIMM_{c}0" for c in "ABCDEFGHIJKLMNOP"}  # DIMM_P1_P0
    intel = by_slot(results["csm-Intel"], "dimm")
    assert {"P1 DIMM A1", "P2 DIMM A1"} <= set(intel)  # CPU1_DIMM_A1 and CPU2_DIMM_A1 stay two slots
    assert len({slot_key(s) for s in intel}) == len(intel)
    assert "Disk 3:4" in by_slot(results["csm-XL675d_A100"], "disk")  # Slot=25:Port=1I:Box=3:Bay=4
    assert set(by_slot(results["csm-Intel"], "fan")) == {"FAN1", "FAN2", "FAN3"}  # rotors 1A and 1B: one fan


def test_inventory_has_part_numbers_and_serials(results: dict[str, PollResult]) -> None:
    dl = {i.slot: i for i in results["csm-DL325"].inventory}
    assert dl["PSU1"].serial == "5WBXK0FLLDIKPU" and dl["PSU1"].part_number == "865408-B21"
    assert dl["DIMM_A1"].serial == "438AD388" and dl["DIMM_A1"].part_number == "HMA82GR7CJR4N-XN"
    gb = {i.slot: i for i in results["csm-Gigabyte"].inventory}
    assert gb["Disk 1"].serial == "S455NY0M831393"  # trailing blanks of the capture trimmed
    assert {i.kind for i in results["dmtf-public-localstorage"].inventory} >= {Kind.PSU, Kind.DISK, Kind.RAID}
    assert not [i for i in results["csm-XL675d_A100"].inventory if i.slot in ("PSU5", "PSU6")]


def test_hpe_iml_is_read_under_the_system(results: dict[str, PollResult]) -> None:
    dl = results["csm-DL325"]
    # IML has 143 entries (the README); the iLO event log (logins) is not a hardware log and is not read.
    assert len(dl.events) == 143
    assert not [e for e in dl.events if "login" in e.text.lower()]
    xl = results["csm-XL675d_A100"].events
    failure = next(e for e in xl if "Drive Failure" in e.text)
    assert failure.kind is Kind.DISK and failure.slot == "Disk 3:1" and "\n" not in failure.text
