"""Many BMCs at once: worker processes, each one pyghmi IO loop with a single caller.

pyghmi has one IO thread per process and module-wide locks; callers on several threads contend for them and stall
(docs/IPMI.md). So concurrency comes from processes: `concurrency` long-lived workers, each polling one BMC at a
time. A BMC is pinned to the worker that first polled it, so that worker's pyghmi SDR cache (per process, keyed by
the BMC's ids and SDR timestamp) stays warm across calls; the workers live until `shutdown_workers()` or exit.
"""

from __future__ import annotations

import atexit
import multiprocessing
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from fleet.collectors.targets import IpmiOptions, IpmiTarget
from fleet.health.model import PollResult

_lock = threading.Lock()
_workers: list[ProcessPoolExecutor] = []
_pinned: dict[tuple[str, int], int] = {}
_load: list[int] = []
# Grace for process start-up and result transfer on top of the per-host deadline.
_GRACE_S = 5.0


def _poll_in_worker(
    target: IpmiTarget, timeout: float, cursor: dict[str, Any] | None, options: IpmiOptions
) -> PollResult:
    from fleet.collectors.ipmi import poll_ipmi

    return poll_ipmi(target, timeout=timeout, cursor=cursor, options=options)


def _ensure(n: int) -> None:
    ctx = multiprocessing.get_context("forkserver")  # never fork a process whose pyghmi IO thread is running
    # The fork server imports the collector once; each worker is then a cheap copy of it instead of a fresh
    # interpreter importing pyghmi and cryptography again (that start-up was most of a sweep's CPU).
    ctx.set_forkserver_preload(["fleet.collectors.ipmi"])
    while len(_workers) < n:
        _workers.append(ProcessPoolExecutor(max_workers=1, mp_context=ctx))
        _load.append(0)


def _worker_for(target: IpmiTarget, n: int) -> int:
    key = (target.host, target.port)
    idx = _pinned.get(key)
    if idx is None or idx >= n:
        idx = min(range(n), key=lambda i: _load[i])  # new BMC: the least loaded worker
        _pinned[key] = idx
        _load[idx] += 1
    return idx


def shutdown_workers() -> None:
    with _lock:
        for w in _workers:
            w.shutdown(wait=False, cancel_futures=True)
        _workers.clear()
        _pinned.clear()
        _load.clear()


atexit.register(shutdown_workers)


def _timed_out(target: IpmiTarget, cursor: dict[str, Any] | None) -> PollResult:
    return PollResult(host=target.host, protocol="ipmi", reachable=False, error="timeout", cursor=cursor)


def _poll_threads(
    targets: Sequence[IpmiTarget],
    *,
    timeout: float,
    concurrency: int,
    cursors: dict[tuple[str, int], dict[str, Any]],
    options: IpmiOptions,
) -> list[PollResult]:
    from concurrent.futures import ThreadPoolExecutor

    from fleet.collectors.ipmi import poll_ipmi

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ipmi-poll") as pool:
        futures = [
            pool.submit(poll_ipmi, t, timeout=timeout, cursor=cursors.get((t.host, t.port)), options=options)
            for t in targets
        ]
        return [f.result() for f in futures]


def poll_ipmi_many(
    targets: Sequence[IpmiTarget],
    *,
    timeout: float = 10.0,
    concurrency: int = 8,
    cursors: dict[tuple[str, int], dict[str, Any]] | None = None,
    options: IpmiOptions | None = None,
) -> list[PollResult]:
    """Poll every target, at most `concurrency` at a time, each within its own `timeout`. Results in target order.

    `cursors` maps (host, port) to the cursor of that BMC's previous PollResult. concurrency <= 1 polls in this
    process, one after the other (its pyghmi SDR cache is then this process's).
    """
    cursors = cursors or {}
    options = options or IpmiOptions()
    if options.pool == "threads" and concurrency > 1 and len(targets) > 1:
        return _poll_threads(targets, timeout=timeout, concurrency=concurrency, cursors=cursors, options=options)
    if concurrency <= 1 or len(targets) <= 1:
        from fleet.collectors.ipmi import poll_ipmi

        return [poll_ipmi(t, timeout=timeout, cursor=cursors.get((t.host, t.port)), options=options) for t in targets]
    with _lock:
        n = max(1, min(concurrency, len(targets)))
        _ensure(n)
        futures: list[tuple[IpmiTarget, Future[PollResult]]] = []
        for t in targets:
            w = _workers[_worker_for(t, n)]
            futures.append((t, w.submit(_poll_in_worker, t, timeout, cursors.get((t.host, t.port)), options)))
    per_worker: dict[int, int] = {}
    for t, _ in futures:
        idx = _pinned[(t.host, t.port)]
        per_worker[idx] = per_worker.get(idx, 0) + 1
    # each worker runs its queue in order; the slowest queue bounds the wait
    budget = max(per_worker.values()) * timeout + _GRACE_S
    results: list[PollResult] = []
    end = time.monotonic() + budget
    for t, fut in futures:
        cursor = cursors.get((t.host, t.port))
        try:
            results.append(fut.result(timeout=max(0.0, end - time.monotonic())))
        except Exception:  # a worker that died or overran is a timeout for that host
            fut.cancel()
            results.append(_timed_out(t, cursor))
    return results
