"""The 15 real recordings: every state sensor LibreNMS expects, with LibreNMS's state; healthy ones stay quiet."""

from __future__ import annotations

import asyncio
import json

import pytest

from fleet.collectors.snmp import poll_snmp_many
from fleet.health.model import PollResult, State, exit_status
from tests.snmp.conftest import CORPUS, Sim
from tests.snmp.helpers import by_oid, v2c

pytestmark = [pytest.mark.snmp, pytest.mark.corpus]

# recording -> the profile a user should see detected (from PROVENANCE.md's device column)
RECORDINGS = {
    "apc_smt750x-nmc2": "apc-ups",
    "cimc": "cisco-cimc",
    "drac_c6525": "dell-idrac",
    "drac_idrac7": "dell-idrac",
    "drac_r640": "dell-idrac",
    "fujitsuiRMC_rx300": "fujitsu-irmc",
    "hpe-ilo_4": "hpe",
    "hpe-ilo_5_with_bat_checks": "hpe",
    "hpe-ilo_hpe-ilo6-with-vmware": "hpe",
    "ibm-imm_x3550m3": "ibm-imm",
    "linux_lsi": "linux",
    "linux_powermon": "linux",
    "supermicro-bmc_x11": "supermicro",
    "xclarity_lenovoxcc": "lenovo-xcc",
    "xclarity_sr665": "lenovo-xcc",
}
UNHEALTHY = {"ibm-imm_x3550m3"}  # the only recording with a real failure (README)
# LibreNMS's generic state -> what we may report. LibreNMS has no "absent": its 3 covers empty slots too.
GENERIC = {0: {State.OK}, 1: {State.WARNING}, 2: {State.CRITICAL}, 3: {State.UNKNOWN, State.ABSENT}}
# LibreNMS state sensors that are the host's power state: we report those as PollResult.power.
POWER_SENSORS = {"smPowerState", "currentSysPowerStatus"}


@pytest.fixture(scope="module")
def results(corpus_sim: Sim) -> dict[str, PollResult]:
    names = list(RECORDINGS)
    # snmpsim is one single-threaded Python process: two polls at a time keep it responsive.
    polled = asyncio.run(poll_snmp_many([v2c(corpus_sim.port, n) for n in names], timeout=30, concurrency=2))
    return dict(zip(names, polled, strict=True))


def expected_states(name: str) -> list[tuple[str, str, str, int]]:
    """(sensor type, oid, description, generic state) of every LibreNMS state sensor of a recording."""
    data = json.loads((CORPUS / f"{name}.json").read_text(encoding="utf-8"))["sensors"]["discovery"]
    generic = {(s["state_name"], s["state_value"]): s["state_generic_value"] for s in data.get("state_indexes", [])}
    return [
        (s["sensor_type"], s["sensor_oid"], s["sensor_descr"], generic[(s["sensor_type"], int(s["sensor_current"]))])
        for s in data["sensors"]
        if s["sensor_class"] == "state"
    ]


@pytest.mark.parametrize("name", RECORDINGS)
def test_every_librenms_state_sensor_is_reported_with_its_state(results: dict[str, PollResult], name: str) -> None:
    result = results[name]
    assert result.error is None and result.reachable
    assert result.vendor == RECORDINGS[name]
    readings = by_oid(result)
    missing, wrong = [], []
    for sensor_type, sensor_oid, descr, generic in expected_states(name):
        if sensor_type in POWER_SENSORS:
            assert generic == 0 and result.power == "on", (descr, result.power)
            continue
        reading = readings.get(sensor_oid)
        if reading is None:
            missing.append((descr, sensor_oid))
        elif reading.state not in GENERIC[generic]:
            wrong.append((descr, sensor_oid, generic, reading.state.value))
    assert not missing, f"sensors LibreNMS expects that we do not report: {missing[:5]}"
    assert not wrong, f"states that differ from LibreNMS: {wrong[:5]}"


@pytest.mark.parametrize("name", sorted(set(RECORDINGS) - UNHEALTHY))
def test_healthy_recordings_have_no_warning_or_critical(results: dict[str, PollResult], name: str) -> None:
    result = results[name]
    bad = [(r.name, r.state.value, r.detail) for r in result.readings if r.state in (State.WARNING, State.CRITICAL)]
    assert not bad
    assert result.readings, "a healthy recording still has parts to report"
    # a state the agent itself calls unknown ("not available") is never OK: unknown (3), not healthy (0)
    unknown = [r for r in result.readings if r.state is State.UNKNOWN]
    assert exit_status(result) == (3 if unknown else 0)


def test_ibm_imm_system_health_is_critical(results: dict[str, PollResult]) -> None:
    result = results["ibm-imm_x3550m3"]
    health = by_oid(result)[".1.3.6.1.4.1.2.3.51.3.1.4.1.0"]
    assert health.state is State.CRITICAL
    assert exit_status(result) == 2


def test_empty_slots_are_absent_not_failures(results: dict[str, PollResult]) -> None:
    # README: HP DIMMs and fans, CIMC memory and iRMC components report empty slots as other/unknown/not-present.
    for name in ("hpe-ilo_4", "cimc", "fujitsuiRMC_rx300"):
        absent = [r for r in results[name].readings if r.state is State.ABSENT]
        assert absent, name
        assert all(r.slot for r in absent if r.kind.value in ("dimm", "fan")), name


def test_values_use_the_right_divisor(results: dict[str, PollResult]) -> None:
    # EXPECTED-SUMMARY: R640 'CPU1 Temp' 55 C (tenths in the MIB), powermon lm-sensors temp1 8.3 C (milli-degrees)
    cpu1 = next(r for r in results["drac_r640"].readings if r.name == "CPU1 Temp")
    assert (cpu1.value, cpu1.unit) == (55.0, "C")
    temp1 = next(r for r in results["linux_powermon"].readings if r.name == "temp1")
    assert (temp1.value, temp1.unit) == (8.3, "C")
