"""Poll many controllers at once, IPMI, SNMP and Redfish side by side, each host bounded by its deadline.

IPMI goes through the IPMI collector's own batch poller (pyghmi runs one IO thread per process; more threads only
fight it), SNMP and Redfish through one asyncio event loop (both are sockets and waiting: hundreds of hosts cost one
thread). The families run at the same time, so a slow SNMP agent never holds up the BMCs and the other way round.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fleet.collectors.targets import IpmiOptions, IpmiTarget, RedfishTarget, SnmpTarget
from fleet.health.model import PollResult


@dataclass(frozen=True, slots=True)
class PollJob:
    key: int  # the caller's id for this controller (the server id)
    target: IpmiTarget | SnmpTarget | RedfishTarget
    cursor: dict[str, Any] | None = None


def poll_jobs(
    jobs: Sequence[PollJob], *, timeout: float, concurrency: int, ipmi_options: IpmiOptions | None = None
) -> dict[int, PollResult]:
    ipmi = [j for j in jobs if isinstance(j.target, IpmiTarget)]
    snmp = [j for j in jobs if isinstance(j.target, SnmpTarget)]
    redfish = [j for j in jobs if isinstance(j.target, RedfishTarget)]
    results: dict[int, PollResult] = {}
    errors: list[BaseException] = []

    def run_ipmi() -> None:
        try:
            results.update(_poll_ipmi(ipmi, timeout=timeout, concurrency=concurrency, options=ipmi_options))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run_ipmi, name="ipmi-batch", daemon=True)
    if ipmi:
        thread.start()
    if snmp or redfish:
        results.update(asyncio.run(_poll_async(snmp, redfish, timeout=timeout, concurrency=concurrency)))
    if ipmi:
        thread.join()
    if errors:
        raise errors[0]
    return results


def _poll_ipmi(
    jobs: Sequence[PollJob], *, timeout: float, concurrency: int, options: IpmiOptions | None
) -> dict[int, PollResult]:
    from fleet.collectors.ipmi import poll_ipmi_many

    targets = [j.target for j in jobs if isinstance(j.target, IpmiTarget)]  # all of them: the caller split by kind
    cursors = {(j.target.host, j.target.port): j.cursor for j in jobs if j.cursor is not None}
    out = poll_ipmi_many(targets, timeout=timeout, concurrency=concurrency, cursors=cursors, options=options)
    return {j.key: r for j, r in zip(jobs, out, strict=True)}


async def _poll_async(
    snmp: Sequence[PollJob], redfish: Sequence[PollJob], *, timeout: float, concurrency: int
) -> dict[int, PollResult]:
    parts = await asyncio.gather(
        _poll_snmp(snmp, timeout=timeout, concurrency=concurrency),
        _poll_redfish(redfish, timeout=timeout, concurrency=concurrency),
    )
    return {**parts[0], **parts[1]}


async def _poll_redfish(jobs: Sequence[PollJob], *, timeout: float, concurrency: int) -> dict[int, PollResult]:
    if not jobs:
        return {}
    from fleet.collectors.redfish import poll_redfish_many

    # Redfish needs no worker processes: 200 BMCs are 200 sockets on this loop. The sweep's concurrency bounds the
    # IPMI workers; Redfish gets at least as many slots as the SNMP side.
    out = await poll_redfish_many(
        [t for j in jobs if isinstance(t := j.target, RedfishTarget)],
        timeout=timeout,
        concurrency=max(concurrency, 50),
        cursors=[j.cursor for j in jobs],
    )
    return {j.key: r for j, r in zip(jobs, out, strict=True)}


async def _poll_snmp(jobs: Sequence[PollJob], *, timeout: float, concurrency: int) -> dict[int, PollResult]:
    if not jobs:
        return {}
    from fleet.collectors.snmp import poll_snmp_many

    targets = [j.target for j in jobs if isinstance(j.target, SnmpTarget)]  # all of them: the caller split by kind
    out = await poll_snmp_many(targets, timeout=timeout, concurrency=concurrency)
    return {j.key: r for j, r in zip(jobs, out, strict=True)}
