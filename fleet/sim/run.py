"""Start and stop a fleet of simulated controllers: many BMCs and SNMP agents on one asyncio loop in one thread.

    fleet = start_simulators(servers, users={"admin": password}, community=community)
    fleet.inject("127.0.1.7", "PSU2", "failed")
    ...
    fleet.stop()

Each controller has its own UDP socket on its own loopback address and port; all of them are served by one event
loop (level-triggered readers for the BMCs, datagram endpoints for the agents), so 300 BMCs cost one thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from fleet.clock import Clock, utcnow
from fleet.errors import FleetError, InputError
from fleet.sim.faults import Change, MachineState, Problem
from fleet.sim.layout import SimServer

log = logging.getLogger(__name__)


class SimFleet:
    """The running simulators, addressed by controller host (or host:port when a host has several)."""

    def __init__(
        self,
        servers: Iterable[SimServer],
        *,
        users: Mapping[str, str] | None = None,
        community: str | None = None,
        clock: Clock = utcnow,
        tls: tuple[str, str] | None = None,
    ) -> None:
        self.servers = list(servers)
        seen: set[str] = set()
        for s in self.servers:
            if s.key in seen:
                raise InputError(f"two simulated controllers on {s.key}")
            seen.add(s.key)
        if any(s.protocol in ("ipmi", "redfish") for s in self.servers) and not users:
            raise InputError("simulated BMCs need at least one user (users={'admin': password})")
        if any(s.protocol == "snmp" for s in self.servers) and not community:
            raise InputError("simulated SNMP agents need a community")
        self.users = dict(users or {})
        self.community = community or ""
        self.states = {s.key: MachineState(s, clock) for s in self.servers}
        self.tls = tls  # (certificate, key) files the simulated Redfish BMCs present; None: plain HTTP
        self.redfish: dict[str, Any] = {}  # key -> SimRedfish
        self._bmcs: list[Any] = []
        self._transports: list[asyncio.DatagramTransport] = []
        self._agent_by_key: dict[str, asyncio.DatagramTransport] = {}
        self._bmc_by_key: dict[str, Any] = {}
        self.cut_off: set[str] = set()  # controllers whose network is cut: they receive nothing
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.started_in: float | None = None  # seconds the last start took

    # --- addressing -------------------------------------------------------------------------------------------

    def state(self, host: str, port: int | None = None) -> MachineState:
        """The machine behind a controller address. `host` may also be 'host:port'."""
        if port is None and host.count(":") == 1:
            host, _, text = host.partition(":")
            port = int(text)
        matches = [st for st in self.states.values() if st.server.host == host and port in (None, st.server.port)]
        if not matches:
            raise InputError(f"no simulated controller at {host}{f':{port}' if port else ''}")
        if len(matches) > 1:
            raise InputError(f"several simulated controllers at {host}: give the port too")
        return matches[0]

    def inject(self, host: str, slot: str, problem: Problem | str, *, port: int | None = None) -> Change:
        """Make a part fail, e.g. inject("127.0.1.7", "PSU2", "failed"). Both the BMC (sensors, a new SEL entry) and
        the SNMP agent (status columns) show it from the next request on."""
        return self.state(host, port).inject(slot, problem)

    def repair(self, host: str, slot: str, *, serial: str | None = None, port: int | None = None) -> Change | None:
        """Clear a part's problem; `serial`: the replacement's serial, which FRU/inventory reports from now on."""
        return self.state(host, port).repair(slot, serial)

    # --- lifecycle ------------------------------------------------------------------------------------------------

    async def astart(self) -> None:
        """Open every socket on the running loop. On any failure nothing stays open."""
        from fleet.sim.agent import SnmpAgent
        from fleet.sim.bmc import SimBmc

        loop = asyncio.get_running_loop()
        self._loop = loop
        began = time.perf_counter()
        try:
            for st in self.states.values():
                server = st.server
                if server.protocol == "redfish":
                    await self._start_redfish(st)
                elif server.protocol == "ipmi":
                    try:
                        bmc = SimBmc(st, self.users)
                    except OSError as exc:
                        raise FleetError(
                            f"cannot listen on {server.key}/udp for a simulated BMC: {exc.strerror}"
                        ) from None
                    self._bmcs.append(bmc)
                    self._bmc_by_key[server.key] = bmc
                    loop.add_reader(bmc.serversocket.fileno(), bmc.read_ready)
                else:
                    agent = SnmpAgent(st, self.community)
                    try:
                        transport, _ = await loop.create_datagram_endpoint(
                            functools.partial(_itself, agent), local_addr=(server.host, server.port)
                        )
                    except OSError as exc:
                        raise FleetError(
                            f"cannot listen on {server.key}/udp for a simulated agent: {exc.strerror}"
                        ) from None
                    self._transports.append(transport)
                    self._agent_by_key[server.key] = transport
        except BaseException:
            await self.astop()
            raise
        self.started_in = time.perf_counter() - began

    def cut(self, host: str, cut: bool = True, *, port: int | None = None) -> None:
        """Cut (or restore) the network of one controller: it stops reading requests, as behind a dead switch port.
        Requests sent meanwhile wait in the socket and may be answered late, like a network that comes back."""
        key = self.state(host, port).server.key
        loop = self._loop
        if loop is None:
            raise FleetError("the simulators are not running")

        def apply() -> None:
            if key in self._bmc_by_key:
                fd = self._bmc_by_key[key].serversocket.fileno()
                if cut:
                    loop.remove_reader(fd)
                else:
                    loop.add_reader(fd, self._bmc_by_key[key].read_ready)
            elif key in self._agent_by_key:
                transport = self._agent_by_key[key]
                (transport.pause_reading if cut else transport.resume_reading)()  # type: ignore[attr-defined]

        if cut == (key in self.cut_off):
            return
        loop.call_soon_threadsafe(apply)
        (self.cut_off.add if cut else self.cut_off.discard)(key)

    async def _start_redfish(self, st: MachineState) -> None:
        import ssl

        from fleet.sim.redfish import SimRedfish

        ctx = None
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
        bmc = SimRedfish(st, self.users, ctx)
        try:
            await bmc.start()
        except OSError as exc:
            where = st.server.key
            raise FleetError(f"cannot listen on {where}/tcp for a simulated Redfish BMC: {exc.strerror}") from None
        self.redfish[st.server.key] = bmc

    async def astop(self) -> None:
        loop = asyncio.get_running_loop()
        for rf in self.redfish.values():
            rf.close()
        self.redfish.clear()
        for bmc in self._bmcs:
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(bmc.serversocket.fileno())
            bmc.close()
        self._bmcs.clear()
        for transport in self._transports:
            transport.close()
        self._transports.clear()
        self._agent_by_key.clear()
        self._bmc_by_key.clear()

    def start(self) -> SimFleet:
        """Serve on a new daemon thread with its own event loop; returns once every socket listens."""
        if self._thread is not None:
            raise FleetError("simulators already running")
        began = time.perf_counter()
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()
            loop.close()

        thread = threading.Thread(target=run, name="fleet-sim", daemon=True)
        thread.start()
        ready.wait()
        self._thread = thread
        try:
            asyncio.run_coroutine_threadsafe(self.astart(), loop).result()
        except BaseException:
            self._stop_loop(loop, thread)
            raise
        self.started_in = time.perf_counter() - began
        return self

    def stop(self) -> None:
        """Close every socket and end the thread. Safe to call twice."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.astop(), loop).result(timeout=10)
        finally:
            self._stop_loop(loop, thread)

    def _stop_loop(self, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> SimFleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _itself(agent: Any) -> Any:
    # The endpoint's protocol factory: the agent object is its own protocol.
    return agent


def _bind_error(where: str, what: str, exc: OSError) -> FleetError:
    return FleetError(f"cannot listen on {where}/udp for a simulated {what}: {exc.strerror or exc}")


def start_simulators(
    servers: Iterable[SimServer],
    *,
    users: Mapping[str, str] | None = None,
    community: str | None = None,
    clock: Clock = utcnow,
    tls: tuple[str, str] | None = None,
) -> SimFleet:
    """Start every simulated controller on one background thread; `stop()` (or a `with` block) ends them."""
    return SimFleet(servers, users=users, community=community, clock=clock, tls=tls).start()
