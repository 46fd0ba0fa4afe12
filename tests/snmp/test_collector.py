"""The collector against the project's own small recordings: states, empty slots, bad values, v3, deadlines, CLI.

These need snmpsim but not the shared LibreNMS recordings, so the SNMP suite stays meaningful without them.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet.collectors.snmp import poll_snmp, poll_snmp_many, poll_snmp_sync
from fleet.collectors.targets import SnmpTarget
from fleet.health.model import Kind, PollResult, State, exit_status
from fleet.sweep.secrets import Secret
from tests.conftest import REPO
from tests.snmp.conftest import V3_USER, Sim
from tests.snmp.helpers import v2c

pytestmark = pytest.mark.snmp


def poll(sim: Sim, community: str) -> PollResult:
    return poll_snmp_sync(v2c(sim.port, community), timeout=10)


def reading(result: PollResult, slot: str, kind: Kind) -> list[State]:
    return [r.state for r in result.readings if r.slot == slot and r.kind is kind]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback UDP port that receives and never answers: a dead agent."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def fleet_poll(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "fleet", "poll", "127.0.0.1", "--protocol", "snmp", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started


def test_dell_failed_psu_and_disk(snmpsim: Sim) -> None:
    result = poll(snmpsim, "fleet-dell-small")
    assert result.vendor == "dell-idrac" and result.error is None
    assert reading(result, "PSU1", Kind.PSU) == [State.OK]
    assert reading(result, "PSU2", Kind.PSU) == [State.CRITICAL]
    # state failed(7) and the SMART alert: critical and warning readings for the same disk
    assert sorted(reading(result, "Disk 0:1:1", Kind.DISK)) == sorted([State.CRITICAL, State.WARNING])
    assert reading(result, "Disk 0:1:0", Kind.DISK) == [State.OK, State.OK]
    temp = next(r for r in result.readings if r.kind is Kind.TEMPERATURE)
    assert (temp.value, temp.unit) == (21.5, "C")  # 215 tenths of a degree
    assert exit_status(result) == 2


def test_wrong_value_type_gives_unknown_with_a_note(snmpsim: Sim) -> None:
    result = poll(snmpsim, "fleet-dell-small")
    dimm = next(r for r in result.readings if r.slot == "DIMM_B1")
    assert dimm.state is State.UNKNOWN
    assert "expected INTEGER" in (dimm.detail or "") and "'abc'" in (dimm.detail or "")
    assert reading(result, "DIMM_A1", Kind.DIMM) == [State.OK]


def test_hpe_empty_slots_are_absent(snmpsim: Sim) -> None:
    result = poll(snmpsim, "fleet-hpe-small")
    assert result.vendor == "hpe"
    assert reading(result, "FAN2", Kind.FAN) == [State.ABSENT]
    assert reading(result, "CPU1_DIMM2", Kind.DIMM) == [State.ABSENT]
    assert reading(result, "CPU1_DIMM1", Kind.DIMM) == [State.OK]
    assert exit_status(result) == 0


def test_linux_host_disk_down_and_sensors(snmpsim: Sim) -> None:
    result = poll(snmpsim, "fleet-linux-small")
    assert result.vendor == "linux"
    assert reading(result, "sda", Kind.DISK) == [State.CRITICAL]
    assert not any("eth9" in r.name for r in result.readings)  # a network interface is not a spare part
    temp = next(r for r in result.readings if r.kind is Kind.TEMPERATURE)
    assert (temp.value, temp.unit) == (47.0, "C")  # lm-sensors reports milli-degrees


def test_v3_auth_priv_sha256_aes(snmpsim: Sim) -> None:
    target = SnmpTarget(
        "127.0.0.1",
        snmpsim.port,
        v3_user=V3_USER,
        v3_auth_key=Secret(snmpsim.v3_auth_key),
        v3_priv_key=Secret(snmpsim.v3_priv_key),
        v3_auth_protocol="sha256",
        v3_priv_protocol="aes128",
        context="fleet-hpe-small",  # snmpsim selects the recording by v3 context name
    )
    result = poll_snmp_sync(target, timeout=10)
    assert result.error is None and result.vendor == "hpe"
    assert reading(result, "FAN1", Kind.FAN) == [State.OK]


def test_v3_wrong_key_exits_3_with_auth(snmpsim: Sim) -> None:
    env = {"FLEET_TEST_AUTH": "not-the-right-key", "FLEET_TEST_PRIV": snmpsim.v3_priv_key}
    code, out, _ = fleet_poll(
        "--port", str(snmpsim.port), "--v3-user", V3_USER,
        "--v3-auth-env", "FLEET_TEST_AUTH", "--v3-priv-env", "FLEET_TEST_PRIV", "--timeout", "5", env=env,
    )  # fmt: skip
    assert code == 3
    assert "auth" in out
    assert "not-the-right-key" not in out and snmpsim.v3_priv_key not in out


def test_silent_port_exits_3_within_the_deadline(silent_port: int) -> None:
    code, out, elapsed = fleet_poll(
        "--port", str(silent_port), "--community-env", "FLEET_TEST_COMMUNITY", "--timeout", "1.5", "--json",
        env={"FLEET_TEST_COMMUNITY": "public-test"},
    )  # fmt: skip
    assert code == 3
    result = json.loads(out[out.index("{") : out.rindex("}") + 1])
    assert result["error"] == "timeout"
    # The poll's own clock: the deadline plus a little, never pysnmp's retry schedule (1 s x 5 retries). The wall
    # time of the whole command adds interpreter start-up, which a loaded machine stretches: only a loose bound.
    assert result["duration_s"] < 1.5 + 1.0
    assert elapsed < 1.5 + 20


def test_deadline_holds_in_the_api(silent_port: int) -> None:
    started = time.monotonic()
    result = poll_snmp_sync(SnmpTarget("127.0.0.1", silent_port, community=Secret("x")), timeout=1.0)
    assert result.error == "timeout" and not result.reachable
    # pysnmp's own retry schedule would take 1 s x 5 retries: the deadline must cut it. A loaded 2-core machine adds
    # scheduling delay (seen: 2.4 s), so the bound sits between the two rather than at the deadline itself.
    assert time.monotonic() - started < 1.0 + 2.5


def test_many_a_dead_agent_delays_no_other(snmpsim: Sim, silent_port: int) -> None:
    targets = [
        SnmpTarget("127.0.0.1", silent_port, community=Secret("x")),
        v2c(snmpsim.port, "fleet-dell-small"),
        v2c(snmpsim.port, "fleet-hpe-small"),
    ]
    started = time.monotonic()
    dead, dell, hpe = asyncio.run(poll_snmp_many(targets, timeout=4.0, concurrency=3))
    elapsed = time.monotonic() - started
    assert dead.error == "timeout" and dead.duration_s is not None and dead.duration_s < 4.5
    assert (dell.error, hpe.error) == (None, None)
    assert (dell.vendor, hpe.vendor) == ("dell-idrac", "hpe")
    # the live agents finish on their own time, well before the dead one's deadline
    assert max(dell.duration_s or 99, hpe.duration_s or 99) < 3.0
    assert elapsed < 4.0 + 1.0


def test_cli_json_with_community_file(snmpsim: Sim, tmp_path: Path) -> None:
    community = tmp_path / "community"
    community.write_text("fleet-dell-small\n")
    community.chmod(0o600)
    code, out, _ = fleet_poll("--port", str(snmpsim.port), "--community-file", str(community), "--json")
    assert code == 2
    data = json.loads(out)
    assert data["vendor"] == "dell-idrac"
    assert {"slot": "PSU2", "state": "critical"}.items() <= next(
        r for r in data["readings"] if r["slot"] == "PSU2"
    ).items()
    assert "fleet-dell-small" not in out  # the community never appears in output


def test_secrets_do_not_print() -> None:
    target = SnmpTarget("127.0.0.1", 161, community=Secret("s3cret-community"), v3_auth_key=Secret("k3y"))
    assert "s3cret" not in repr(target) and "k3y" not in repr(target)


def test_poll_without_a_running_loop_reuses_nothing_stale(snmpsim: Sim) -> None:
    # Two sync polls: each asyncio.run gets its own engine; the second must not hang on the first's socket.
    assert poll(snmpsim, "fleet-hpe-small").error is None
    assert poll(snmpsim, "fleet-hpe-small").error is None
    assert asyncio.run(poll_snmp(v2c(snmpsim.port, "fleet-hpe-small"), timeout=5)).error is None


def test_toobig_shrinks_repetitions_then_gives_a_clear_error(snmpsim: Sim) -> None:
    # fleet-toobig answers tooBig to any request that reaches DIMM row 12 (snmpsim's error variation): the
    # collector halves its repetitions down to one, then reports the agent, without hanging or a traceback.
    started = time.monotonic()
    result = poll_snmp_sync(v2c(snmpsim.port, "fleet-toobig"), timeout=10)
    assert result.error == "protocol: tooBig with one repetition"
    assert result.readings == [] and exit_status(result) == 3
    assert time.monotonic() - started < 10
