"""`fleet poll --protocol ipmi`: exit statuses, one-line errors within the deadline, no secret in the output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from fleet.collectors.ipmi import poll_ipmi, poll_ipmi_many
from fleet.collectors.targets import IpmiTarget
from fleet.sweep.secrets import Secret
from tests.conftest import REPO, free_port
from tests.ipmi.conftest import PASSWORD, Bmc

pytestmark = pytest.mark.ipmi


def fleet_poll(port: int, password: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "BMC_PW": password}
    argv = [sys.executable, "-m", "fleet", "poll", "127.0.0.1", "--protocol", "ipmi", "--port", str(port)]
    argv += ["--user", "admin", "--password-env", "BMC_PW", *extra]
    t0 = time.monotonic()
    out = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    return out, time.monotonic() - t0


def test_healthy_bmc_exits_0_and_json_has_no_password(bmc_2u: Bmc) -> None:
    out, _ = fleet_poll(bmc_2u.port, PASSWORD, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["reachable"] and data["power"] == "on" and len(data["readings"]) == len(bmc_2u.layout.sensors)
    assert PASSWORD not in out.stdout + out.stderr
    # the one machine time format (docs/CLI.md): ISO 8601 UTC with Z, within the run, for the poll and its events
    polled = datetime.fromisoformat(data["polled_at"])
    assert data["polled_at"].endswith("Z") and abs(datetime.now(UTC) - polled) < timedelta(minutes=5)
    times = [e["time"] for e in data["events"] if e["time"]]
    assert all(t.endswith("Z") for t in times)


def test_critical_part_exits_2(start_bmc: Callable[[str, int], Bmc]) -> None:
    bmc = start_bmc("1u", 40)
    bmc.console(f"sensor_set_bit 0x20 0 {bmc.number('PSU1 Status')} 1 1 1")
    out, _ = fleet_poll(bmc.port, PASSWORD)
    assert out.returncode == 2
    assert "PSU1 critical" in out.stdout


def test_wrong_password_exits_3_with_auth(bmc_1u: Bmc) -> None:
    out, _ = fleet_poll(bmc_1u.port, "not-the-password")
    assert out.returncode == 3
    assert "auth" in out.stdout and "Traceback" not in out.stdout + out.stderr
    assert "not-the-password" not in out.stdout + out.stderr


def test_nothing_listening_exits_3_with_timeout_within_deadline() -> None:
    port = free_port()  # bound and released: nothing answers there
    # longer than pyghmi's own login give-up (about 5 s): the deadline asked for is the one kept
    deadline = 6.5
    out, elapsed = fleet_poll(port, "whatever", "--timeout", str(deadline), "--json")
    assert out.returncode == 3
    data = json.loads(out.stdout)
    assert data["error"] == "timeout" and data["reachable"] is False
    # the collector's own clock: it kept knocking until the deadline, and stopped there (1 s for a loaded machine)
    assert deadline <= data["duration_s"] < deadline + 1.0
    # the whole command: interpreter start-up and imports come on top, slow on a loaded machine; it must not hang
    assert elapsed < deadline + 30.0
    assert "Traceback" not in out.stderr


def test_deadline_holds_in_process() -> None:
    t0 = time.monotonic()
    result = poll_ipmi(IpmiTarget("127.0.0.1", free_port(), "admin", Secret("x")), timeout=0.7)
    elapsed = time.monotonic() - t0
    assert result.error == "timeout" and 0.7 <= result.duration_s < 0.7 + 1.0 and elapsed < 0.7 + 1.0


def test_poll_many_keeps_order_and_deadlines(bmc_1u: Bmc, bmc_2u: Bmc) -> None:
    dead = IpmiTarget("127.0.0.1", free_port(), "admin", Secret("x"))
    targets = [bmc_1u.target(), dead, bmc_2u.target()]
    t0 = time.monotonic()
    results = poll_ipmi_many(targets, timeout=2.0, concurrency=3)
    elapsed = time.monotonic() - t0
    assert [r.error for r in results] == [None, "timeout", None]
    assert [len(r.readings) for r in results] == [len(bmc_1u.layout.sensors), 0, len(bmc_2u.layout.sensors)]
    assert elapsed < 2.0 + 2.0  # one deadline: they run side by side
    # a second sweep hands the cursors back
    cursors = {(t.host, t.port): r.cursor for t, r in zip(targets, results, strict=True) if r.cursor}
    again = poll_ipmi_many(targets, timeout=2.0, concurrency=3, cursors=cursors)
    assert [r.error for r in again] == [None, "timeout", None]
    assert all(r.events == [] for r in again if r.error is None)


def test_secret_never_in_repr(bmc_1u: Bmc) -> None:
    target = bmc_1u.target()
    assert PASSWORD not in repr(target) and PASSWORD not in str(poll_ipmi(target, timeout=10))


def test_client_socket_is_bound_to_loopback(bmc_1u: Bmc) -> None:
    from pyghmi.ipmi.private import session as pyghmi_session

    assert poll_ipmi(bmc_1u.target(), timeout=10).error is None
    assert {s.getsockname()[0] for s in pyghmi_session.iosockets} == {"127.0.0.1"}


def test_sdr_cache_on_disk_serves_the_next_run(bmc_2u: Bmc, tmp_path, monkeypatch) -> None:
    # A cron sweep is a new process every night: the SDR it downloaded last night is read from disk, not the BMC.
    monkeypatch.setenv("FLEET_SDR_CACHE_DIR", str(tmp_path / "sdr"))
    first, _ = fleet_poll(bmc_2u.port, PASSWORD, "--json")
    cached = list((tmp_path / "sdr").glob("sdrcache-*"))
    assert first.returncode == 0 and len(cached) == 1
    assert oct(os.stat(tmp_path / "sdr").st_mode & 0o777) == "0o700"
    assert oct(os.stat(cached[0]).st_mode & 0o777) == "0o600"
    # The next process reads the same sensors through the cached records (pyghmi writes the file atomically).
    second, _ = fleet_poll(bmc_2u.port, PASSWORD, "--json")
    assert second.returncode == 0

    def sensors(out: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
        return [(r["name"], r["state"]) for r in json.loads(out.stdout)["readings"]]

    assert sensors(second) == sensors(first) and len(sensors(first)) == len(bmc_2u.layout.sensors)


def test_existing_sdr_cache_folder_is_made_owner_only(bmc_1u: Bmc, tmp_path, monkeypatch) -> None:
    # a folder an admin made by hand (755) with a cache file from an older run (644): both become owner-only
    folder = tmp_path / "shared-sdr"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    old = folder / "sdrcache-2.0.0.0.0.00.0"
    old.write_bytes(b"")
    os.chmod(old, 0o644)
    monkeypatch.setenv("FLEET_SDR_CACHE_DIR", str(folder))
    out, _ = fleet_poll(bmc_1u.port, PASSWORD, "--json")
    assert out.returncode == 0, out.stderr
    assert oct(os.stat(folder).st_mode & 0o777) == "0o700"
    modes = {f.name: oct(os.stat(f).st_mode & 0o777) for f in folder.iterdir()}
    assert len(modes) == 2 and set(modes.values()) == {"0o600"}, modes
