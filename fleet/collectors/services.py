"""The SLA's service monitoring, the probe side: TCP connects to each server's web and DNS ports.

I/O only: which servers to check and what an outage is live in fleet.sweep.outages.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServiceCheck:
    server_id: int
    host: str
    ports: tuple[int, ...]


async def _connect(host: str, port: int, timeout: float) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def run_checks(checks: Sequence[ServiceCheck], *, timeout: float, concurrency: int) -> dict[int, bool]:
    """server id -> True when every service port accepted a connection within the timeout."""
    sem = asyncio.Semaphore(max(1, concurrency))

    async def one(check: ServiceCheck) -> tuple[int, bool]:
        async with sem:
            ok = all(await asyncio.gather(*(_connect(check.host, p, timeout) for p in check.ports)))
            return check.server_id, ok

    return dict(await asyncio.gather(*(one(c) for c in checks)))
