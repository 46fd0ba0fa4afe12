"""`fleet poll` as a monitoring plugin: the simulators of tests/ipmi and tests/snmp, and a helper that runs the
command as a monitoring system does (a subprocess, its own state directory, no terminal)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.ipmi.conftest import PASSWORD, bmc_1u, start_bmc  # noqa: F401 - fixtures used here
from tests.snmp.conftest import snmpsim  # noqa: F401 - fixture used here


@pytest.fixture
def state_home(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir()
    return path


def run_poll(
    *args: str, state: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "XDG_STATE_HOME": str(state),
        "BMC_PW": PASSWORD,
        "SNMP_COMMUNITY": "public",
        **(env or {}),
    }
    argv = [sys.executable, "-m", "fleet", "poll", *args]
    return subprocess.run(argv, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout)


def ipmi_args(port: int, *extra: str) -> list[str]:
    return ["127.0.0.1", "--port", str(port), "--password-env", "BMC_PW", "--cipher-suite", "3", *extra]


def snmp_args(port: int, *extra: str) -> list[str]:
    """The community goes in SNMP_COMMUNITY (run_poll's env): snmpsim serves each recording under its file name."""
    return ["127.0.0.1", "-P", "snmp", "--port", str(port), "--community-env", "SNMP_COMMUNITY", *extra]
