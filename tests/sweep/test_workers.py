"""Several `fleet sweep --worker` processes on one PostgreSQL share a round: each server polled exactly once, and a
worker killed mid-round leaves nothing locked or lost. The controllers are loopback ports with nothing behind them:
every poll is a real UDP exchange that times out, which is all the claiming logic needs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import update
from sqlmodel import select

from fleet.store.db import make_engine, read_session, write_session
from fleet.store.migrate import upgrade
from fleet.store.models import Server
from tests.conftest import REPO, free_port
from tests.factories import make_fleet
from tests.sweep.conftest import ENV

pytestmark = pytest.mark.postgres
N = 40


def prepare(url: str) -> set[str]:
    engine = make_engine(url)
    upgrade(engine)
    make_fleet(engine, servers=N)
    with write_session(engine) as s:
        for server in s.exec(select(Server)).all():
            server.controller_protocol = "snmp"
            server.controller_port = free_port()
            server.credential_ref = "env:FLEET_DEMO_SNMP_COMMUNITY"
            s.add(server)
    with read_session(engine) as s:
        hosts = {x.hostname for x in s.exec(select(Server))}
    engine.dispose()
    return hosts


def worker(url: str, out, timeout: str = "0.3", concurrency: str = "4") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "fleet", "sweep", "--worker", "--db", url, "--timeout", timeout,
         "--concurrency", concurrency, "--json", str(out)],
        cwd=REPO, env={**os.environ, **ENV}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_three_workers_poll_each_server_exactly_once(pg_url, tmp_path):
    hosts = prepare(pg_url)
    procs = [worker(pg_url, tmp_path / f"w{i}.json") for i in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 3, err  # every controller dead: unknown, not a crash
    shares = [json.loads((tmp_path / f"w{i}.json").read_text())["swept"] for i in range(3)]
    everything = [h for share in shares for h in share]
    assert sorted(everything) == sorted(hosts)  # each exactly once: no duplicate, none forgotten
    assert sum(1 for share in shares if share) >= 2  # the round really was shared


def test_a_killed_worker_leaves_its_servers_to_the_others(pg_url, tmp_path):
    hosts = prepare(pg_url)
    slow = worker(pg_url, tmp_path / "slow.json", timeout="8", concurrency="5")
    engine = make_engine(pg_url)
    deadline = time.monotonic() + 30
    visible = N
    while visible != N - 5 and time.monotonic() < deadline:
        time.sleep(0.2)
        with write_session(engine) as s:  # what another worker could claim right now
            visible = len(s.exec(select(Server).with_for_update(skip_locked=True)).all())
    assert visible == N - 5  # the slow worker holds a batch of five, waiting on dead controllers
    slow.send_signal(signal.SIGKILL)
    slow.wait(10)
    rescue = worker(pg_url, tmp_path / "rescue.json")
    _, err = rescue.communicate(timeout=180)
    assert rescue.returncode == 3, err
    swept = json.loads((tmp_path / "rescue.json").read_text())["swept"]
    assert sorted(swept) == sorted(hosts)  # the killed worker's batch was not lost
    # Nothing is left locked: a plain update goes through at once.
    with write_session(engine) as s:
        s.execute(update(Server).values(status="active"))
    engine.dispose()
