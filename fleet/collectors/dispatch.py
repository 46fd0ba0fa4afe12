"""Poll many controllers at once, IPMI, SNMP and Redfish side by side, each host bounded by its deadline.

IPMI goes through the IPMI collector's own batch poller (pyghmi runs one IO thread per process; more threads only
fight it), SNMP and Redfish through one asyncio event loop (both are sockets and waiting: hundreds of hosts cost one
thread). The families run at the same time, so a slow SNMP agent never holds up the BMCs and the other way round.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
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
    jobs: Sequence[PollJob],
    *,
    timeout: float,
    concurrency: int,
    ipmi_options: IpmiOptions | None = None,
    on_result: Callable[[int, PollResult], None] | None = None,
) -> dict[int, PollResult]:
    """Every job's result by its key. `on_result(key, result)`, when given, is called for each as it is known (IPMI
    polls one by one as they end, from the IPMI thread; SNMP and Redfish when their family is done)."""
    ipmi = [j for j in jobs if isinstance(j.target, IpmiTarget)]
    snmp = [j for j in jobs if isinstance(j.target, SnmpTarget)]
    redfish = [j for j in jobs if isinstance(j.target, RedfishTarget)]
    results: dict[int, PollResult] = {}
    errors: list[BaseException] = []

    def run_ipmi() -> None:
        try:
            results.update(
                _poll_ipmi(ipmi, timeout=timeout, concurrency=concurrency, options=ipmi_options, on_result=on_result)
            )
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run_ipmi, name="ipmi-batch", daemon=True)
    if ipmi:
        thread.start()
    if snmp or redfish:
        others = asyncio.run(_poll_async(snmp, redfish, timeout=timeout, concurrency=concurrency))
        results.update(others)
        if on_result is not None:
            for key, result in others.items():
                on_result(key, result)
    if ipmi:
        thread.join()
    if errors:
        raise errors[0]
    return results


def poll_as_they_end(
    jobs: Sequence[PollJob],
    *,
    timeout: float,
    concurrency: int,
    ipmi_options: IpmiOptions | None = None,
    group_s: float = 0.5,
    group_max: int = 100,
) -> Iterator[list[tuple[int, PollResult]]]:
    """`poll_jobs` in a thread of its own, its results handed over in groups as the polls end: what ends within
    `group_s` of a group's first result, at most `group_max`. The caller's work on one group (storing it) never
    holds up the polls still in flight."""
    arrived: queue.SimpleQueue[tuple[int, PollResult] | None] = queue.SimpleQueue()
    failed: list[BaseException] = []

    def poll() -> None:
        try:
            poll_jobs(jobs, timeout=timeout, concurrency=concurrency, ipmi_options=ipmi_options,
                      on_result=lambda key, result: arrived.put((key, result)))  # fmt: skip
        except BaseException as exc:  # re-raised in the caller's thread
            failed.append(exc)
        finally:
            arrived.put(None)

    worker = threading.Thread(target=poll, name="poll-as-they-end", daemon=True)
    worker.start()
    ended = False
    while not ended:
        got = arrived.get()
        if got is None:
            break
        part = [got]
        until = time.monotonic() + group_s
        while len(part) < group_max:
            try:
                got = arrived.get(timeout=max(0.0, until - time.monotonic()))
            except queue.Empty:
                break
            if got is None:
                ended = True
                break
            part.append(got)
        yield part
    worker.join()
    if failed:
        raise failed[0]


def _poll_ipmi(
    jobs: Sequence[PollJob],
    *,
    timeout: float,
    concurrency: int,
    options: IpmiOptions | None,
    on_result: Callable[[int, PollResult], None] | None,
) -> dict[int, PollResult]:
    from fleet.collectors.ipmi import poll_ipmi_many

    targets = [j.target for j in jobs if isinstance(j.target, IpmiTarget)]  # all of them: the caller split by kind
    cursors = {(j.target.host, j.target.port): j.cursor for j in jobs if j.cursor is not None}
    each = None if on_result is None else (lambda i, r: on_result(jobs[i].key, r))
    out = poll_ipmi_many(targets, timeout=timeout, concurrency=concurrency, cursors=cursors, options=options,
                         on_result=each)  # fmt: skip
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
