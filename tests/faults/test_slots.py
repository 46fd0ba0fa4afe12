"""Slot names as controllers and people write them map to one key, so one part is one fault."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fleet.health.slots import same_slot, slot_key, slot_kind

SPELLINGS = [
    ("PSU2", ["PSU2", "PSU 2", "Power Supply 2", "power supply 2", "PS2 Status", "psu-02", "PSU_2"]),
    ("FAN3", ["FAN3", "Fan 3", "System Fan 3", "FAN 03", "fan_3"]),
    ("FAN1", ["FAN1A", "Fan 1B", "fan1a", "FAN1"]),  # the rotors of a fan module are that module
    ("Disk 0:1:4", ["Disk 0:1:4", "Physical Disk 0:1:4", "disk 0:1:04"]),
    ("Disk 3", ["Disk 3", "Drive 3", "HDD3", "Disk.Bay.3", "PD 3"]),
    ("DIMM_A1", ["DIMM_A1", "DIMM A1", "DIMM.Socket.A1", "dimm_a01"]),
    ("CPU2", ["CPU2", "CPU 2", "Proc 2", "Processor 2"]),
    ("VD0", ["VD0", "Virtual Disk 0", "Logical Drive 0"]),
    ("BAT", ["BAT", "Battery", "RAID battery", "BBU"]),
]


@pytest.mark.parametrize(("key", "names"), SPELLINGS, ids=[k for k, _ in SPELLINGS])
def test_spellings_of_one_slot_share_a_key(key, names):
    assert {slot_key(n) for n in names} == {key}


def test_different_slots_stay_different():
    keys = [slot_key(s) for s in ["PSU1", "PSU2", "PSU12", "FAN1", "FAN2", "Disk 0:1:4", "Disk 0:1:5", "DIMM_A1",
                                  "DIMM_B1", "CPU1"]]  # fmt: skip
    assert len(set(keys)) == len(keys)
    assert not same_slot("Power Supply 1", "PSU 2")


def test_the_kind_a_slot_name_implies():
    assert slot_kind("Power Supply 2") == "psu"
    assert slot_kind("DIMM A1") == "dimm"
    assert slot_kind("Inlet Temp") is None


def test_health_imports_nothing_of_the_project_but_itself():
    """fleet/health stays pure: no database, no settings, no CLI (DESIGN.md, rules of the house)."""
    root = Path(__file__).resolve().parents[2] / "fleet" / "health"
    offenders = []
    for path in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if n.startswith("fleet") and not n.startswith("fleet.health")
            ]
    assert offenders == []
