"""`fleet poll` as a real Icinga 2 check: a private icinga2 on loopback runs the CheckCommand of docs/MONITORING.md
against ipmi_sim BMCs and snmpsim recordings; state, short output and Icinga's own parse of the performance data
are read back through its REST API."""

from __future__ import annotations

import re
import secrets
import socket
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import REPO, free_port
from tests.ipmi.conftest import PASSWORD, Bmc
from tests.plugin.icinga import Icinga, base_config, icinga2_binary, write_certs
from tests.plugin.test_ipmi_plugin import ipmitool_thresholds
from tests.snmp.conftest import Sim

pytestmark = [
    pytest.mark.ipmi,
    pytest.mark.snmp,
    pytest.mark.skipif(icinga2_binary() is None, reason="icinga2 not installed (Debian package icinga2)"),
]
HOST = "fleet-lab"
DEADLINE_S = 240  # first checks are spread over the interval; a loaded 2-core machine needs room


def documented_check_command() -> str:
    """The CheckCommand exactly as docs/MONITORING.md gives it, run from this checkout instead of /usr/local/bin."""
    doc = (REPO / "docs" / "MONITORING.md").read_text()
    block = re.search(r'```icinga2\n(object CheckCommand "fleet-poll" \{.*?\n\})\n```', doc, re.S)
    assert block, "docs/MONITORING.md lost its CheckCommand"
    here = f'[ "{sys.executable}", "-m", "fleet", "poll" ]'
    text = block.group(1).replace('[ "/usr/local/bin/fleet", "poll" ]', here)
    assert here in text
    return text


def service(name: str, **variables: Any) -> str:
    lines = [f"  vars.{k} = {v if isinstance(v, int) else chr(34) + str(v) + chr(34)}" for k, v in variables.items()]
    body = "\n".join(lines)
    return (
        f'object Service "{name}" {{\n  host_name = "{HOST}"\n  check_command = "fleet-poll"\n'
        f"  check_interval = 10s\n  retry_interval = 10s\n{body}\n}}\n"
    )


@pytest.fixture(scope="module")
def icinga_run(
    tmp_path_factory: pytest.TempPathFactory,
    bmc_1u: Bmc,
    start_bmc: Callable[[str, int], Bmc],
    snmpsim: Sim,
) -> Iterator[tuple[Icinga, dict[str, dict[str, Any]], Bmc]]:
    failed = start_bmc("2u", 70)
    failed.console(f"sensor_set_bit 0x20 0 {failed.number('PSU2 Status')} 1 1 1")
    root = tmp_path_factory.mktemp("icinga")
    with socket.socket() as s:  # a free TCP port for the API
        s.bind(("127.0.0.1", 0))
        api_port = s.getsockname()[1]
    icinga = Icinga(root, api_port, secrets.token_hex(16), write_certs(root / "lib" / "certs"))
    services = {
        "ipmi-healthy": dict(fleet_port=bmc_1u.port, fleet_user="admin", fleet_password=PASSWORD),
        "ipmi-psu2-failed": dict(fleet_port=failed.port, fleet_user="admin", fleet_password=PASSWORD),
        "ipmi-dead": dict(fleet_port=free_port(), fleet_password="whatever", fleet_timeout=3),
        "snmp-dell": dict(fleet_protocol="snmp", fleet_port=snmpsim.port, fleet_community="fleet-dell-small"),
        "snmp-wrongtype": dict(fleet_protocol="snmp", fleet_port=snmpsim.port, fleet_community="fleet-wrongtype"),
    }
    config = base_config(api_port, icinga.api_password) + documented_check_command() + "\n"
    config += f'object Host "{HOST}" {{\n  check_command = "dummy"\n  address = "127.0.0.1"\n}}\n'
    config += "".join(service(name, **v) for name, v in services.items())
    state = root / "state"
    env = {"PYTHONPATH": str(REPO), "FLEET_IPMI_BIND": "127.0.0.1", "XDG_STATE_HOME": str(state), "HOME": str(root)}
    try:
        icinga.start(config, env)
        icinga.check_now(HOST)
        deadline = time.monotonic() + DEADLINE_S
        results = icinga.check_results(HOST)
        while set(results) != set(services):
            if time.monotonic() > deadline:
                pytest.fail(
                    f"Icinga ran {sorted(results)} of {sorted(services)} in {DEADLINE_S} s: {icinga.log_tail()}"
                )
            time.sleep(0.5)
            results = icinga.check_results(HOST)
        yield icinga, results, bmc_1u
    finally:
        icinga.stop()


