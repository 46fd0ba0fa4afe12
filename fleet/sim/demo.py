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
from pathlib import Path

from sqlalchemy import Engine

from fleet.config import Settings, load_settings
from fleet.sim.process import SimProcess
from fleet.store.db import make_engine, read_session
from fleet.store.migrate import upgrade
from fleet.store.models import Server

DEMO_INTERVAL_S = 20.0  # sweeps in the demo come faster than the SLA's 5 minutes, so the story moves
REDFISH_PORT = 16443  # 443 + 16000, as the sample's other controllers
REDFISH_EVERY = 8  # one server in this many is read over Redfish (the newest racks have IPMI switched off)


def use_redfish(engine: Engine, pin: str, *, every: int = REDFISH_EVERY) -> int:
    """Turn every `every`-th IPMI server of the sample into a Redfish one, its BMC's certificate pinned."""
    from sqlmodel import select

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
        self.background = background  # sweep in a thread of its own (off: the caller sweeps, as benchmarks do)
        self.engine: Engine | None = None
        self.settings: Settings | None = None
        self.sims: dict[str, SimProcess] = {}
        self.sweeps = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.on_sweep: Callable[[], None] | None = None

    def start(self) -> Demo:
        from fleet.sim.sample import load_sample

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
        tls = (str(cert), str(key))
        self.sims = {
            p: SimProcess(url, users={"admin": password}, community=community, protocol=p, tls=tls).start()
            for p in ("ipmi", "snmp", "redfish")
        }
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

    def repair(self, server_id: int, slot: str, serial: str | None) -> None:
        """What the technician's hands do in the demo: the simulated part is replaced, with its new serial."""
        if not self.sims or self.engine is None:
            return
        with read_session(self.engine) as session:
            server = session.get(Server, server_id)
        if server is None:
            return
        from fleet.health.slots import slot_key

        sim = self.sims.get(server.controller_protocol)
        if sim is None:
            return
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
        for sim in self.sims.values():
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
