"""Starting and stopping simulators: loopback only, clean failure, clean shutdown, many BMCs on one thread."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from fleet.errors import FleetError, InputError
from fleet.sim.faults import Problem
from fleet.sim.layout import Layout, SimServer
from fleet.sim.run import SimFleet, start_simulators
from tests.sim.conftest import Ipmitool, free_udp_port


def can_bind(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "192.168.1.10", "::1", "localhost", "bmc.example"])
def test_only_loopback_addresses_are_accepted(host: str) -> None:
    with pytest.raises(InputError, match=r"127\.0\.0\.0/8"):
        SimServer(host, 16623)


def test_a_taken_port_fails_cleanly_and_releases_the_others() -> None:
    port_a, port_b = free_udp_port("127.0.4.1"), free_udp_port("127.0.4.2")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.4.2", port_b))
        servers = [SimServer("127.0.4.1", port_a), SimServer("127.0.4.2", port_b)]
        threads = threading.active_count()
        with pytest.raises(FleetError, match=rf"127\.0\.4\.2:{port_b}"):
            start_simulators(servers, users={"admin": "pw"})
    assert can_bind("127.0.4.1", port_a)  # the BMC opened before the failure is closed again
    assert threading.active_count() == threads  # and its thread is gone


def test_stop_releases_every_port_and_the_thread() -> None:
    host = "127.0.4.3"
    servers = [SimServer(host, free_udp_port(host)), SimServer(host, free_udp_port(host), protocol="snmp")]
    threads = threading.active_count()
    with start_simulators(servers, users={"admin": "pw"}, community="c") as sim:
        assert threading.active_count() == threads + 1
        assert not any(can_bind(s.host, s.port) for s in sim.servers)
    assert all(can_bind(s.host, s.port) for s in servers)
    assert threading.active_count() == threads
    sim.stop()  # a second stop is harmless


def test_bad_requests_are_refused_with_a_clear_error() -> None:
    s = SimServer("127.0.4.4", 16000)
    with pytest.raises(InputError, match="two simulated controllers"):
        SimFleet([s, SimServer("127.0.4.4", 16000)], users={"admin": "pw"})
    with pytest.raises(InputError, match="need at least one user"):
        SimFleet([s])
    with pytest.raises(InputError, match="community"):
        SimFleet([SimServer("127.0.4.4", 16001, protocol="snmp")])
    sim = SimFleet([s], users={"admin": "pw"})
    with pytest.raises(InputError, match="no slot 'PSU3'"):
        sim.inject("127.0.4.4", "PSU3", "failed")
    with pytest.raises(InputError, match="cannot be 'uncorrectable-ecc'"):
        sim.inject("127.0.4.4", "FAN1", "uncorrectable-ecc")
    with pytest.raises(InputError, match="unknown problem"):
        sim.inject("127.0.4.4", "FAN1", "on fire")
    with pytest.raises(InputError, match="no simulated controller"):
        sim.inject("127.0.9.9", "FAN1", "failed")
    with pytest.raises(InputError, match="must be between"):
        Layout(psu_count=-1)


def test_slot_spellings_and_power() -> None:
    layout = Layout(psu_count=2)
    sim = SimFleet([SimServer("127.0.4.5", 16000, layout=layout)], users={"admin": "pw"})
    state = sim.state("127.0.4.5:16000")
    spellings = [
        ("psu 2", "failed", "PSU2"),
        ("Drive 1", "failed", "Disk 1"),
        ("dimm a1", "uncorrectable-ecc", "DIMM_A1"),
        ("Inlet Temp", "over-temperature", "Inlet"),
    ]
    for typed, problem, canonical in spellings:
        assert sim.inject("127.0.4.5", typed, problem).slot == canonical
    assert state.power_on()  # one PSU of two still delivers
    sim.inject("127.0.4.5", "PSU1", Problem.REMOVED)
    assert not state.power_on()
    sim.repair("127.0.4.5", "PSU1")
    assert state.power_on()
    assert [c.asserted for c in state.changes()][-2:] == [True, False]


def test_three_hundred_bmcs_start_quickly_on_one_thread(password: str) -> None:
    servers = [
        SimServer(f"127.77.{i // 250}.{i % 250 + 1}", free_udp_port(f"127.77.{i // 250}.{i % 250 + 1}"))
        for i in range(300)
    ]
    threads = threading.active_count()
    began = time.perf_counter()
    sim = start_simulators(servers, users={"admin": password})
    try:
        elapsed = time.perf_counter() - began
        assert elapsed < 10, f"300 BMCs took {elapsed:.1f} s to start"
        assert threading.active_count() == threads + 1
        last = servers[-1]
        sim.inject(last.host, "PSU1", "failed")
        out = Ipmitool(last.host, last.port, password)("sdr", "get", "PSU1 Status")
        assert "Failure detected" in out
    finally:
        sim.stop()


def test_demo_story_covers_critical_and_non_critical_faults() -> None:
    from fleet.sim.scenario import inject_demo_faults

    servers = [SimServer(f"127.0.8.{i}", 16623, layout=Layout(raid_battery=True)) for i in range(1, 40)]
    sim = SimFleet(servers, users={"admin": "pw"})
    changes = inject_demo_faults(sim)
    kinds = {dict(servers[0].layout.slots())[c.slot] for c in changes}
    assert kinds == {"psu", "fan", "disk", "dimm", "cpu", "battery"}
    down = [st for st in sim.states.values() if not st.power_on()]
    assert len(down) == 1  # exactly one server lost all its PSUs
    faulty = [st for st in sim.states.values() if st.problems()]
    assert len(faulty) == len(changes) - 1  # one server per change; the dead one has 2 (both its PSUs failed)
