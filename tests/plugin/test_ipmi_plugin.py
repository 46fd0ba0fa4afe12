"""`fleet poll` against OpenIPMI's ipmi_sim, read as a monitoring system reads it; ipmitool is the independent view."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.ipmi.conftest import PASSWORD, Bmc
from tests.plugin.conftest import ipmi_args, run_poll
from tests.plugin.perf import split_output

pytestmark = pytest.mark.ipmi
A = "0x20"
_LIMITS = {"Upper Non-Critical": 1, "Upper Critical": 2, "Lower Non-Critical": 1, "Lower Critical": 2}


def ipmitool_thresholds(bmc: Bmc, name: str) -> tuple[float, dict[str, str]]:
    """(reading, {perfdata field index -> expected text}) from `ipmitool sensor get`."""
    out = bmc.ipmitool("sensor", "get", name)
    reading = float(re.search(r"Sensor Reading\s*:\s*(-?[\d.]+)", out).group(1))  # type: ignore[union-attr]
    found = {k: float(m.group(1)) for k in _LIMITS if (m := re.search(rf"{k}\s*:\s*(-?[\d.]+)", out))}
    fields: dict[int, str] = {}
    for level in (1, 2):
        high = next((v for k, v in found.items() if k.startswith("Upper") and _LIMITS[k] == level), None)
        low = next((v for k, v in found.items() if k.startswith("Lower") and _LIMITS[k] == level), None)
        if low is not None:
            fields[level] = f"{low:g}:" + (f"{high:g}" if high is not None else "")
        elif high is not None:
            fields[level] = f"{high:g}"
        else:
            fields[level] = ""
    return reading, {str(k): v for k, v in fields.items()}


def test_healthy_bmc_is_ok_with_perfdata_and_the_bmc_thresholds(bmc_1u: Bmc, state_home: Path) -> None:
    out = run_poll(*ipmi_args(bmc_1u.port), state=state_home)
    assert out.returncode == 0, out.stdout + out.stderr
    text, perf, _long = split_output(out.stdout)
    assert text == f"OK: 127.0.0.1 (ipmi, power on): all {len(bmc_1u.layout.sensors)} readings healthy"
    assert perf["critical parts"][0] == "0" and perf["warning parts"][0] == "0"
    analog = [s.name for s in bmc_1u.layout.sensors if not s.discrete]
    assert analog and set(analog) <= set(perf)
    for name in analog:
        reading, limits = ipmitool_thresholds(bmc_1u, name)
        value = float(re.match(r"-?[\d.]+", perf[name][0]).group(0))  # type: ignore[union-attr]
        assert abs(value - reading) < 0.01, (name, perf[name], reading)
        assert (perf[name][1], perf[name][2]) == (limits["1"], limits["2"]), (name, perf[name], limits)
    units = {name: re.sub(r"^-?[\d.]+", "", perf[name][0]) for name in analog}
    assert {units[s.name] for s in bmc_1u.layout.sensors if s.name.endswith("Temp")} == {"C"}
    assert {units[s.name] for s in bmc_1u.layout.sensors if s.name.startswith("FAN")} == {""}  # RPM: no unit


FAILURES = (
    ("PSU1 Status", "sensor_set_bit {a} 0 {n} 1 1 1"),
    ("PSU2 Status", "sensor_set_bit {a} 0 {n} 1 1 1"),
    ("FAN1", "sensor_set_value {a} 0 {n} 0x08 1"),
    ("FAN3", "sensor_set_value {a} 0 {n} 0x0c 1"),
    ("Drive 0", "sensor_set_bit {a} 0 {n} 1 1 1"),
)


def test_output_is_plain_and_the_same_at_any_terminal_width(
    start_bmc: Callable[[str, int], Bmc], state_home: Path
) -> None:
    bmc = start_bmc("2u", 61)
    bmc.console(*(cmd.format(a=A, n=bmc.number(name)) for name, cmd in FAILURES))
    narrow = run_poll(*ipmi_args(bmc.port, "--all-events"), state=state_home, env={"COLUMNS": "40"})
    wide = run_poll(*ipmi_args(bmc.port, "--all-events"), state=state_home, env={"COLUMNS": "400"})
    assert narrow.returncode == wide.returncode == 2, narrow.stdout + narrow.stderr
    assert narrow.stdout.encode() == wide.stdout.encode()
    text, perf, long = split_output(narrow.stdout)
    # all five parts on the first line, none broken into the long output
    assert text.startswith("CRITICAL: 127.0.0.1 (ipmi, power on): 4 critical, 1 warning: ")
    for slot in ("PSU1 critical", "PSU2 critical", "FAN1 critical", "FAN3 warning", "Drive 0 critical"):
        assert slot in text
    assert perf["critical parts"][0] == "4" and perf["warning parts"][0] == "1"
    # one line per sensor, then the event header and one line per event
    events = int(next(line for line in long if line.startswith("events in the log: ")).rsplit(" ", 1)[1])
    assert len(long) == len(bmc.layout.sensors) + 1 + events and events >= len(FAILURES)
    assert "\x1b" not in narrow.stdout


def test_a_check_shows_only_new_events_and_keeps_its_cursor_private(
    start_bmc: Callable[[str, int], Bmc], state_home: Path
) -> None:
    bmc = start_bmc("1u", 62)

    def new_events() -> list[str]:
        out = run_poll(*ipmi_args(bmc.port), state=state_home)
        lines = out.stdout.splitlines()
        heads = [i for i, line in enumerate(lines) if line.startswith("events new since the last check: ")]
        assert heads, f"{bmc.health()}; the check printed: {out.stdout}{out.stderr}"
        at = heads[0]
        assert int(lines[at].rsplit(" ", 1)[1]) == len(lines) - at - 1
        return lines[at + 1 :]

    new_events()  # first contact: whatever the log holds
    assert new_events() == []
    bmc.console(f"sensor_set_bit {A} 0 {bmc.number('PSU2 Status')} 1 1 1")
    fresh = new_events()
    assert len(fresh) == 1 and "PSU2" in fresh[0] and fresh[0].startswith("CRITICAL: ")
    assert new_events() == []
    everything = run_poll(*ipmi_args(bmc.port, "--all-events"), state=state_home).stdout
    assert any("PSU2" in line for line in everything.splitlines() if line.startswith("CRITICAL: -"))
    assert new_events() == []  # --all-events leaves the check's position alone
    files = list((state_home / "fleet" / "poll").iterdir())
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert PASSWORD not in files[0].read_text()


def test_with_db_the_cursor_lives_in_the_database(
    start_bmc: Callable[[str, int], Bmc], state_home: Path, tmp_path: Path
) -> None:
    bmc = start_bmc("1u", 63)
    db = tmp_path / "inv.db"
    init = subprocess.run([sys.executable, "-m", "fleet", "init", "--db", str(db)], cwd=REPO, capture_output=True)
    assert init.returncode == 0, init.stderr
    bmc.console(f"sensor_set_bit {A} 0 {bmc.number('PSU1 Status')} 1 1 1")
    first = run_poll(*ipmi_args(bmc.port, "--db", str(db), "--json"), state=state_home)
    second = run_poll(*ipmi_args(bmc.port, "--db", str(db), "--json"), state=state_home)
    assert first.returncode == second.returncode == 2, f"{bmc.health()}; {first.stdout}{first.stderr}"
    assert [e["slot"] for e in json.loads(first.stdout)["events"]] == ["PSU1"]
    assert json.loads(second.stdout)["events"] == []
    assert not (state_home / "fleet").exists()
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT key, cursor FROM check_cursor").fetchall()
    assert [r[0] for r in rows] == [f"ipmi:127.0.0.1:{bmc.port}"] and PASSWORD not in rows[0][1]


def test_unreachable_is_unknown_with_the_status_word_first(state_home: Path) -> None:
    from tests.conftest import free_port

    out = run_poll(*ipmi_args(free_port(), "-t", "1"), state=state_home)
    assert out.returncode == 3
    assert out.stdout == "UNKNOWN: 127.0.0.1 (ipmi): timeout\n" and out.stderr == ""
