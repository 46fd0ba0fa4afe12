"""IPMI 2.0 (RMCP+) collector with pyghmi: sensors, SEL (incremental), FRU inventory and power state.

    poll_ipmi(target, timeout=10.0, cursor=None, options=None) -> PollResult                    one BMC
    poll_ipmi_many(targets, timeout=10.0, concurrency=64, cursors=None, options=None) -> list   many at once

Both run on one engine (engine.py): every poll is a generator of requests on pyghmi's own event loop, hundreds in
flight in the calling thread. Details, pyghmi's problems and how they are avoided: docs/IPMI.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fleet.collectors.ipmi.engine import ENGINE
from fleet.collectors.ipmi.fruplan import force_read, serials_disagree
from fleet.collectors.ipmi.patches import IPMI15_REFUSED
from fleet.collectors.targets import IpmiOptions, IpmiTarget
from fleet.health.model import PollResult
from fleet.limits import MAX_CONCURRENCY

__all__ = [
    "DEFAULT_TIMEOUT",
    "IPMI15_REFUSED",
    "IpmiOptions",
    "force_read",
    "poll_ipmi",
    "poll_ipmi_many",
    "serials_disagree",
]

DEFAULT_TIMEOUT = 10.0


def poll_ipmi(
    target: IpmiTarget,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    cursor: dict[str, Any] | None = None,
    options: IpmiOptions | None = None,
) -> PollResult:
    """Read one BMC. Never raises; takes at most `timeout` seconds (plus a few milliseconds), and a BMC that does
    not answer takes all of it.

    `cursor` is the `PollResult.cursor` of the previous poll of the same BMC (SEL position, cipher suite that
    worked, FRU chunk size, the inventory of the last FRU read); on failure the given cursor is handed back.
    """
    key = (target.host, target.port)
    return poll_ipmi_many([target], timeout=timeout, concurrency=1, cursors={key: cursor} if cursor else None,
                          options=options)[0]  # fmt: skip


def poll_ipmi_many(
    targets: Sequence[IpmiTarget],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int = 64,
    cursors: dict[tuple[str, int], dict[str, Any]] | None = None,
    options: IpmiOptions | None = None,
    on_result: Callable[[int, PollResult], None] | None = None,
) -> list[PollResult]:
    """Poll every target, at most `concurrency` at a time, each within its own `timeout`. Results in target order.

    `cursors` maps (host, port) to the cursor of that BMC's previous PollResult. `on_result(index, result)` is
    called as each poll ends (from the thread driving the engine), before the whole list is returned.
    """
    return ENGINE.run(
        targets,
        timeout=timeout,
        concurrency=min(max(1, concurrency), MAX_CONCURRENCY),
        cursors=dict(cursors or {}),
        options=options or IpmiOptions(),
        on_result=on_result,
    )
