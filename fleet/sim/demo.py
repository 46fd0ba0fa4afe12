"""`fleet demo`: a throwaway copy of the sample fleet with simulated controllers on loopback and a few failing
parts, so that a newcomer sees fault -> spare -> swap -> verify within a minute of installing.

Everything lives in a temporary folder (the database, the customer mails) and is removed on exit. The simulated
BMCs and SNMP agents listen on 127.10.x.y only; the secrets they share with the sweep are random per run and travel
through this process's environment, never a command line.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import col, select

from fleet.clock import utcnow
from fleet.config import Settings, load_settings
from fleet.errors import FleetError
from fleet.sim.process import SimProcess
from fleet.store.db import make_engine, read_session, write_session
from fleet.store.migrate import upgrade
from fleet.store.models import Outage, Server, SweepRun

DEMO_INTERVAL_S = 20.0  # sweeps in the demo come faster than the SLA's 5 minutes, so the story moves
# The demo's outage script: one server's uplink has been cut for this long when the demo starts (so its credit line
# shows at once: an outage earns credit after an hour), and another server's web server answers 503.
NETWORK_CUT_AGO = timedelta(minutes=75)
WATCHED_BEFORE = timedelta(hours=2)  # the demo starts as if monitoring had swept every 5 minutes for this long


class Demo:
    """The demo's world: database, simulators and a background sweep. Use as a context manager."""

    def __init__(
        self,
        *,
        folder: Path | None = None,
        interval_s: float = DEMO_INTERVAL_S,
        concurrency: int = 8,
        background: bool = True,
    ) -> None:
        self.own_folder = folder is None
        self.folder = folder or Path(tempfile.mkdtemp(prefix="fleet-demo-"))
        self.interval_s = interval_s
        self.concurrency = concurrency
        self.background = background  # sweep in a thread of its own (off: the caller sweeps, as benchmarks do)
        self.engine: Engine | None = None
        self.settings: Settings | None = None
        self.sims: list[SimProcess] = []
        self.sweeps = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.on_sweep: Callable[[], None] | None = None
        self.outages: dict[str, str] = {}

    def start(self) -> Demo:
        from fleet.sim.sample import load_sample

        self.folder.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(str(self.folder / "inventory.db"))
        upgrade(self.engine)
        load_sample(self.engine)
        password, community = secrets.token_urlsafe(16), secrets.token_urlsafe(12)
        # The sample's credential references name these variables.
        os.environ["FLEET_DEMO_BMC_PASSWORD"] = password
        os.environ["FLEET_DEMO_SNMP_COMMUNITY"] = community
        self.settings = dataclasses.replace(
            load_settings(), outbox=str(self.folder / "outbox"), poll_timeout_s=10.0, sweep_concurrency=self.concurrency
        )
        url = self.engine.url.render_as_string(hide_password=False)
        # One process for the BMCs and one for the SNMP agents: on a small machine a single simulator process is
        # the bottleneck of the demo's sweep, and real controllers never share one either.
        self.sims = [
            SimProcess(url, users={"admin": password}, community=community, protocol=p).start()
            for p in ("ipmi", "snmp", "services")
        ]
        self.outages = self.script_outages(utcnow())
        if self.background:
            self._thread = threading.Thread(target=self._sweeper, name="demo-sweep", daemon=True)
            self._thread.start()
        return self

    def sweep_now(self) -> None:
        self._wake.set()

    def _sweeper(self) -> None:
        from fleet.sweep.run import run_sweep

        assert self.engine is not None and self.settings is not None
        while not self._stop.is_set():
            try:
                run_sweep(self.engine, self.settings)
                self.sweeps += 1
                self.last_error = None
            except Exception as exc:  # the demo keeps going; the console shows the sweep's age
                self.last_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if self.on_sweep:
                self.on_sweep()
            self._wake.wait(self.interval_s)
            self._wake.clear()

    def cut_network(self, server_id: int, cut: bool = True) -> str:
        """The demo's network outage: the server's controller and its services stop answering (or come back)."""
        assert self.engine is not None
        with read_session(self.engine) as session:
            server = session.get(Server, server_id)
        if server is None or not self.sims:
            raise FleetError(f"no server {server_id}")
        self.sims[0 if server.controller_protocol == "ipmi" else 1].cut(
            server.controller_host, cut, port=server.controller_port
        )
        if server.service_host:
            mode = "down" if cut else "up"
            self.sims[2].set_services(server.service_host, web=mode, dns=mode)
        return server.hostname

    def break_web(self, server_id: int, mode: str = "error") -> str:
        """The demo's service outage: the server's web server answers 503 ("error"), or "up" again."""
        assert self.engine is not None
        with read_session(self.engine) as session:
            server = session.get(Server, server_id)
        if server is None or not server.service_host or not self.sims:
            raise FleetError(f"no server {server_id} with services")
        self.sims[2].set_services(server.service_host, web=mode)
        return server.hostname

    def script_outages(self, now: datetime) -> dict[str, str]:
        """The outage part of the demo's story. The first monitored dedicated server's uplink was cut
        NETWORK_CUT_AGO before the demo started (monitoring swept every 5 minutes over WATCHED_BEFORE and opened
        its outages then): a network outage with a credit line. The second one's web server fails now: a service
        outage, shown without credit. Returns {hostname: what happened}."""
        assert self.engine is not None
        with read_session(self.engine) as session:
            picks = session.exec(
                select(Server)
                .where(col(Server.service_host).is_not(None), Server.plan == "dedicated",
                       col(Server.customer_id).is_not(None), Server.status == "active")
                .order_by(col(Server.id))
                .limit(2)
            ).all()  # fmt: skip
        if len(picks) < 2:
            return {}
        cut, web = picks
        assert cut.id is not None and web.id is not None
        since = now - NETWORK_CUT_AGO
        with write_session(self.engine) as session:
            t = now - WATCHED_BEFORE
            while t < now:
                session.add(SweepRun(started_at=t, finished_at=t, worker="demo-history"))
                t += timedelta(minutes=5)
            for service in ("web", "dns"):
                session.add(Outage(server_id=cut.id, service=service, start_at=since, cause="network"))
        return {self.cut_network(cut.id): "network cut", self.break_web(web.id): "web server fails (503)"}

    def repair(self, server_id: int, slot: str, serial: str | None) -> None:
        """What the technician's hands do in the demo: the simulated part is replaced, with its new serial."""
        if not self.sims or self.engine is None:
            return
        with read_session(self.engine) as session:
            server = session.get(Server, server_id)
        if server is None:
            return
        from fleet.health.slots import slot_key

        sim = self.sims[0 if server.controller_protocol == "ipmi" else 1]
        # The simulator names slots its own way ("Disk 1", "PSU2"): match on the same key faults use.
        for name in sim.problems(server.controller_host, port=server.controller_port):
            if slot_key(name) == slot_key(slot):
                sim.repair(server.controller_host, name, serial=serial, port=server.controller_port)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            # A sweep in flight is not waited for: quitting the demo should feel instant; the thread is a daemon.
            self._thread.join(timeout=2)
        for sim in self.sims:
            sim.stop()
        if self.engine is not None:
            self.engine.dispose()
        os.environ.pop("FLEET_DEMO_BMC_PASSWORD", None)
        os.environ.pop("FLEET_DEMO_SNMP_COMMUNITY", None)
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Demo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
