"""Faults injected through the simulator's console come out with the right kind, slot and state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from fleet.collectors.ipmi import poll_ipmi
from fleet.health.model import EXIT_CRITICAL, Kind, State, exit_status
from tests.ipmi.conftest import Bmc
from tests.ipmi.helpers import assert_matches_ipmitool

pytestmark = pytest.mark.ipmi

A = "0x20"


@dataclass(frozen=True)
class Fault:
    what: str
    sensor: str
    command: str  # emu command with {n} for the sensor number
    kind: Kind
    slot: str
    state: State
    detail: str


# Offsets and raw values are the IPMI meaning the simulator is told; the expectations follow from them.
FAULTS_1U = [
    Fault(
        "PSU failure", "PSU2 Status", f"sensor_set_bit {A} 0 {{n}} 1 1 1", Kind.PSU, "PSU2", State.CRITICAL, "failure"
    ),
    Fault("AC lost", "PSU1 Status", f"sensor_set_bit {A} 0 {{n}} 3 1 1", Kind.PSU, "PSU1", State.CRITICAL, "AC lost"),
    # 8 x 100 RPM is under the lower critical threshold (10 x 100)
    Fault(
        "fan slow", "FAN2", f"sensor_set_value {A} 0 {{n}} 0x08 1", Kind.FAN, "FAN2", State.CRITICAL, "lower critical"
    ),
    Fault("drive fault", "Drive 0", f"sensor_set_bit {A} 0 {{n}} 1 1 1", Kind.DISK, "Drive 0", State.CRITICAL, "fault"),
    Fault(
        "drive removed",
        "Drive 1",
        f"sensor_set_bit {A} 0 {{n}} 0 0 1",
        Kind.DISK,
        "Drive 1",
        State.ABSENT,
        "not present",
    ),
    Fault(
        "uncorrectable ECC",
        "DIMM A1",
        f"sensor_set_bit {A} 0 {{n}} 1 1 1",
        Kind.DIMM,
        "DIMM A1",
        State.CRITICAL,
        "uncorrectable",
    ),
    # 91 C is over the upper critical threshold (90 C)
    Fault(
        "over-temperature",
        "CPU1 Temp",
        f"sensor_set_value {A} 0 {{n}} 91 1",
        Kind.TEMPERATURE,
        "CPU1",
        State.CRITICAL,
        "upper critical",
    ),
]
FAULTS_2U = [
    Fault(
        "predictive PSU",
        "PSU1 Status",
        f"sensor_set_bit {A} 0 {{n}} 2 1 1",
        Kind.PSU,
        "PSU1",
        State.WARNING,
        "predictive",
    ),
    Fault("rebuild", "Drive 3", f"sensor_set_bit {A} 0 {{n}} 7 1 1", Kind.DISK, "Drive 3", State.WARNING, "rebuild"),
    Fault(
        "drive removed",
        "Drive 5",
        f"sensor_set_bit {A} 0 {{n}} 0 0 1",
        Kind.DISK,
        "Drive 5",
        State.ABSENT,
        "not present",
    ),
    Fault(
        "correctable ECC",
        "DIMM B2",
        f"sensor_set_bit {A} 0 {{n}} 0 1 1",
        Kind.DIMM,
        "DIMM B2",
        State.WARNING,
        "correctable",
    ),
    Fault(
        "DIMM gone", "DIMM A2", f"sensor_set_bit {A} 0 {{n}} 6 0 1", Kind.DIMM, "DIMM A2", State.ABSENT, "not present"
    ),
    # 14 x 100 RPM is under the lower non-critical threshold (15 x 100), above lower critical (10 x 100)
    Fault(
        "fan low", "FAN4", f"sensor_set_value {A} 0 {{n}} 14 1", Kind.FAN, "FAN4", State.WARNING, "lower non-critical"
    ),
    Fault(
        "exhaust hot",
        "Exhaust Temp",
        f"sensor_set_value {A} 0 {{n}} 65 1",
        Kind.TEMPERATURE,
        "",
        State.WARNING,
        "upper non-critical",
    ),
    Fault("12V high", "12V", f"sensor_set_value {A} 0 {{n}} 225 1", Kind.VOLTAGE, "", State.CRITICAL, "upper critical"),
    Fault(
        "battery low",
        "CMOS Battery",
        f"sensor_set_bit {A} 0 {{n}} 0 1 1",
        Kind.BATTERY,
        "Battery",
        State.WARNING,
        "low",
    ),
]


@pytest.fixture(scope="module", params=[("1u", FAULTS_1U), ("2u", FAULTS_2U)], ids=["1u", "2u"])
def faulty(request: pytest.FixtureRequest, start_bmc: Callable[[str, int], Bmc]) -> tuple[Bmc, list[Fault]]:
    layout, faults = request.param
    bmc = start_bmc(layout, 20)
    bmc.console(*(f.command.format(n=bmc.number(f.sensor)) for f in faults))
    return bmc, faults


def test_each_fault_has_kind_slot_and_state(faulty: tuple[Bmc, list[Fault]]) -> None:
    bmc, faults = faulty
    result = poll_ipmi(bmc.target(), timeout=10)
    assert result.error is None
    by_name = {r.name: r for r in result.readings}
    for f in faults:
        r = by_name[f.sensor]
        assert (r.kind, r.slot, r.state) == (f.kind, f.slot, f.state), f.what
        assert r.detail is not None and f.detail.lower() in r.detail.lower(), (f.what, r.detail)
    untouched = {r.state for r in result.readings if r.name not in {f.sensor for f in faults}}
    assert untouched == {State.OK}


def test_faulty_sensors_still_match_ipmitool(faulty: tuple[Bmc, list[Fault]]) -> None:
    bmc, _ = faulty
    assert_matches_ipmitool(poll_ipmi(bmc.target(), timeout=10), bmc.ipmitool("sdr", "elist"))


def test_worst_state_decides_exit_status(faulty: tuple[Bmc, list[Fault]]) -> None:
    bmc, faults = faulty
    result = poll_ipmi(bmc.target(), timeout=10)
    expected = EXIT_CRITICAL if any(f.state is State.CRITICAL for f in faults) else 1
    assert exit_status(result) == expected


def test_repaired_part_is_ok_again(start_bmc: Callable[[str, int], Bmc]) -> None:
    bmc = start_bmc("1u", 21)
    n = bmc.number("PSU2 Status")
    bmc.console(f"sensor_set_bit {A} 0 {n} 1 1 1")
    assert {r.name: r for r in poll_ipmi(bmc.target(), timeout=10).readings}["PSU2 Status"].state is State.CRITICAL
    bmc.console(f"sensor_set_bit {A} 0 {n} 1 0 1")
    assert {r.name: r for r in poll_ipmi(bmc.target(), timeout=10).readings}["PSU2 Status"].state is State.OK
