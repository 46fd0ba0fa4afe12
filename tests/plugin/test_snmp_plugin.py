"""`fleet poll --protocol snmp` against snmpsim recordings: a broken agent is never green; a hostile one is quiet."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.plugin.conftest import run_poll, snmp_args
from tests.plugin.perf import split_output
from tests.snmp.conftest import Sim

pytestmark = pytest.mark.snmp


def poll(sim: Sim, community: str, state: Path, *extra: str) -> tuple[int, str, str]:
    out = run_poll(*snmp_args(sim.port, *extra), state=state, env={"SNMP_COMMUNITY": community})
    return out.returncode, out.stdout, out.stderr


def test_failed_parts_are_critical_with_perfdata(snmpsim: Sim, state_home: Path) -> None:
    code, out, err = poll(snmpsim, "fleet-dell-small", state_home)
    assert code == 2, out + err
    text, perf, _long = split_output(out)
    assert text.startswith("CRITICAL: 127.0.0.1 (snmp, power ")
    assert "PSU2 critical" in text
    assert perf["System Board Inlet Temp"][0] == "21.5C"  # 215 tenths of a degree in the recording
    assert int(perf["critical parts"][0]) >= 1


def test_mib_thresholds_become_perfdata_and_data_is_text(snmpsim: Sim, state_home: Path) -> None:
    code, out, err = poll(snmpsim, "fleet-partial", state_home)
    text, perf, long = split_output(out)
    # IDRAC-MIB: .10 upper critical, .11 upper non-critical, .12 lower non-critical, .13 lower critical (tenths)
    assert perf["System Board Inlet Temp"][:3] == ["21.5C", "3:43", "-7:47"]
    assert perf["CPU1 Temp"][:3] == ["55C", "93", "98"]
    assert perf["System Board Fan1A"][:3] == ["9120", "1200:", "600:"]
    # PS2 warns (nonCritical); PS3's status is text: one of the readings is unusable, and said so
    assert code == 1, out + err
    assert text.startswith("WARNING: ") and "1 of " in text and "readings unusable (PS3 Status: " in text
    # its name holds `|` and a terminal title escape: neither reaches the output
    assert out.count("|") == 1 and "\x1b" not in out and "\x07" not in out
    assert any("PS2 Status / lost=1" in line for line in long)


def test_wrong_types_and_values_are_unknown_with_the_reason(snmpsim: Sim, state_home: Path) -> None:
    code, out, _err = poll(snmpsim, "fleet-wrongtype", state_home)
    text, perf, _long = split_output(out)
    assert code == 3
    assert text.startswith("UNKNOWN: 127.0.0.1 (snmp, ")
    assert "readings unusable" in text and "expected INTEGER, got OCTET STRING" in text
    assert int(perf["unusable readings"][0]) == int(text.split(" of ")[1].split(" ")[0])  # every one of them


def test_an_agent_with_only_the_system_group_is_unknown(snmpsim: Sim, state_home: Path) -> None:
    code, out, _err = poll(snmpsim, "fleet-sysonly", state_home)
    assert code == 3
    assert out.splitlines()[0].startswith("UNKNOWN: 127.0.0.1 (snmp, ")
    assert "no health reading" in out.splitlines()[0]


def _responder(mode: str) -> Iterator[int]:
    """A UDP 'agent' on loopback that answers every request with garbage, half the request, or a flood."""
    port = free_port()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, addr = sock.recvfrom(65535)
            except TimeoutError:
                continue
            if mode == "garbage":
                sock.sendto(b"\xff\x00 not BER at all", addr)
            elif mode == "truncated":
                sock.sendto(data[: len(data) // 2], addr)
            else:  # a flood of well-formed BER that is no SNMP message
                for _ in range(300):
                    sock.sendto(b"\x30\x03\x02\x01\x01", addr)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(5)
        sock.close()


@pytest.mark.parametrize("mode", ["garbage", "truncated", "flood"])
def test_hostile_answers_are_unknown_without_tracebacks(mode: str, state_home: Path) -> None:
    for port in _responder(mode):
        out = run_poll(*snmp_args(port, "-t", "2"), state=state_home)
        assert out.returncode == 3
        assert out.stdout.startswith("UNKNOWN: 127.0.0.1 (snmp): ") and len(out.stdout.splitlines()) == 1
        assert "Traceback" not in out.stderr and "Exception in callback" not in out.stderr
        assert out.stderr == ""
