"""One health poll of one host, many hosts at once, and the sync wrapper for the CLI."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from fleet.clock import utcnow
from fleet.collectors.snmp import detect
from fleet.collectors.snmp.engine import COUNTERS, Session, SnmpFailure, WalkResult, close_all, quiet_transport_errors
from fleet.collectors.snmp.profiles import profile_by_name
from fleet.collectors.targets import SnmpTarget
from fleet.health.model import PollResult

# Concurrent requests to one agent: BMCs answer one request at a time and drop what overflows their queue.
PER_HOST_REQUESTS = 3
_UNREACHED = ("timeout", "unreachable")


def _request_timing(timeout: float) -> tuple[float, int]:
    """Per-request timeout and retries: three tries fit well inside the host's deadline."""
    per_request = min(2.0, max(0.25, timeout / 4))
    return per_request, 2


async def _poll(target: SnmpTarget, timeout: float, result: PollResult) -> None:
    per_request, retries = _request_timing(timeout)
    session = Session(target, request_timeout=per_request, retries=retries)
    await session.open()
    answers = await session.next_(detect.probe_oids())
    name, _descr = detect.choose(answers)
    profile = profile_by_name(name)
    result.vendor = profile.name
    gate = asyncio.Semaphore(PER_HOST_REQUESTS)

    async def walk(table: tuple[list[tuple[int, ...]], list[tuple[int, ...]]]) -> list[tuple[tuple[int, ...], object]]:
        async with gate:
            return await session.walk_table(*table)

    pairs: list[tuple[tuple[int, ...], object]] = []
    for chunk in await asyncio.gather(*(walk(table) for table in profile.tables)):
        pairs.extend(chunk)
    walked = WalkResult.build(pairs)
    result.readings = profile.readings(walked)
    result.power = profile.power_state(walked)
    result.reachable = True


async def poll_snmp(target: SnmpTarget, *, timeout: float = 10.0) -> PollResult:
    """Read one host's health over SNMP within `timeout` seconds; never raises for what the network or agent does."""
    started = time.monotonic()
    quiet_transport_errors(asyncio.get_running_loop())
    result = PollResult(host=target.host, protocol="snmp", reachable=False, polled_at=utcnow())
    try:
        async with asyncio.timeout(timeout):
            await _poll(target, timeout, result)
    except TimeoutError:
        result.error = "timeout"
    except SnmpFailure as failure:
        result.error = failure.reason
    except Exception as exc:  # a bug or an agent answer pysnmp cannot parse: a clear result, not a traceback
        result.error = f"protocol: {type(exc).__name__}"
    if result.error:
        result.readings = []
        result.power = None
        result.reachable = result.error not in _UNREACHED
    result.duration_s = time.monotonic() - started
    return result


async def poll_snmp_many(
    targets: Iterable[SnmpTarget], *, timeout: float = 10.0, concurrency: int = 50
) -> list[PollResult]:
    """Poll many hosts on the shared engine, at most `concurrency` at once; results in the order of `targets`.

    Each host has its own deadline, so a dead agent costs its deadline and delays no other host.
    """
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(target: SnmpTarget) -> PollResult:
        async with gate:
            return await poll_snmp(target, timeout=timeout)

    return list(await asyncio.gather(*(one(t) for t in targets)))


def poll_snmp_sync(target: SnmpTarget, *, timeout: float = 10.0) -> PollResult:
    """poll_snmp for callers without an event loop (the CLI)."""

    async def run() -> PollResult:
        noise = COUNTERS.undecodable
        try:
            result = await poll_snmp(target, timeout=timeout)
        finally:
            close_all()
        garbled = COUNTERS.undecodable - noise
        if result.error == "timeout" and garbled:  # one host here: the datagrams were its answers
            result.error = f"protocol: {garbled} undecodable answer(s), no valid one"
            result.reachable = True
        return result

    return asyncio.run(run())
