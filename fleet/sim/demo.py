"""`fleet demo`: a throwaway copy of the sample fleet with simulated controllers on loopback and a few failing
parts, so that a newcomer sees fault -> spare -> swap -> verify within a minute of installing.

Everything lives in a temporary folder (the database, the customer mails) and is removed on exit. The simulated
BMCs and SNMP agents listen on 127.10.x.y only; the secrets they share with the sweep are random per run and travel
through this process's environment, never a command line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from fleet.clock import utcnow
from fleet.config import Settings, load_settings
from fleet.errors import FleetError
from fleet.sim.process import STOP_GRACE_S, SimProcess, sigint_ignored
from fleet.store.db import make_engine, read_session, write_session
from fleet.store.migrate import upgrade
from fleet.store.models import Outage, Server, SweepRun

QUIET_TRACKER = "ignore:resource_tracker:UserWarning"
DEMO_INTERVAL_S = 20.0  # sweeps in the demo come faster than the SLA's 5 minutes, so the story moves
# The demo's outage script: one server's uplink has been cut for this long when the demo starts (so its credit line
# shows at once: an outage earns credit after an hour), and another server's web server answers 503.
NETWORK_CUT_AGO = timedelta(minutes=75)
WATCHED_BEFORE = timedelta(hours=2)  # the demo starts as if monitoring had swept every 5 minutes for this long
REDFISH_PORT = 16443  # 443 + 16000, as the sample's other controllers
REDFISH_EVERY = 8  # one server in this many is read over Redfish (the newest racks have IPMI switched off)
PROTOCOLS = ("ipmi", "snmp", "redfish")  # one simulator process each, in this order
SERVICES = len(PROTOCOLS)  # then the process serving the customers' web pages and DNS


def use_redfish(engine: Engine, pin: str, *, every: int = REDFISH_EVERY) -> int:
    """Turn every `every`-th IPMI server of the sample into a Redfish one, its BMC's certificate pinned."""
    from fleet.store.db import write_session

    n = 0
    with write_session(engine) as session:
        servers = session.exec(select(Server).where(Server.controller_protocol == "ipmi").order_by(Server.id)).all()  # type: ignore[arg-type]
        for server in servers[::every]:
            server.controller_protocol, server.controller_port = "redfish", REDFISH_PORT
            server.controller_cert_sha256 = pin
            session.add(server)
            n += 1
    return n


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
        self.background = background  # sweep in a process of its own (off: the caller sweeps, as benchmarks do)
        self.engine: Engine | None = None
        self.settings: Settings | None = None
        self.sims: list[SimProcess] = []
        self.first: list[int] = []  # servers with a broken part: polled first
        self.outages: dict[str, str] = {}  # the outage script: hostname -> what happened
        self._sweeps = 0
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._wake_mp: Any = None
        self._count: Any = None

    def start(self) -> Demo:
        try:
            return self._start()
        except BaseException:  # a Ctrl+C or a failure half-way: what was started is stopped, the folder removed
            self.stop()
            raise

    def _start(self) -> Demo:
        from fleet.sim.sample import load_sample

        # The sweep's pools are killed, not closed: the resource tracker (started by our first child, with our
        # warning options) cleans up their semaphores, and need not warn about it on the terminal.
        if QUIET_TRACKER not in sys.warnoptions:
            sys.warnoptions.append(QUIET_TRACKER)

        self.folder.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(str(self.folder / "inventory.db"))
        upgrade(self.engine)
        load_sample(self.engine)
        from fleet.sim.tlscert import self_signed

        cert, key, pin = self_signed(self.folder)
        use_redfish(self.engine, pin)
        password, community = secrets.token_urlsafe(16), secrets.token_urlsafe(12)
        # The sample's credential references name these variables.
        os.environ["FLEET_DEMO_BMC_PASSWORD"] = password
        os.environ["FLEET_DEMO_SNMP_COMMUNITY"] = community
        self.settings = dataclasses.replace(
            load_settings(), outbox=str(self.folder / "outbox"), poll_timeout_s=10.0, sweep_concurrency=self.concurrency
        )
        url = self.engine.url.render_as_string(hide_password=False)
        # One process per protocol: on a small machine a single simulator process is the bottleneck of the demo's
        # sweep, and real controllers never share one either.
        tls = (str(cert), str(key))  # the Redfish BMCs' certificate; its fingerprint is pinned in their records
        self.sims = [
            SimProcess(url, users={"admin": password}, community=community, protocol=p, tls=tls).start()
            for p in PROTOCOLS
        ]
        # The customers' web and DNS servers, in a process of their own after the controllers' (index SERVICES).
        self.sims.append(SimProcess(url, users={}, community="", protocol="services").start())
        self.first = self._broken_servers()
        self.outages = self.script_outages(utcnow())
        if self.background:
            self._start_sweeper(url)
        return self

    def _broken_servers(self) -> list[int]:
        """The servers whose simulated parts were broken: the first sweep polls them first, so the story's faults
        are on screen within seconds of the start instead of at the end of a sweep of the whole fleet."""
        assert self.engine is not None
        broken = {hp for sim in self.sims for hp in sim.broken}
        with read_session(self.engine) as session:
            servers = session.exec(select(Server)).all()
            return [s.id for s in servers if s.id is not None and (s.controller_host, s.controller_port) in broken]

    def _start_sweeper(self, url: str) -> None:
        # The sweep runs in a process of its own, in its own process group, with its temporary files inside the
        # demo's folder: quitting kills the group at once (a sweep in
        # flight against simulators that are going away would hold the terminal for minutes), and removing the
        # folder leaves nothing behind. A Ctrl+C in the terminal reaches only this process.
        ctx = multiprocessing.get_context("spawn")
        tmp = self.folder / "tmp"
        tmp.mkdir(exist_ok=True)
        self._wake_mp = ctx.Event()
        self._count = ctx.Value("i", 0)
        args = (url, self.settings, self.interval_s, self.first, self._wake_mp, self._count)
        # Not a daemon (a daemonic process may not have children of its own); it never outlives the demo anyway:
        # stop() kills its group, and the CLI leaves with os._exit only after that.
        proc = ctx.Process(target=_sweep_forever, args=args, daemon=False, name="fleet-demo-sweep")
        before = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = str(tmp)
        try:
            with sigint_ignored():
                proc.start()
        finally:
            if before is None:
                os.environ.pop("TMPDIR", None)
            else:
                os.environ["TMPDIR"] = before
        self._proc = proc

    @property
    def sweeps(self) -> int:
        return int(self._count.value) if self._count is not None else self._sweeps

    def sweep_now(self) -> None:
        if self._wake_mp is not None:
            self._wake_mp.set()

    def cut_network(self, server_id: int, cut: bool = True) -> str:
        """The demo's network outage: the server's controller and its services stop answering (or come back)."""
        assert self.engine is not None
        with read_session(self.engine) as session:
            server = session.get(Server, server_id)
        if server is None or not self.sims:
            raise FleetError(f"no server {server_id}")
        if server.controller_protocol in PROTOCOLS:  # a server without a controller has only its services to cut
            self.sims[PROTOCOLS.index(server.controller_protocol)].cut(
                server.controller_host, cut, port=server.controller_port
            )
        if server.service_host:
            mode = "down" if cut else "up"
            self.sims[SERVICES].set_services(server.service_host, web=mode, dns=mode)
        return server.hostname

    def break_web(self, server_id: int, mode: str = "error") -> str:
        """The demo's service outage: the server's web server answers 503 ("error"), or "up" again."""
        assert self.engine is not None
        with read_session(self.engine) as session:
            server = session.get(Server, server_id)
        if server is None or not server.service_host or not self.sims:
            raise FleetError(f"no server {server_id} with services")
        self.sims[SERVICES].set_services(server.service_host, web=mode)
        return server.hostname

    def restore(self, server_id: int) -> str:
        """The server's network and its web and DNS servers answer again."""
        return self.cut_network(server_id, cut=False)

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
                       col(Server.controller_protocol).in_(("ipmi", "snmp")),
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

        if server.controller_protocol not in PROTOCOLS:
            return
        sim = self.sims[PROTOCOLS.index(server.controller_protocol)]
        # The simulator names slots its own way ("Disk 1", "PSU2"): match on the same key faults use.
        for name in sim.problems(server.controller_host, port=server.controller_port):
            if slot_key(name) == slot_key(slot):
                sim.repair(server.controller_host, name, serial=serial, port=server.controller_port)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.pid is not None:
            # The sweep's whole group (it and anything it started) goes at once: nothing of it is needed.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.kill()  # still starting (no group of its own yet, so nothing of its own started either)
        for sim in self.sims:
            sim.request_stop()
        deadline = time.monotonic() + STOP_GRACE_S
        for sim in self.sims:
            sim.wait_stopped(deadline)
        self.sims = []
        if proc is not None:
            proc.join(1)
        if self.engine is not None:
            self.engine.dispose()
        os.environ.pop("FLEET_DEMO_BMC_PASSWORD", None)
        os.environ.pop("FLEET_DEMO_SNMP_COMMUNITY", None)
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        else:
            shutil.rmtree(self.folder / "tmp", ignore_errors=True)

    def __enter__(self) -> Demo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _sweep_forever(url: str, settings: Settings, interval_s: float, first: list[int], wake: Any, count: Any) -> None:
    """The demo's background sweep (a child process): a round, then wait for the interval or a wake-up."""
    os.setpgid(0, 0)  # a group of its own: the demo ends it, and whatever it started, with one signal
    # Its messages go to a log in the demo folder: on the terminal they would scribble over the console.
    log = os.open(
        os.path.join(os.environ.get("TMPDIR", "."), "sweep.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600
    )
    os.dup2(log, 2)
    from fleet.sweep.run import run_sweep

    engine = make_engine(url)
    while True:
        try:
            run_sweep(engine, settings, first=first)
            first = []
        except Exception as exc:  # the demo keeps going; the console shows the sweep's age
            print(f"fleet demo: sweep failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                  file=sys.stderr)  # fmt: skip
        with count.get_lock():
            count.value += 1
        wake.wait(interval_s)
        wake.clear()
