"""The simulated BMC seen through FreeIPMI, a third IPMI implementation (its own SDR cache, SEL and FRU parsers)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fleet.sim.run import SimFleet
from tests.sim.conftest import SERIALS, need


def freeipmi(tool: str, fleet: SimFleet, tmp: Path, password: str, *args: str) -> str:
    binary = need(tool, "freeipmi-tools")
    server = fleet.servers[0]
    conf = tmp / "freeipmi.conf"  # the password goes in a private config file, never on the command line
    conf.write_text(f"username admin\npassword {password}\n", encoding="utf-8")
    conf.chmod(0o600)
    cmd = [binary, f"--config-file={conf}", "-D", "LAN_2_0", "-h", f"{server.host}:{server.port}"]
    cmd += [f"--sdr-cache-directory={tmp}", "--quiet-cache"]  # a private SDR cache, not the home directory
    out = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_sensors_sel_and_fru(clean: SimFleet, tmp_path: Path, password: str) -> None:
    host = clean.servers[0].host
    clean.inject(host, "PSU1", "failed")
    clean.inject(host, "FAN2", "below-critical")
    sensors = {
        line.split("|")[1].strip(): line
        for line in freeipmi("ipmi-sensors", clean, tmp_path, password).splitlines()[1:]
    }
    assert "Power Supply Failure detected" in sensors["PSU1 Status"]
    assert "Power Supply Failure detected" not in sensors["PSU2 Status"]
    assert "Lower Critical" in sensors["FAN2"]
    sel = freeipmi("ipmi-sel", clean, tmp_path, password).splitlines()
    assert "FAN2" in sel[-1] and "Lower Critical" in sel[-1]
    assert SERIALS["PSU2"] in freeipmi("ipmi-fru", clean, tmp_path, password)