def perf_by_label(icinga: Icinga, name: str) -> dict[str, dict[str, Any]]:
    return {p["label"]: p for p in icinga.parsed_perfdata(HOST, name)}


def test_states_come_from_the_exit_status(icinga_run: tuple[Icinga, dict[str, dict[str, Any]], Bmc]) -> None:
    _icinga, results, _bmc = icinga_run
    states = {name: int(r["state"]) for name, r in results.items()}
    assert states == {
        "ipmi-healthy": 0,
        "ipmi-psu2-failed": 2,
        "ipmi-dead": 3,
        "snmp-dell": 2,
        "snmp-wrongtype": 3,
    }, {n: r["output"][:200] for n, r in results.items()}


def test_short_output_is_the_first_line_without_perfdata(
    icinga_run: tuple[Icinga, dict[str, dict[str, Any]], Bmc],
) -> None:
    _icinga, results, bmc = icinga_run
    # Icinga keeps the space before " | " at the end of the short output: invisible, not compared
    first = {name: r["output"].splitlines()[0].rstrip() for name, r in results.items()}
    assert first["ipmi-healthy"] == f"OK: 127.0.0.1 (ipmi, power on): all {len(bmc.layout.sensors)} readings healthy"
    assert first["ipmi-psu2-failed"].startswith("CRITICAL: 127.0.0.1 (ipmi, power on): 1 critical, 0 warning: PSU2")
    assert first["ipmi-dead"] == "UNKNOWN: 127.0.0.1 (ipmi): timeout"
    assert first["snmp-wrongtype"].startswith("UNKNOWN: 127.0.0.1 (snmp, ")
    assert "readings unusable" in first["snmp-wrongtype"]
    assert all("|" not in r["output"] for r in results.values())
    # the parts land in the long output, one line each
    long = results["ipmi-psu2-failed"]["output"].splitlines()[1:]
    assert "CRITICAL: PSU2 Status [PSU2] (psu): failure detected" in long


def test_icinga_parses_the_perfdata_with_units_and_thresholds(
    icinga_run: tuple[Icinga, dict[str, dict[str, Any]], Bmc],
) -> None:
    icinga, results, bmc = icinga_run
    healthy = perf_by_label(icinga, "ipmi-healthy")
    assert healthy["critical parts"]["value"] == 0 and healthy["warning parts"]["value"] == 0
    temps = [s.name for s in bmc.layout.sensors if s.name.endswith("Temp")]
    assert temps
    for name in temps:
        reading, limits = ipmitool_thresholds(bmc, name)
        p = healthy[name]
        assert p["unit"] == "degrees-celsius" and abs(p["value"] - reading) < 0.01
        assert (p["warn"], p["crit"]) == (float(limits["1"]), float(limits["2"]))  # upper limits: kept by Icinga
    fans = [s.name for s in bmc.layout.sensors if s.name.startswith("FAN")]
    for name in fans:
        reading, _limits = ipmitool_thresholds(bmc, name)
        # RPM has no unit; lower limits are ranges, which Icinga 2.13 drops (docs/MONITORING.md)
        assert healthy[name]["unit"] == "" and healthy[name]["value"] == reading and healthy[name]["warn"] is None
    assert perf_by_label(icinga, "ipmi-psu2-failed")["critical parts"]["value"] == 1
    dell = perf_by_label(icinga, "snmp-dell")
    assert dell["System Board Inlet Temp"]["value"] == 21.5 and dell["System Board Inlet Temp"]["unit"] == (
        "degrees-celsius"
    )
    assert results["ipmi-dead"]["performance_data"] in ([], None)
