"""The shared lab's ipmi_sim security configurations, started on loopback for a test module."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from tests.conftest import SHARED, free_port, owns_udp_port

LAB = SHARED / "lab" / "ipmi"


def _lab_port() -> int:
    """A free UDP port whose console port (the lab's start_sims.sh puts it at +1000, TCP) is free too. The console
    port is not ours to choose, and in the ephemeral range it can be any test's client connection."""
    for _ in range(50):
        port = free_port()
        with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", port + 1000))
            return port
    return free_port()


def _start(template: str, tmp_path_factory: pytest.TempPathFactory, runs: list[Path]) -> int:
    """One simulator of `template` on a free port, retried on a new port when it did not come up (its console port
    was taken meanwhile: ipmi_sim exits, "bind to console socket") or when what answered there is not it (another
    test's simulator took the port first: start_sims.sh only checks that something answers)."""
    seen = ""
    for _attempt in range(4):
        run = tmp_path_factory.mktemp(template)
        runs.append(run)
        port = _lab_port()
        env = {**os.environ, "LAN_CONF": str(LAB / "security" / f"{template}.lan.conf.in"),
               "SET_SEL_TIME": "0", "IPMI_SIM_RUN": str(run)}  # fmt: skip
        out = subprocess.run([str(LAB / "start_sims.sh"), "1", str(port)], env=env, capture_output=True,
                             text=True, timeout=60)  # fmt: skip
        if out.returncode != 0 or "started 1/1" not in out.stdout:
            log = run / "sim0" / "sim.log"
            seen = (out.stdout + out.stderr + (log.read_text(errors="replace") if log.exists() else "")).strip()
            _stop(run)
            continue
        pid = int((run / "pids").read_text().split()[0])
        if owns_udp_port(pid, port):
            return port
        seen = f"port {port} answered, but not by ipmi_sim {pid}"
    pytest.fail(f"ipmi_sim ({template}) did not come up on a port of its own in 4 attempts; last: {seen}")


def _stop(run: Path) -> None:
    if (run / "pids").exists():
        subprocess.run([str(LAB / "stop_sims.sh")], env={**os.environ, "IPMI_SIM_RUN": str(run)},
                       capture_output=True, timeout=60)  # fmt: skip


@contextlib.contextmanager
def running(templates: Iterable[str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    """template -> UDP port of one ipmi_sim each; all stopped (by the PIDs they started) on exit."""
    if not (LAB / "security").is_dir():
        pytest.skip(f"the IPMI security lab is not at {LAB} (set FLEET_SHARED)")
    if shutil.which("ipmi_sim") is None or shutil.which("sdrcomp") is None:
        pytest.skip("ipmi_sim / sdrcomp not installed (Debian package openipmi)")
    ports: dict[str, int] = {}
    runs: list[Path] = []
    try:
        for template in templates:
            ports[template] = _start(template, tmp_path_factory, runs)
        yield ports
    finally:
        for run in runs:
            _stop(run)
