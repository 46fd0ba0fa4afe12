"""The SLA's service monitoring, the probe side: an HTTP GET of each server's web page and a DNS query to its DNS
server over UDP (dnspython), each bounded by the deadline.

I/O only: which servers to check, what an outage is and what caused it live in fleet.sweep.outages and fleet.sla.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

WEB = "web"
DNS = "dns"
HTTP_OK_BELOW = 500  # a 4xx still proves the web server answers; a 5xx is the service failing


@dataclass(frozen=True, slots=True)
class ServiceCheck:
    server_id: int
    host: str  # the address checked (service_host)
    name: str  # the name asked of the DNS server and sent as the HTTP Host (the server's hostname)
    web_port: int | None = None
    dns_port: int | None = None

    def services(self) -> tuple[str, ...]:
        return tuple(s for s, p in ((WEB, self.web_port), (DNS, self.dns_port)) if p)


async def http_up(host: str, port: int, name: str, timeout: float) -> bool:
    """GET / over HTTP/1.1: up when a status line below 500 arrives within the deadline."""

    async def get() -> bool:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(f"GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\nUser-Agent: fleet\r\n\r\n".encode())
            await writer.drain()
            status = (await reader.readline()).decode("latin-1").split()
            return (
                len(status) >= 2
                and status[0].startswith("HTTP/")
                and status[1].isdigit()
                and (int(status[1]) < HTTP_OK_BELOW)
            )
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    try:
        return await asyncio.wait_for(get(), timeout)
    except (OSError, TimeoutError, UnicodeError):
        return False


async def dns_up(host: str, port: int, name: str, timeout: float) -> bool:
    """An A query for `name` over UDP: up when the server answers (NOERROR or NXDOMAIN) within the deadline. A
    SERVFAIL or REFUSED is the DNS service failing."""
    # dnspython loads here, not with the module: a sweep of controllers alone (no service to check) never needs it
    import dns.asyncquery
    import dns.exception
    import dns.message
    import dns.rcode
    import dns.rdatatype

    query = dns.message.make_query(name, dns.rdatatype.A)
    try:
        answer = await asyncio.wait_for(dns.asyncquery.udp(query, host, port=port, timeout=timeout), timeout)
    except (OSError, TimeoutError, dns.exception.DNSException):
        return False
    return answer.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN)


async def run_checks(checks: Sequence[ServiceCheck], *, timeout: float, concurrency: int) -> dict[int, dict[str, bool]]:
    """server id -> {"web": up, "dns": up} for the services each server has."""
    sem = asyncio.Semaphore(max(1, concurrency))

    async def one(check: ServiceCheck) -> tuple[int, dict[str, bool]]:
        async with sem:
            probes = []
            if check.web_port:
                probes.append(http_up(check.host, check.web_port, check.name, timeout))
            if check.dns_port:
                probes.append(dns_up(check.host, check.dns_port, check.name, timeout))
            return check.server_id, dict(zip(check.services(), await asyncio.gather(*probes), strict=True))

    return dict(await asyncio.gather(*(one(c) for c in checks)))
