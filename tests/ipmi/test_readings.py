"""Sensors, FRU and power read by the collector agree with ipmitool on the same simulated BMC."""

from __future__ import annotations

import pytest

from fleet.collectors.ipmi import poll_ipmi
from fleet.health.model import Kind, State
from tests.ipmi.conftest import Bmc
from tests.ipmi.helpers import assert_matches_ipmitool, fru_serials

pytestmark = pytest.mark.ipmi


@pytest.fixture(params=["bmc_1u", "bmc_2u"])
def bmc(request: pytest.FixtureRequest) -> Bmc:
    return request.getfixturevalue(request.param)


def test_every_sensor_matches_ipmitool(bmc: Bmc) -> None:
    result = poll_ipmi(bmc.target(), timeout=10)
    assert result.reachable and result.error is None
    compared = assert_matches_ipmitool(result, bmc.ipmitool("sdr", "elist"))
    assert compared == len(bmc.layout.sensors)


def test_healthy_server_is_all_ok_with_slots_and_kinds(bmc: Bmc) -> None:
    result = poll_ipmi(bmc.target(), timeout=10)
    assert {r.state for r in result.readings} == {State.OK}
    by_slot = {r.slot: r.kind for r in result.readings if r.slot}
    # the fixture's layout decides which parts exist: every PSU, fan, drive and DIMM has its own slot
    for spec in bmc.layout.sensors:
        if spec.name.startswith("PSU"):
            assert by_slot[f"PSU{spec.instance}"] is Kind.PSU
        if spec.name.startswith("FAN"):
            assert by_slot[spec.name] is Kind.FAN
        if spec.name.startswith(("Drive", "DIMM")):
            assert by_slot[spec.name] is (Kind.DISK if spec.name.startswith("Drive") else Kind.DIMM)


def test_fru_serials_match_ipmitool(bmc: Bmc) -> None:
    result = poll_ipmi(bmc.target(), timeout=10)
    theirs = fru_serials(bmc.ipmitool("fru", "print"))
    ours = {i.slot: i.serial for i in result.inventory}
    assert len(theirs) == 1 + len(bmc.layout.frus)
    for slot, serial in theirs.items():
        assert ours[slot] == serial
    # the simulator refuses FRU reads over 34 bytes (completion code 0xC8): the reader backed off below that
    assert result.cursor is not None and result.cursor["fru_chunk"] <= 34


def test_power_state_follows_the_chassis(start_bmc) -> None:  # type: ignore[no-untyped-def]
    bmc = start_bmc("1u", 7)
    assert poll_ipmi(bmc.target(), timeout=10).power == "on"
    bmc.ipmitool("chassis", "power", "off")
    assert "off" in bmc.ipmitool("chassis", "power", "status")
    assert poll_ipmi(bmc.target(), timeout=10).power == "off"


def test_cipher_suite_3_only_and_17_only(bmc_1u: Bmc) -> None:
    assert poll_ipmi(bmc_1u.target(cipher_suites=(3,)), timeout=10).error is None
    # the simulator refuses suite 17; a target that allows only 17 must not silently use 3
    refused = poll_ipmi(bmc_1u.target(cipher_suites=(17,)), timeout=10)
    assert not refused.reachable and refused.error is not None and refused.error.startswith("protocol:")
    assert "17" in refused.error
