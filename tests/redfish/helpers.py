from __future__ import annotations

import asyncio
from typing import Any

from fleet.collectors.redfish import poll_redfish
from fleet.collectors.targets import RedfishTarget
from fleet.health.model import PollResult, Reading, State
from fleet.sweep.secrets import Secret


def target(port: int, **kw: Any) -> RedfishTarget:
    kw.setdefault("scheme", "http")
    return RedfishTarget("127.0.0.1", port, "fleet", Secret("not-checked-by-sushy-static"), **kw)


def poll(port: int, cursor: dict[str, Any] | None = None, timeout: float = 30, **kw: Any) -> PollResult:
    return asyncio.run(poll_redfish(target(port, **kw), timeout=timeout, cursor=cursor, keep_session=False))


def bad(result: PollResult) -> dict[tuple[str, str], State]:
    """(kind, slot or name) -> state, for every reading that is a warning or worse."""
    return {
        (r.kind.value, r.slot or r.name): r.state for r in result.readings if r.state in (State.WARNING, State.CRITICAL)
    }


def by_slot(result: PollResult, kind: str) -> dict[str, Reading]:
    return {r.slot: r for r in result.readings if r.kind.value == kind}
