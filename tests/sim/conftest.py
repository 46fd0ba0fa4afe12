"""Fixtures for the simulator tests: free loopback ports, a running simulated fleet, the independent clients."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet.sim.layout import Layout, SimServer
from fleet.sim.run import SimFleet, start_simulators


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def need(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} not installed (package {package}): the independent client for this test")
    return path


class Ipmitool:
    """ipmitool over lanplus; the password travels in IPMI_PASSWORD (-E), never on the command line."""

    def __init__(self, host: str, port: int, password: str) -> None:
        self.host, self.port, self.password = host, port, password
        self.binary = need("ipmitool", "ipmitool")

    def run(self, *args: str, cipher: str = "3", user: str = "admin", password: str | None = None):
        env = dict(os.environ, IPMI_PASSWORD=self.password if password is None else password)
        cmd = [self.binary, "-I", "lanplus", "-H", self.host, "-p", str(self.port), "-U", user, "-E", "-C", cipher]
        cmd += ["-R", "2", "-N", "1"]  # retries and timeout: a refused login must fail quickly
        return subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, timeout=60)

    def __call__(self, *args: str, **kw: str) -> str:
        out = self.run(*args, **kw)
        assert out.returncode == 0, out.stderr
        return out.stdout


class NetSnmp:
    """net-snmp tools; the community sits in a private snmp.conf (SNMPCONFPATH), not on the command line."""

    def __init__(self, tmp: Path, community: str) -> None:
        self.bin = {t: need(t, "snmp") for t in ("snmpget", "snmpgetnext", "snmpbulkwalk", "snmpwalk")}
        conf = tmp / "snmp"
        conf.mkdir(exist_ok=True)
        (conf / "snmp.conf").write_text(f"defCommunity {community}\ndefVersion 2c\nmibs :\n", encoding="utf-8")
        self.env = dict(os.environ, SNMPCONFPATH=str(conf), MIBDIRS=str(conf), HOME=str(tmp))

    def run(self, tool: str, target: str, *args: str, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        cmd = [self.bin[tool], "-On", "-t", "1", "-r", "1", *extra, target, *args]
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=60)

    def values(self, tool: str, target: str, *args: str, extra: tuple[str, ...] = ()) -> dict[str, str]:
        """{numeric OID: value text} of a command's output."""
        out = self.run(tool, target, *args, extra=extra)
        assert out.returncode == 0, out.stderr
        found: dict[str, str] = {}
        for line in out.stdout.splitlines():
            oid, sep, value = line.partition(" = ")
            if sep:  # skip trailers such as "End of MIB"
                found[oid.lstrip(".")] = value
        return found


@pytest.fixture(scope="module")
def password() -> str:
    return secrets.token_urlsafe(12)


@pytest.fixture(scope="module")
def community() -> str:
    return "sim-" + secrets.token_hex(4)


SERIALS = {"PSU2": "PSU-ORIGINAL-0002", "Disk 1": "DISK-ORIGINAL-0001"}


@pytest.fixture(scope="module")
def fleet(password: str, community: str) -> Iterator[SimFleet]:
    """Two BMCs with different layouts and two agents (Dell, HPE), on four loopback addresses."""
    hosts = ["127.0.3.1", "127.0.3.2", "127.0.3.3", "127.0.3.4"]
    servers = [
        SimServer(hosts[0], free_udp_port(hosts[0]), layout=Layout(), serials=SERIALS, serial="CHASSIS-0001"),
        SimServer(hosts[1], free_udp_port(hosts[1]), layout=Layout(psu_count=1, fan_count=2, disks=2, dimms=2, cpus=1)),
        SimServer(hosts[2], free_udp_port(hosts[2]), protocol="snmp", vendor="dell", serials=SERIALS),
        SimServer(hosts[3], free_udp_port(hosts[3]), protocol="snmp", vendor="hpe", model="ProLiant DL360 Gen10"),
    ]
    sim = start_simulators(servers, users={"admin": password}, community=community)
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def clean(fleet: SimFleet) -> Iterator[SimFleet]:
    """The module's fleet, with every injected problem repaired after the test (serials stay as the test left them)."""
    yield fleet
    for state in fleet.states.values():
        for slot in state.problems():
            state.repair(slot)
        state.set_power(None)
