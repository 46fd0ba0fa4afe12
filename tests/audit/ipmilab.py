"""The shared lab's ipmi_sim security configurations, started on loopback for a test module."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from tests.conftest import SHARED, free_port, owns_udp_port

LAB = SHARED / "lab" / "ipmi"


def _start(template: str, tmp_path_factory: pytest.TempPathFactory, runs: list[Path]) -> int:
    """One simulator of `template` on a free port, retried on a new port when what answered there is not it
    (another test's simulator took the port first: start_sims.sh only checks that something answers)."""
    for _attempt in range(3):
        run = tmp_path_factory.mktemp(template)
        runs.append(run)
        port = free_port()
        env = {**os.environ, "LAN_CONF": str(LAB / "security" / f"{template}.lan.conf.in"),
               "SET_SEL_TIME": "0", "IPMI_SIM_RUN": str(run)}  # fmt: skip
        out = subprocess.run([str(LAB / "start_sims.sh"), "1", str(port)], env=env, capture_output=True,
                             text=True, timeout=60)  # fmt: skip
        assert out.returncode == 0 and "started 1/1" in out.stdout, out.stdout + out.stderr
        pid = int((run / "pids").read_text().split()[0])
        if owns_udp_port(pid, port):
            return port
    pytest.fail(f"ipmi_sim ({template}) did not come up on a port of its own in 3 attempts")


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
            if (run / "pids").exists():
                subprocess.run([str(LAB / "stop_sims.sh")], env={**os.environ, "IPMI_SIM_RUN": str(run)},
                               capture_output=True, timeout=60)  # fmt: skip
