"""The headless sweep as cron sees it: one run polls, assesses, opens faults, reserves spares, plans swaps, and
exits with a status a scheduler can act on."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time

from sqlmodel import select

from fleet.store.db import make_engine, read_session, write_session
from fleet.store.models import Fault, Reservation, SensorChange, SensorState, Server, Swap, SweepRun
from tests.conftest import REPO, free_port
from tests.sweep.conftest import ENV, fleet_cli


def add_dead_server(url: str, port: int) -> str:
    """A server whose controller never answers: a loopback port with nothing behind it."""
    engine = make_engine(url)
    with write_session(engine) as s:
        template = s.exec(select(Server).where(Server.status == "active")).first()
        data = template.model_dump(exclude={"id"})
        data.update(
            hostname="dead-bmc.test", asset_tag="AT-DEAD", serial="SN-DEAD", controller_host="127.0.0.1",
            controller_port=port, controller_protocol="snmp", credential_ref="env:FLEET_DEMO_SNMP_COMMUNITY",
        )  # fmt: skip
        s.add(Server(**data))
    engine.dispose()
    return "dead-bmc.test"


def test_one_sweep_opens_faults_reserves_spares_plans_and_exits_critical(small_fleet):
    fleet, sim = small_fleet
    redundant, single = fleet.ipmi[0], fleet.ipmi[1]
    sim.inject(redundant.controller_host, "PSU2", "failed", port=redundant.controller_port)
    for psu in ("PSU1", "PSU2"):  # both of a pair: the server is down because of its power supplies
        sim.inject(single.controller_host, psu, "failed", port=single.controller_port)
    dead = add_dead_server(fleet.url, free_port())

    started = time.monotonic()
    r = fleet_cli("sweep", "--db", fleet.url, "--json", "-", "--timeout", "4")
    elapsed = time.monotonic() - started
    assert r.returncode == 2, r.stderr  # a critical fault is open
    report = json.loads(r.stdout)
    assert report["servers"] == 11 and report["polled"] == 10, report["unreachable"]
    assert report["unreachable"] == [{"server": dead, "error": "timeout"}]
    assert single.hostname in report["critical_servers"]
    assert redundant.hostname in report["warning_servers"]
    assert report["faults_opened"] == 3 and report["spares_reserved"] >= 1
    assert elapsed < 60  # the dead controller cost its deadline, not the sweep
    assert "sweep-test" not in r.stdout + r.stderr  # no secret in the report or the log

    engine = make_engine(fleet.url)
    with read_session(engine) as s:
        open_now = select(Fault).where(Fault.resolved_at.is_(None))
        faults = {(s.get(Server, f.server_id).hostname, f.slot): f for f in s.exec(open_now)}
        assert faults[(single.hostname, "PSU1")].severity == "critical"
        assert faults[(redundant.hostname, "PSU2")].severity == "non-critical"
        swaps = s.exec(select(Swap)).all()
        crit = [w for w in swaps if w.critical and w.state != "done"]
        f = faults[(single.hostname, "PSU1")]
        assert any(w.fault_id == f.id and (w.hard_limit_at - f.notified_at).total_seconds() == 4 * 3600 for w in crit)
        assert s.exec(select(Reservation).where(Reservation.state == "active")).all()
        dead_row = s.exec(select(Server).where(Server.hostname == dead)).one()
        assert dead_row.last_poll_error == "timeout" and dead_row.last_polled_at is None
        assert s.get(Server, single.id).health == "critical"
        states = len(s.exec(select(SensorState)).all())
        changes = len(s.exec(select(SensorChange)).all())
        last_run = s.exec(select(SweepRun).order_by(SweepRun.id.desc())).first()  # type: ignore[union-attr]
        assert last_run.status == 2 and last_run.finished_at is not None and last_run.unreachable == 1

    again = fleet_cli("sweep", "--db", fleet.url, "--json", "-", "--timeout", "4")
    second = json.loads(again.stdout)
    assert again.returncode == 2 and second["faults_opened"] == 0  # the same faults, not new ones
    with read_session(engine) as s:
        assert len(s.exec(open_now).all()) == 3
        # Nothing changed state, so history did not grow: only changes are stored.
        assert len(s.exec(select(SensorState)).all()) == states
        assert len(s.exec(select(SensorChange)).all()) == changes


def test_healthy_fleet_exits_zero_and_a_dead_controller_alone_is_unknown(small_fleet):
    fleet, _sim = small_fleet
    r = fleet_cli("sweep", "--db", fleet.url, "--timeout", "4")
    assert r.returncode == 0, r.stderr
    assert "10 polled, 0 unreachable" in r.stderr  # plain log lines when not on a terminal
    add_dead_server(fleet.url, free_port())
    r = fleet_cli("sweep", "--db", fleet.url, "--timeout", "2")
    assert r.returncode == 3
    assert "unreachable: dead-bmc.test (timeout)" in r.stderr


def test_kill_9_mid_sweep_leaves_a_consistent_database_and_the_next_sweep_completes(tmp_path):
    from tests.sweep.conftest import keep_few

    fleet = keep_few(f"sqlite:///{tmp_path / 'inventory.db'}", 0, 0)
    engine = make_engine(fleet.url)
    with write_session(engine) as s:  # twelve controllers that never answer, slow enough to be killed mid-way
        template = s.exec(select(Server)).first()
        for i in range(12):
            data = template.model_dump(exclude={"id"})
            # (no customer services: their checks would only add their own deadline to every sweep)
            data.update(hostname=f"slow{i}.test", asset_tag=f"AT-S{i}", serial=f"SN-S{i}", status="active",
                        controller_host="127.0.0.1", controller_port=free_port(), controller_protocol="snmp",
                        credential_ref="env:FLEET_DEMO_SNMP_COMMUNITY", service_host=None)  # fmt: skip
            s.add(Server(**data))
    engine.dispose()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleet", "sweep", "--db", fleet.url, "--timeout", "3", "--concurrency", "2"],
        cwd=REPO, env={**__import__("os").environ, **ENV}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    # Killed once the round is under way (its run recorded, its polls in flight: 12 dead controllers, 2 at a time,
    # take 18 s), not after a guessed sleep.
    deadline = time.monotonic() + 60
    while not _run_recorded(fleet.path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None and _run_recorded(fleet.path), "the sweep did not start its round"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    with sqlite3.connect(fleet.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    r = fleet_cli("sweep", "--db", fleet.url, "--timeout", "0.5", "--concurrency", "12")
    assert r.returncode == 3 and "12 unreachable" in r.stderr
    engine = make_engine(fleet.url)
    with read_session(engine) as s:
        runs = s.exec(select(SweepRun).order_by(SweepRun.id)).all()
    assert runs[-1].finished_at is not None and runs[-1].status == 3


def _run_recorded(path) -> bool:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM sweep_run WHERE finished_at IS NULL").fetchone()[0] > 0


def test_bad_arguments_and_a_missing_database_are_unknown(tmp_path):
    r = fleet_cli("sweep", "--db", str(tmp_path / "none.db"))
    assert r.returncode == 3 and r.stderr.startswith("fleet: no database")
    r = fleet_cli("sweep", "--concurrency", "0", "--db", str(tmp_path / "none.db"))
    assert r.returncode == 3 and "concurrency" in r.stderr
    r = fleet_cli("sweep", "--concurrency", "5000", "--db", str(tmp_path / "none.db"))  # not silently 1024
    assert r.returncode == 3 and r.stderr == "fleet: --concurrency must be between 1 and 1024\n"
    r = fleet_cli("sweep", "--every", "soon", "--db", str(tmp_path / "none.db"))
    assert r.returncode == 3 and "--every" in r.stderr
