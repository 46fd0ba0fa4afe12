"""A sweep of a few dozen BMCs reads every live one: `fleet sweep` (the entry point cron runs, in its own process)
over fleet's own simulated BMCs behind the latency relay, with more BMCs than it polls at once, so that polls are
admitted while others are in flight (where a client short of CPU would let pyghmi's retry timers fire for replies
that have arrived), and a few dead ones among them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert

from fleet.store.db import make_engine, write_session
from fleet.store.migrate import upgrade
from fleet.store.models import Server, ServerModel, Site
from tests.ipmi.simnet import SimNet
from tests.sweep.conftest import fleet_cli

LIVE, DEAD = 24, 3
CONCURRENCY = 12  # half the live BMCs: the sweep admits new polls while others run
# The deadlines are generous for a live poll: a first poll of a simulated BMC downloads its SDR and reads its FRU
# (about 100 requests), and on a loaded 2-core machine the simulators answer in 50-150 ms, not the relay's 5-10 ms:
# 15 s at worst, twice that allowed. A second poll reads the sensors only (the SDR cached, the SEL from its cursor):
# a third of the requests. Each dead BMC costs its round's deadline, which is most of this test's time. (On an idle
# machine the 24 live polls take 3 s cold and 1 s warm, all of them.)
TIMEOUT_S = {"first": 30, "second": 12}
PASSWORD = "sweep-many-pw"


@pytest.fixture(scope="module")
def net() -> Iterator[SimNet]:
    with SimNet(LIVE, dead=DEAD, procs=2, rtt_ms="5-10", password=PASSWORD) as n:
        yield n


def _fleet_db(path: Path, net: SimNet) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    with write_session(engine) as s:
        site = Site(code="SIM", name="Simulated", timezone="UTC")
        model = ServerModel(vendor="Generic", name="simulated ipmi", psu_count=2)
        s.add_all([site, model])
        s.flush()
        s.execute(insert(Server), [
            {"hostname": f"bmc{i:02d}.{'dead' if i >= LIVE else 'live'}", "asset_tag": f"A{i}", "serial": f"S{i}",
             "model_id": model.id, "site_id": site.id, "rack": "R1", "unit": 1, "controller_host": t.host,
             "controller_port": t.port, "controller_protocol": "ipmi", "controller_user": "admin",
             "credential_ref": "env:SWEEP_MANY_BMC_PASSWORD"}
            for i, t in enumerate(net.targets())
        ])  # fmt: skip
    engine.dispose()
    return url


def test_sweep_reads_every_live_bmc_and_dead_ones_cost_their_deadline(net: SimNet, tmp_path: Path) -> None:
    url = _fleet_db(tmp_path / "fleet.db", net)
    env = {"SWEEP_MANY_BMC_PASSWORD": PASSWORD, "FLEET_SDR_CACHE_DIR": str(tmp_path / "sdr")}
    argv = ("sweep", "--db", url, "--json", "-", "--concurrency", str(CONCURRENCY))
    for rnd, deadline in TIMEOUT_S.items():  # cold (SDR and FRU read), then warm (cursors and the SDR cache on disk)
        r = fleet_cli(*argv, "--timeout", str(deadline), env=env, timeout=600)
        report = json.loads(r.stdout)
        assert report["servers"] == LIVE + DEAD, r.stderr
        assert report["polled"] == LIVE, (rnd, report["unreachable"])
        assert report["unreachable"] == [
            {"server": f"bmc{i:02d}.dead", "error": "timeout"} for i in range(LIVE, LIVE + DEAD)
        ], rnd
        # Every dead BMC holds one of the 12 places for its deadline and no longer, side by side with the live
        # ones: the whole poll phase stays under two deadlines (three dead BMCs costing more than their deadline,
        # or each other's, would take three).
        assert report["poll_seconds"]["wall"] < 2 * deadline, (rnd, report["poll_seconds"])
        assert PASSWORD not in r.stdout + r.stderr
