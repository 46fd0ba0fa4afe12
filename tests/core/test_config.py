"""Settings are checked when loaded: a bad value stops the command at start with one line naming the key."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from fleet.config import Settings, load_settings, setting_fields
from fleet.errors import InputError
from fleet.store.db import make_engine, read_session, write_session
from fleet.store.migrate import upgrade
from fleet.store.models import MaintenanceWindow
from fleet.swaps.rounds import run_planning
from fleet.sweep.ipmi_options import ipmi_options
from tests.conftest import REPO
from tests.sched import fleet_rows as rows


def fleet_in(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FLEET_")}
    return subprocess.run(
        [sys.executable, "-m", "fleet", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
        env={**clean, "PYTHONPATH": str(REPO), **(env or {})},
    )  # fmt: skip


@pytest.fixture
def no_fleet_env(monkeypatch, tmp_path):
    for k in list(os.environ):
        if k.startswith("FLEET_"):
            monkeypatch.delenv(k)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_word_where_minutes_belong_stops_init_before_it_writes(tmp_path):
    (tmp_path / "fleet.toml").write_text('critical_target_min = "soon"\n')
    r = fleet_in(tmp_path, "init", "--db", str(tmp_path / "inv.db"))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("fleet: fleet.toml: critical_target_min = 'soon'")
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "inv.db").exists()


def test_zero_interval_from_the_environment_names_the_variable(tmp_path):
    r = fleet_in(tmp_path, "init", "--db", str(tmp_path / "inv.db"), env={"FLEET_MONITORING_INTERVAL_MIN": "0"})
    assert r.returncode == 2
    assert r.stderr.startswith("fleet: FLEET_MONITORING_INTERVAL_MIN='0': ") and "greater than 0" in r.stderr
    assert r.stderr.count("\n") == 1


def test_poll_and_sweep_report_a_bad_setting_as_unknown(tmp_path):
    r = fleet_in(tmp_path, "sweep", "--db", str(tmp_path / "inv.db"), env={"FLEET_POLL_TIMEOUT_S": "nan"})
    assert r.returncode == 3  # the monitoring-plugin convention: bad configuration is "unknown"
    assert r.stderr.startswith("fleet: FLEET_POLL_TIMEOUT_S='nan'") and r.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("monitoring_interval_min = -5\n", "monitoring_interval_min = -5: Input should be greater than 0"),
        ("poll_timeout_s = inf\n", "poll_timeout_s = inf: Input should be a finite number"),
        ("network_availability = 120.0\n", "network_availability = 120.0: Input should be less than or equal"),
        ("sweep_concurrency = 4000\n", "sweep_concurrency = 4000: Input should be less than or equal to 1024"),
        ('[transit_hours]\n"PAR1-AMS1" = nan\n', "transit_hours.PAR1-AMS1 = nan: Input should be a finite number"),
        ("critical_target = 60\n", "unknown setting 'critical_target'"),
        ('ipmi_bind = "::1"\n', "ipmi_bind = '::1': Value error"),
        ("critical_target_min = \n", "not valid TOML"),
    ],
)
def test_nonsense_in_the_file_is_one_line_naming_file_and_key(no_fleet_env, toml, expected):
    (no_fleet_env / "fleet.toml").write_text(toml)
    with pytest.raises(InputError) as err:
        load_settings()
    assert str(err.value).startswith("fleet.toml: ") and expected in str(err.value)
    assert "\n" not in str(err.value) and err.value.exit_code == 2


def test_environment_overrides_the_file_and_settings_alone_read_neither(no_fleet_env, monkeypatch):
    (no_fleet_env / "fleet.toml").write_text("critical_target_min = 45\nack_within_min = 30\n")
    monkeypatch.setenv("FLEET_CRITICAL_TARGET_MIN", "50")
    loaded = load_settings()
    assert (loaded.critical_target_min, loaded.ack_within_min) == (50, 30)
    assert Settings().critical_target_min == 60  # the SLA's default, whatever the environment says


def test_an_asked_for_file_that_is_missing_is_an_error(no_fleet_env, monkeypatch):
    monkeypatch.setenv("FLEET_CONFIG", str(no_fleet_env / "nope.toml"))
    with pytest.raises(InputError, match="settings file not found"):
        load_settings()


def test_the_ipmi_switches_are_settings_under_their_old_names(no_fleet_env, monkeypatch):
    assert ipmi_options(load_settings()).bind is None
    monkeypatch.setenv("FLEET_IPMI_BIND", "127.0.0.1")
    monkeypatch.setenv("FLEET_PYGHMI_UNPATCHED", "1")
    monkeypatch.setenv("FLEET_SDR_CACHE_DIR", str(no_fleet_env / "sdr"))
    opts = ipmi_options(load_settings())
    assert (opts.bind, opts.wakeup_fix, opts.sdr_cache_dir) == ("127.0.0.1", False, str(no_fleet_env / "sdr"))
    monkeypatch.setenv("FLEET_IPMI_BIND", "bmc.example.net")
    with pytest.raises(InputError, match=r"FLEET_IPMI_BIND=.bmc\.example\.net."):
        load_settings()


def test_tables_from_the_environment_are_json(no_fleet_env, monkeypatch):
    monkeypatch.setenv("FLEET_SWAP_MINUTES", '{"psu": 20}')
    assert load_settings().swap_minutes == {"psu": 20}
    monkeypatch.setenv("FLEET_SWAP_MINUTES", "psu=20")
    with pytest.raises(InputError, match="FLEET_SWAP_MINUTES: a table is given as JSON"):
        load_settings()


def test_a_changed_copy_is_checked_too():
    with pytest.raises(ValueError, match="greater than 0"):
        dataclasses.replace(Settings(), critical_limit_min=0)


def test_every_setting_says_what_it_is():
    undocumented = [name for name, f in setting_fields().items() if not f.description]
    assert undocumented == []


def _customer_with_two_faults(engine) -> None:
    # Customer hours Tuesday and Thursday 10:00-12:00 Paris; technician on weekdays 08:00-18:00.
    with write_session(engine) as s:
        st = rows.site(s)
        rows.technician(s, st, "ana", shifts=rows.hours(*[(d, "08:00", "18:00") for d in range(5)]))
        cust = rows.customer(s, preferred=[{"weekday": d, "start": "10:00", "end": "12:00"} for d in (1, 3)])
        srv = rows.server(s, st, "web1", cust=cust)
        rows.fault(s, srv, "FAN3", "fan", at=TUESDAY - timedelta(hours=3), severity="non-critical")


TUESDAY = datetime(2026, 10, 20, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # the SLA defaults: 24 h notice, 28 days: Thu 22 Oct (CEST), Tue 27 and Thu 29 Oct (CET)
        ({}, ["2026-10-22 08:00", "2026-10-27 09:00", "2026-10-29 09:00"]),
        ({"window_notice_h": 72.0}, ["2026-10-27 09:00", "2026-10-29 09:00", "2026-11-03 09:00"]),
        ({"window_horizon_days": 7.0}, ["2026-10-22 08:00", "2026-10-27 09:00"]),
    ],
)
def test_the_proposal_horizons_are_settings(tmp_path, changes, expected):
    engine = make_engine(f"sqlite:///{tmp_path / 'inv.db'}")
    upgrade(engine)
    _customer_with_two_faults(engine)
    settings = Settings(outbox=str(tmp_path / "outbox"), **changes)
    with write_session(engine) as s:
        run_planning(s, now=TUESDAY, settings=settings)
    with read_session(engine) as s:
        starts = [w.start_at for w in s.exec(select(MaintenanceWindow).order_by(col(MaintenanceWindow.start_at)))]
    assert [t.strftime("%Y-%m-%d %H:%M") for t in starts] == expected
    engine.dispose()
