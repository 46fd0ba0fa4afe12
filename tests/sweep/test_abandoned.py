"""A sweep killed with SIGKILL cannot write its finish: the next sweep marks its run abandoned, so the dashboard
stops saying "running" for ever. The controllers are loopback ports with nothing behind them, so the killed sweep
is truly in the middle of polling (waiting on UDP) when it dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

from sqlmodel import select

from fleet.clock import utcnow
from fleet.store.db import make_engine, read_session, write_session
from fleet.store.migrate import upgrade
from fleet.store.models import Server, SweepRun
from fleet.sweep.runs import ABANDON_AFTER, mark_abandoned
from fleet.views.dashboard import load_dashboard
from tests.conftest import REPO, free_port
from tests.factories import make_fleet
from tests.sweep.conftest import ENV


def dead_fleet(path) -> None:
    engine = make_engine(str(path))
    upgrade(engine)
    make_fleet(engine, servers=4)
    with write_session(engine) as s:
        for server in s.exec(select(Server)).all():
            server.controller_protocol = "snmp"
            server.controller_port = free_port()
            server.credential_ref = "env:FLEET_DEMO_SNMP_COMMUNITY"
            s.add(server)
    engine.dispose()


def runs(engine) -> list[SweepRun]:
    with read_session(engine) as s:
        return list(s.exec(select(SweepRun).order_by(SweepRun.id)).all())


def sweep(db, timeout: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "fleet", "sweep", "--db", str(db), "--timeout", timeout],
        cwd=REPO, env={**os.environ, **ENV}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_a_killed_sweep_is_marked_abandoned_by_the_next(tmp_path):
    db = tmp_path / "inv.db"
    dead_fleet(db)
    engine = make_engine(str(db))
    killed = sweep(db, timeout="60")
    deadline = time.monotonic() + 60
    while not runs(engine) and time.monotonic() < deadline:  # its run row is written before it polls
        assert killed.poll() is None, killed.stderr.read() if killed.stderr else ""
        time.sleep(0.05)
    (run,) = runs(engine)
    assert run.pid == killed.pid and run.finished_at is None
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    with read_session(engine) as s:
        assert load_dashboard(s, now=utcnow()).last_sweep.state == "running"  # what the dashboard said for ever
    nxt = sweep(db, timeout="0.3")
    _, err = nxt.communicate(timeout=180)
    assert nxt.returncode == 3, err  # dead controllers: unknown
    first, second = runs(engine)
    assert first.abandoned and first.finished_at is not None
    assert second.finished_at is not None and not second.abandoned
    assert f"sweep runs [{first.id}] ended without finishing" in err
    engine.dispose()


def test_a_live_run_is_left_alone_and_another_machines_only_when_old(tmp_path):
    engine = make_engine(str(tmp_path / "inv.db"))
    upgrade(engine)
    now = utcnow()
    mine = os.getppid()  # alive, and not this process
    with write_session(engine) as s:
        s.add_all([
            SweepRun(started_at=now, host=os.uname().nodename, pid=mine),  # alive here
            SweepRun(started_at=now - timedelta(minutes=5), host="other-site", pid=1),  # another machine, recent
            SweepRun(started_at=now - ABANDON_AFTER - timedelta(minutes=1), host="other-site", pid=1),  # old
        ])  # fmt: skip
    with write_session(engine) as s:
        marked = mark_abandoned(s, now)
    assert marked == [3]
    assert [r.abandoned for r in runs(engine)] == [False, False, True]
