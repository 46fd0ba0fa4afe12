"""One poll of one BMC, many BMCs at once on one event loop, and the sync wrapper for the command line.

Walk: service root -> Systems, Chassis, Managers (members) -> the parts of each (system.py, chassis.py) and the
hardware logs (logs.py). Only those links are followed; nothing under AccountService, UpdateService, registries.
The cursor handed back holds the log positions, whether `$expand` works on this BMC and the log paths found, so the
next poll skips what it already knows. It never holds the session token (a credential: that stays in the process).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from fleet.clock import utcnow
from fleet.collectors.redfish.chassis import ChassisParts, read_chassis
from fleet.collectors.redfish.client import ROOT, Client, RedfishFailure, close_sessions, expand_supported
from fleet.collectors.redfish.logs import log_entries_paths, read_logs
from fleet.collectors.redfish.names import clean
from fleet.collectors.redfish.system import read_system
from fleet.collectors.targets import RedfishTarget
from fleet.health.model import PollResult

DEFAULT_TIMEOUT = 10.0
_UNREACHED = ("timeout", "unreachable")


async def _collect(client: Client, cursor: dict[str, Any], result: PollResult) -> None:
    root = await client.get(ROOT)
    if root is None:
        raise RedfishFailure("protocol: no Redfish service root at /redfish/v1")
    if client.expand is None:
        client.expand = expand_supported(root)
    await client.login()
    systems, chassis, managers = await asyncio.gather(
        client.members(root.get("Systems")), client.members(root.get("Chassis")), client.members(root.get("Managers"))
    )
    if not systems and not chassis:
        # A BMC that answers the root without authentication but lists nothing behind it: wrong credentials on a
        # service that hides collections instead of answering 401.
        raise RedfishFailure("protocol: the service lists no system and no chassis")
    parts = ChassisParts()
    log_paths = cursor.get("log_paths")
    if not isinstance(log_paths, list):
        log_paths = None
    power_states, _, found_paths = await asyncio.gather(
        asyncio.gather(*(read_system(client, s, parts) for s in systems)),
        asyncio.gather(*(read_chassis(client, c, parts) for c in chassis)),
        log_entries_paths(client, systems, managers) if log_paths is None else _same(log_paths),
    )
    events, log_cursor = await read_logs(client, found_paths, dict(cursor.get("logs") or {}))
    result.readings = parts.readings
    result.inventory = parts.inventory
    result.events = events
    result.power = next((p for p in power_states if p), None)
    maker = next((clean(s.get("Manufacturer"), 60) for s in systems if s.get("Manufacturer")), None)
    result.vendor = maker or clean(root.get("Vendor") or "", 60) or None
    result.cursor = {"logs": log_cursor, "log_paths": found_paths, "expand": bool(client.expand)}


async def _same(value: list[str]) -> list[str]:
    return value


async def poll_redfish(
    target: RedfishTarget,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    cursor: dict[str, Any] | None = None,
    keep_session: bool = True,
) -> PollResult:
    """Read one BMC within `timeout` seconds. Never raises for what the network or the BMC does.

    `cursor`: the previous PollResult.cursor of the same BMC; handed back unchanged when the poll fails.
    `keep_session`: leave the session open for the next poll in this process (the sweep); False logs out.
    """
    t0 = time.monotonic()
    started = utcnow()
    result = PollResult(host=target.host, protocol="redfish", reachable=True, polled_at=started, cursor=cursor)
    known = dict(cursor or {})
    client = Client(target, t0 + timeout, expand=known.get("expand") if "expand" in known else None)
    try:
        async with asyncio.timeout(timeout):
            await _collect(client, known, result)
    except TimeoutError:
        result.error = "timeout"
    except RedfishFailure as failure:
        result.error = failure.reason
    except Exception as exc:  # a BMC answer this code cannot read: a clear result, not a traceback
        result.error = f"protocol: {type(exc).__name__}"
    finally:
        if not keep_session:
            try:
                async with asyncio.timeout(1.0):
                    await client.logout()
            except (TimeoutError, RedfishFailure):
                pass
        await client.aclose()
    if result.error:
        result.readings, result.events, result.inventory, result.power = [], [], [], None
        result.reachable = result.error not in _UNREACHED
        result.cursor = cursor
    result.duration_s = time.monotonic() - t0
    return result


async def poll_redfish_many(
    targets: Sequence[RedfishTarget],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int = 200,
    cursors: Sequence[dict[str, Any] | None] | None = None,
) -> list[PollResult]:
    """Poll many BMCs on this event loop, at most `concurrency` at once; results in target order. Each BMC has its
    own deadline, so a dead one costs its deadline and delays no other."""
    gate = asyncio.Semaphore(max(1, concurrency))
    cursors = list(cursors) if cursors is not None else [None] * len(targets)

    async def one(target: RedfishTarget, cursor: dict[str, Any] | None) -> PollResult:
        async with gate:
            return await poll_redfish(target, timeout=timeout, cursor=cursor)

    return list(await asyncio.gather(*(one(t, c) for t, c in zip(targets, cursors, strict=True))))


def poll_redfish_sync(
    target: RedfishTarget, *, timeout: float = DEFAULT_TIMEOUT, cursor: dict[str, Any] | None = None
) -> PollResult:
    """poll_redfish for callers without an event loop (the command line): logs in, reads, logs out."""
    return asyncio.run(poll_redfish(target, timeout=timeout, cursor=cursor, keep_session=False))


def close_all_sessions() -> int:
    """Log out of every BMC this process holds a session with (the sweep loop's end)."""
    return asyncio.run(close_sessions())
