"""The pure parts: FRU images decoded by pyghmi's parser, layouts from inventory slot names."""

from __future__ import annotations

from pyghmi.ipmi import fru as pyghmi_fru

from fleet.sim.faults import MachineState
from fleet.sim.ipmi_records import fru_data, fru_image, sdr_repository
from fleet.sim.layout import Layout, SimServer


def test_fru_image_follows_the_platform_management_fru_format() -> None:
    image = fru_data(
        manufacturer="Dell Inc.",
        product="PowerEdge R640",
        serial="ABC1234",
        part_number="0PJMDN",
        asset_tag="HS-PAR1-00001",
        chassis=True,
    )
    assert sum(image[:8]) % 256 == 0  # common header checksum
    for offset_byte in image[2:5]:  # chassis, board, product areas
        start = offset_byte * 8
        length = image[start + 1] * 8
        assert sum(image[start : start + length]) % 256 == 0
    info = pyghmi_fru.FRU(rawdata=image).info
    assert info["Serial Number"] == "ABC1234"
    assert info["Manufacturer"] == "Dell Inc."
    assert info["Asset Number"] == "HS-PAR1-00001"


def test_fru_of_a_removed_part_is_gone() -> None:
    server = SimServer("127.0.7.1", 16623, layout=Layout(psu_count=2))
    state = MachineState(server)
    assert fru_image(server, state, 2) is not None  # PSU2
    state.inject("PSU2", "removed")
    assert fru_image(server, state, 2) is None


def test_sdr_records_declare_their_own_length() -> None:
    for record in sdr_repository(SimServer("127.0.7.1", 16623)):
        assert record[2] == 0x51 and len(record) == record[4] + 5


def test_layout_from_inventory_slots() -> None:
    slots = ["PSU1", "PSU2", "FAN1", "FAN2", "DIMM_A1", "DIMM_B1", "DIMM_A2", "Disk 0", "BAT", "NIC1"]
    layout = Layout.from_slots(slots)
    assert (layout.psu_count, layout.fan_count, layout.dimms, layout.disks, layout.cpus) == (2, 2, 3, 1, 2)
    assert layout.raid_battery
    listed = [slot for slot, _ in layout.slots()]
    assert [s for s in listed if s.startswith("DIMM")] == ["DIMM_A1", "DIMM_B1", "DIMM_A2"]  # the inventory's order
    assert "NIC1" not in listed
    assert Layout.from_slots(["DIMM_A1", "DIMM_A2"]).cpus == 1
