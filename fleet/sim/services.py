"""Simulated customer services: a small web page and a DNS server per server, on its loopback service address.

    sim = ServiceSim([SimService("127.20.1.7", "par1-r650-007.hosting.example.net", 18080, 18053)]).start()
    sim.set("127.20.1.7", web="error")   # the web server answers 503
    sim.set("127.20.1.7", web="down", dns="down")   # nothing answers (a cut cable, a crashed host)
    sim.stop()

The web server speaks HTTP/1.1 (one request per connection) and the DNS server answers A queries for the server's
name with its address (dnspython builds the answers). All of it runs on one event loop in one thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, cast

import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
from sqlmodel import Session, col, select

from fleet.errors import FleetError
from fleet.store.models import Server

Mode = Literal["up", "error", "down"]  # answers, answers with an error (HTTP 503, DNS SERVFAIL), does not answer


@dataclass(frozen=True)
class SimService:
    host: str
    name: str
    web_port: int | None
    dns_port: int | None


def simulated_services(session: Session) -> list[SimService]:
    """The services of every server (not decommissioned) that has a service address, in id order."""
    rows = session.exec(
        select(Server)
        .where(col(Server.service_host).is_not(None), Server.status != "decommissioned")
        .order_by(col(Server.id))
    ).all()
    return [SimService(s.service_host or "", s.hostname, s.web_port, s.dns_port) for s in rows]


class _Dns(asyncio.DatagramProtocol):
    def __init__(self, sim: ServiceSim, svc: SimService) -> None:
        self.sim, self.svc = sim, svc
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        mode = self.sim.modes[self.svc.host]["dns"]
        if mode == "down" or self.transport is None:
            return
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return
        reply = dns.message.make_response(query)
        if mode == "error":
            reply.set_rcode(dns.rcode.SERVFAIL)
        elif query.question and query.question[0].rdtype == dns.rdatatype.A:
            q = query.question[0]
            if q.name.to_text().rstrip(".") == self.svc.name:
                reply.answer.append(dns.rrset.from_text(q.name, 300, "IN", "A", self.svc.host))
            else:
                reply.set_rcode(dns.rcode.NXDOMAIN)
        self.transport.sendto(reply.to_wire(), addr)


class ServiceSim:
    """The web and DNS servers of many simulated servers, on one background event loop."""

    def __init__(self, services: Iterable[SimService]) -> None:
        self.services = {s.host: s for s in services}
        self.modes: dict[str, dict[str, Mode]] = {h: {"web": "up", "dns": "up"} for h in self.services}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closers: list[asyncio.AbstractServer | asyncio.BaseTransport] = []

    def set(self, host: str, *, web: Mode | None = None, dns: Mode | None = None) -> None:
        if host not in self.modes:
            raise FleetError(f"no simulated services at {host}")
        if web:
            self.modes[host]["web"] = web
        if dns:
            self.modes[host]["dns"] = dns

    async def _web(self, svc: SimService, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            mode = self.modes[svc.host]["web"]
            if mode == "down":
                return  # a hung web server: the connection closes without a status line
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            body = f"<html><body><h1>{svc.name}</h1></body></html>\n".encode()
            status = "503 Service Unavailable" if mode == "error" else "200 OK"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _astart(self) -> None:
        loop = asyncio.get_running_loop()
        for svc in self.services.values():
            try:
                if svc.web_port:
                    server = await asyncio.start_server(functools.partial(self._web, svc), svc.host, svc.web_port)
                    self._closers.append(server)
                if svc.dns_port:
                    transport, _ = await loop.create_datagram_endpoint(
                        functools.partial(_Dns, self, svc), local_addr=(svc.host, svc.dns_port)
                    )
                    self._closers.append(transport)
            except OSError as exc:
                raise FleetError(f"cannot serve simulated services on {svc.host}: {exc.strerror or exc}") from None

    async def _astop(self) -> None:
        for c in self._closers:
            c.close()
        self._closers.clear()

    def start(self) -> ServiceSim:
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="fleet-sim-services", daemon=True)
        self._thread.start()
        ready.wait()
        self._loop = loop
        try:
            asyncio.run_coroutine_threadsafe(self._astart(), loop).result()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._astop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._loop = self._thread = None

    def __enter__(self) -> ServiceSim:
        if self._loop is None:  # `with ServiceSim(...)` serves, as `with ServiceSim(...).start()` does
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
