"""Pure mapping rules: what a name/entity/state bit means to a user. No simulator needed."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pyghmi.ipmi.sdr import SDREntry

from fleet.collectors.ipmi.sensors import discrete_state, kind_of, slot_of
from fleet.collectors.ipmi.session import classify
from fleet.health.model import Kind, State
from fleet.sim import ipmi_sim


@pytest.mark.parametrize(
    ("name", "sensor_type", "entity", "instance", "kind", "slot"),
    [
        ("PSU2 Status", 0x08, 10, 2, Kind.PSU, "PSU2"),
        ("PS1 Status", 0x08, 10, 1, Kind.PSU, "PSU1"),
        ("Power Supply", 0x08, 10, 3, Kind.PSU, "PSU3"),  # no number in the name: the entity instance
        ("FAN3", 0x04, 29, 3, Kind.FAN, "FAN3"),
        ("Fan_2A", 0x04, 29, 9, Kind.FAN, "FAN2A"),
        ("Drive 0", 0x0D, 4, 1, Kind.DISK, "Drive 0"),
        ("HDD 12", 0x0D, 4, 13, Kind.DISK, "Drive 12"),
        ("DIMM_A1", 0x0C, 32, 1, Kind.DIMM, "DIMM A1"),
        ("CPU2 Temp", 0x01, 3, 2, Kind.TEMPERATURE, "CPU2"),
        ("Inlet Temp", 0x01, 55, 1, Kind.TEMPERATURE, ""),
        ("Pwr Consumption", 0x0B, 7, 1, Kind.OTHER, ""),
        ("PSU1 Power", 0x0B, 10, 1, Kind.PSU, "PSU1"),  # "other units" sensor on a PSU entity
        ("CMOS Battery", 0x29, 41, 1, Kind.BATTERY, "Battery"),
    ],
)
def test_kind_and_slot(name: str, sensor_type: int, entity: int, instance: int, kind: Kind, slot: str) -> None:
    assert kind_of(sensor_type, entity) is kind
    assert slot_of(name, kind, entity, instance) == slot


def test_presence_bit_cleared_is_absent_even_with_nothing_else_asserted() -> None:
    supported = 0b1000_0111  # drive: present, fault, predictive, rebuild
    assert discrete_state(0x0D, 0x6F, 0b1, supported, 0) == (State.OK, None)
    assert discrete_state(0x0D, 0x6F, 0, supported, 0)[0] is State.ABSENT
    assert discrete_state(0x0D, 0x6F, 0b11, supported, 0)[0] is State.CRITICAL
    assert discrete_state(0x0D, 0x6F, 0b1000_0001, supported, 0)[0] is State.WARNING
    # a memory sensor that does not report presence (offset 6 unsupported) is never called absent
    assert discrete_state(0x0C, 0x6F, 0, 0b10_0011, 0) == (State.OK, None)
    assert discrete_state(0x0C, 0x6F, 0b10, 0b10_0011, 0)[0] is State.CRITICAL


def test_psu_states() -> None:
    supported = 0b1111
    assert discrete_state(0x08, 0x6F, 0b1001, supported, 0) == (State.CRITICAL, "AC lost")
    assert discrete_state(0x08, 0x6F, 0b0101, supported, 0) == (State.WARNING, "predictive failure")


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("Incorrect password provided", "auth"),
        ("Unauthorized name in RAKP2", "auth"),
        ("None", "timeout"),
        ("Session no longer connected", "timeout"),
        ("Unrecognized RMCP code 18", "protocol: Unrecognized RMCP code 18"),
    ],
)
def test_error_classification(message: str, error: str) -> None:
    assert classify(Exception(message)) == error


@pytest.mark.parametrize("layout", sorted(ipmi_sim.LAYOUTS))
def test_generated_sdrs_decode_with_pyghmi(layout: str) -> None:
    """The simulator's SDR records are well-formed: an independent decoder reads back names and numbers."""
    spec = ipmi_sim.LAYOUTS[layout]

    consts = SimpleNamespace(entity_ids={}, sensor_type_codes={})
    entries = [SDREntry(bytearray(r), consts) for r in ipmi_sim.sdr_records(spec)]
    sensors = {e.sensor_number: e.sensor_name for e in entries if e.rectype == 1}
    assert sensors == {s.number: s.name for s in spec.sensors}
    frus = {e.fru_number: e.fru_name for e in entries if e.rectype == 0x11}
    assert frus == {f.fru_id: f.name for f in spec.frus}


def test_fru_images_have_valid_checksums() -> None:
    for layout in ipmi_sim.LAYOUTS.values():
        for image in ipmi_sim.fru_images(layout, 3).values():
            assert sum(image[:8]) % 256 == 0  # common header
            for offset in image[3:5]:
                if offset:
                    start, length = offset * 8, image[offset * 8 + 1] * 8
                    assert sum(image[start : start + length]) % 256 == 0
