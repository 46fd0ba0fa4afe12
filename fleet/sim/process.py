"""The simulators in a process of their own, driven over a pipe.

In one process with the sweep, the simulated BMCs and agents would share the interpreter lock with the collectors
that poll them: both slow down and polls time out. A child process keeps the demo honest: the sweep talks to its
controllers over loopback sockets only, exactly as it talks to real ones.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

from fleet.errors import FleetError


def _serve(
    conn: Connection,
    db_url: str,
    users: dict[str, str],
    community: str,
    story: bool,
    protocol: str | None,
    tls: tuple[str, str] | None = None,
) -> None:
    from fleet.sim.inventory import simulated_servers
    from fleet.sim.run import start_simulators
    from fleet.sim.scenario import inject_demo_faults
    from fleet.store.db import make_engine, read_session

    try:
        # The servers are read here, from the database, rather than pickled across: what the demo simulates is
        # exactly what the database says is there.
        engine = make_engine(db_url)
        sim: Any
        broken: list[tuple[str, int]] = []
        if protocol == "services":
            from fleet.sim.services import ServiceSim, simulated_services

            with read_session(engine) as session:
                sim = ServiceSim(simulated_services(session)).start()
            engine.dispose()
            injected = 0
        else:
            with read_session(engine) as session:
                servers = [s for s in simulated_servers(session) if protocol is None or s.protocol == protocol]
            engine.dispose()
            sim = start_simulators(servers, users=users, community=community, tls=tls)
            injected = len(inject_demo_faults(sim)) if story else 0
            broken = [(s.host, s.port) for s in sim.servers if sim.state(s.host, port=s.port).problems()]
    except Exception as exc:  # reported to the parent as one line
        conn.send(("error", str(exc)))
        return
    conn.send(("ready", (injected, broken)))
    try:
        while True:
            try:
                op, args, kwargs = conn.recv()
            except EOFError:  # the parent is gone
                break
            if op == "stop":
                break
            try:
                if op == "problems":
                    value: Any = {k: str(v) for k, v in sim.state(*args, **kwargs).problems().items()}
                else:
                    getattr(sim, op)(*args, **kwargs)
                    value = None
                conn.send(("ok", value))
            except Exception as exc:
                conn.send(("error", str(exc)))
    finally:
        sim.stop()


class SimProcess:
    """Simulated controllers served by a child process; inject, repair and look at problems from here."""

    def __init__(
        self,
        db_url: str,
        *,
        users: dict[str, str],
        community: str,
        story: bool = True,
        protocol: str | None = None,
        tls: tuple[str, str] | None = None,
    ):
        self.db_url = db_url
        self.protocol = protocol  # only the servers polled over this protocol (None: all; "services": web and DNS)
        self.users = users
        self.community = community
        self.story = story
        self.tls = tls  # (certificate, key) files for simulated Redfish BMCs
        self.injected = 0
        self.broken: list[tuple[str, int]] = []  # (host, port) of the controllers with an injected problem
        self._conn: Connection | None = None
        self._proc: multiprocessing.process.BaseProcess | None = None
        # One request and its answer at a time on the pipe: the console's actions run in worker threads, and two
        # of them at once would otherwise read each other's answers.
        self._lock = threading.Lock()

    def start(self, timeout: float = 60.0) -> SimProcess:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        # Secrets travel through the pipe, never on a command line.
        args = (child, self.db_url, self.users, self.community, self.story, self.protocol, self.tls)
        proc = ctx.Process(target=_serve, args=args, daemon=True, name="fleet-sim")
        with sigint_ignored():
            proc.start()  # Ctrl+C is the parent's to handle: the simulators never print a KeyboardInterrupt
        child.close()
        if not parent.poll(timeout):
            proc.kill()
            raise FleetError("the simulated controllers did not start in time")
        status, value = parent.recv()
        if status != "ready":
            proc.join(5)
            raise FleetError(str(value))
        injected, broken = value
        self.injected, self.broken = int(injected), [(str(h), int(p)) for h, p in broken]
        self._conn, self._proc = parent, proc
        return self

    def _call(self, op: str, *args: Any, **kwargs: Any) -> Any:
        if self._conn is None:
            raise FleetError("the simulators are not running")
        with self._lock:
            self._conn.send((op, args, kwargs))
            status, value = self._conn.recv()
        if status != "ok":
            raise FleetError(str(value))
        return value

    def inject(self, host: str, slot: str, problem: str, *, port: int | None = None) -> None:
        self._call("inject", host, slot, problem, port=port)

    def repair(self, host: str, slot: str, *, serial: str | None = None, port: int | None = None) -> None:
        self._call("repair", host, slot, serial=serial, port=port)

    def cut(self, host: str, cut: bool = True, *, port: int | None = None) -> None:
        """Cut (or restore) one controller's network."""
        self._call("cut", host, cut, port=port)

    def set_services(self, host: str, *, web: str | None = None, dns: str | None = None) -> None:
        """Simulated services only: "up", "error" or "down" for a server's web and DNS."""
        self._call("set", host, web=web, dns=dns)

    def problems(self, host: str, *, port: int | None = None) -> dict[str, str]:
        return dict(self._call("problems", host, port=port))

    def stop(self) -> None:
        self.request_stop()
        self.wait_stopped(time.monotonic() + STOP_GRACE_S)

    def request_stop(self) -> None:
        """Ask the simulators to stop (several can be asked at once, then waited for together)."""
        if self._conn is not None:
            with contextlib.suppress(OSError, BrokenPipeError):
                self._conn.send(("stop", (), {}))
            self._conn.close()
            self._conn = None

    def wait_stopped(self, deadline: float) -> None:
        """Wait for the process until `deadline` (time.monotonic()), then kill it."""
        if self._proc is not None:
            self._proc.join(max(0.0, deadline - time.monotonic()))
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join(1)
            self._proc = None


STOP_GRACE_S = 0.8  # quitting the demo must feel instant: a simulator that does not stop by then is killed


@contextlib.contextmanager
def sigint_ignored() -> Iterator[None]:
    """Start children with SIGINT ignored: a spawned Python keeps an ignored SIGINT ignored, so a Ctrl+C in the
    terminal reaches only the parent, which stops them in order."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
