"""Simulated BMCs: OpenIPMI's ipmi_sim on 127.0.0.1, with the project's own SDR/emu/FRU files (fleet.sim.ipmi_sim),
and ipmitool as the independent reader of the same BMC."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fleet.collectors.ipmi import patches
from fleet.collectors.targets import IpmiTarget
from fleet.sim import ipmi_sim
from fleet.sweep.secrets import Secret
from tests.conftest import free_port, owns_udp_port

PASSWORD = "s3cret-bmc-pw"
# Loopback only: pyghmi's client socket binds 127.0.0.1, not the wildcard: in this process (the tests call the
# collector directly) and in `fleet poll` subprocesses (the variable). Before any test talks IPMI.
os.environ["FLEET_IPMI_BIND"] = "127.0.0.1"
patches.install(bind="127.0.0.1")


@dataclass
class Bmc:
    layout: ipmi_sim.Layout
    index: int
    port: int
    console_port: int
    process: subprocess.Popen[bytes]

    def target(self, password: str = PASSWORD, **kw: object) -> IpmiTarget:
        return IpmiTarget("127.0.0.1", self.port, ipmi_sim.USER, Secret(password), **kw)  # type: ignore[arg-type]

    def console(self, *commands: str) -> str:
        return ipmi_sim.console(self.console_port, *commands)

    def number(self, sensor_name: str) -> int:
        return self.layout.sensor(sensor_name).number

    def ipmitool(self, *args: str) -> str:
        return ipmitool(self.port, *args)

    def health(self) -> str:
        """For a failure message: whether the simulator still runs, and whether it owns its LAN port."""
        code = self.process.poll()
        if code is not None:
            return f"ipmi_sim on port {self.port} exited with {code}"
        return f"ipmi_sim on port {self.port} running, owns the port: {owns_udp_port(self.process.pid, self.port)}"


def ipmitool(port: int, *args: str) -> str:
    # the password goes by environment (-E), never on the command line; -C 3: the simulator refuses suite 17
    env = {**os.environ, "IPMI_PASSWORD": PASSWORD}
    argv = ["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", str(port), "-U", ipmi_sim.USER, "-E", "-C", "3"]
    out = subprocess.run([*argv, *args], env=env, capture_output=True, text=True, timeout=30, check=True)
    return out.stdout


def _console_ready(port: int) -> bool:
    # read the prompt before hanging up: a console dropped while ipmi_sim is still loading its emu file leaves the
    # simulator deaf on the LAN
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
        return b">" in s.recv(256)
    return False


@pytest.fixture(scope="session")
def start_bmc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Bmc]]:
    """A factory: start_bmc(layout_name, index, lan_edit=None) -> a running simulated BMC; `lan_edit` rewrites the
    generated lan.conf text first. Stops exactly what it started."""
    if shutil.which("ipmi_sim") is None:
        pytest.skip("ipmi_sim not installed (Debian package openipmi)")
    if shutil.which("ipmitool") is None:
        pytest.skip("ipmitool not installed")
    started: list[subprocess.Popen[bytes]] = []
    root = tmp_path_factory.mktemp("bmcs")

    def start(layout_name: str, index: int, lan_edit: Callable[[str], str] | None = None) -> Bmc:
        # A port found free can be taken by another process before the simulator binds it: then the simulator is
        # not what answers there. Try again on new ports until the LAN interface itself answers.
        for _attempt in range(3):
            bmc = _start_once(layout_name, index, lan_edit)
            if bmc is not None:
                return bmc
        pytest.fail("ipmi_sim did not come up on a free loopback port in 3 attempts")

    def _start_once(layout_name: str, index: int, lan_edit: Callable[[str], str] | None) -> Bmc | None:
        layout = ipmi_sim.LAYOUTS[layout_name]
        port, cport = free_port(), free_port(socket.SOCK_STREAM)
        files = ipmi_sim.write_bmc(Path(root / f"{layout_name}-{index}-{port}"), layout, index, port, cport, PASSWORD)
        if lan_edit is not None:
            files.lan_conf.write_text(lan_edit(files.lan_conf.read_text()))
        log = open(files.directory / "sim.log", "wb")  # noqa: SIM115 - closed with the process below
        proc = subprocess.Popen(files.argv(), stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        started.append(proc)
        deadline = time.monotonic() + 10
        while not (_console_ready(cport) and ipmi_sim.answers(port)):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                return None
            time.sleep(0.05)
        if not owns_udp_port(proc.pid, port):  # what answered is another test's simulator on that port
            proc.kill()
            return None
        return Bmc(layout, index, port, cport, proc)

    yield start
    for proc in started:
        proc.terminate()
    for proc in started:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def bmc_1u(start_bmc: Callable[[str, int], Bmc]) -> Bmc:
    """Left healthy: tests that only read."""
    return start_bmc("1u", 1)


@pytest.fixture(scope="session")
def bmc_2u(start_bmc: Callable[[str, int], Bmc]) -> Bmc:
    return start_bmc("2u", 2)
