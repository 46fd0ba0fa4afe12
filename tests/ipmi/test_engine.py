"""The engine: many BMCs in one thread, each dead one costs its deadline and delays no other; pyghmi's patched names
still exist; IPMI 1.5 is refused."""

from __future__ import annotations

import inspect
import multiprocessing
import re
import threading
import time
from collections.abc import Callable

import pytest
from pyghmi.ipmi.private import session as pyghmi_session

from fleet.collectors.ipmi import IPMI15_REFUSED, patches, poll_ipmi, poll_ipmi_many
from fleet.collectors.ipmi.engine import ENGINE, KNOCK_LANE_MIN
from fleet.collectors.targets import IpmiTarget
from fleet.sweep.secrets import Secret
from tests.conftest import free_port
from tests.ipmi.conftest import Bmc


def test_every_patched_pyghmi_name_still_exists() -> None:
    # A pyghmi upgrade that renames one of these would silently undo a fix (or break the engine): fail here first.
    missing = [f"session.{n}" for n in patches.PATCHED["module"] if not hasattr(pyghmi_session, n)]
    missing += [f"Session.{n}" for n in patches.PATCHED["Session"] if not hasattr(pyghmi_session.Session, n)]
    source = inspect.getsource(pyghmi_session.Session)
    missing += [f"Session().{n}" for n in patches.PATCHED["instance"] if not re.search(rf"self\.{n}\b", source)]
    assert missing == [], f"pyghmi no longer has {missing}: re-check fleet/collectors/ipmi/patches.py"


def _dead(n: int) -> list[IpmiTarget]:
    # Distinct ports: a port handed out twice would be one BMC twice, and the engine polls a BMC once at a time
    # (the second poll waits for the first: a whole deadline more).
    ports: set[int] = set()
    while len(ports) < n:
        ports.add(free_port())
    return [IpmiTarget("127.0.0.1", p, "admin", Secret("x")) for p in sorted(ports)]


@pytest.mark.ipmi
def test_dead_controllers_ahead_of_a_live_one_do_not_hold_it_up(bmc_1u: Bmc) -> None:
    # The sweep starts last round's failures first. 8 dead BMCs fill all 8 slots; the live one behind them is read
    # once they give their slots up to knock (a quarter of the deadline), not when their 3 s deadline ends.
    deadline, concurrency = 3.0, 8
    targets = [*_dead(8), bmc_1u.target()]
    ended: dict[int, float] = {}
    t0 = time.monotonic()
    results = poll_ipmi_many(targets, timeout=deadline, concurrency=concurrency,
                             on_result=lambda i, _r: ended.setdefault(i, time.monotonic() - t0))  # fmt: skip
    live = results[-1]
    assert live.error is None and len(live.readings) == len(bmc_1u.layout.sensors)
    assert ended[8] < deadline / 4 + 1.5, f"the live BMC was read {ended[8]:.2f} s in: held up by the dead ones"
    assert {r.error for r in results[:8]} == {"timeout"}
    assert all(r.duration_s is not None and deadline <= r.duration_s < deadline + 1.0 for r in results[:8])


@pytest.mark.ipmi
def test_dead_controllers_each_cost_their_deadline_and_knock_in_a_bounded_lane(bmc_1u: Bmc) -> None:
    # 48 dead BMCs ahead of a live one, 8 slots, 1 s each. Holding their slots they would take 6 waves (6 s) and
    # the live one would wait for all of them; knocking beside the slots, they all knock within 1.5 s of the start
    # and the live one is read long before the first of them ends.
    deadline, concurrency, n = 1.0, 8, 48
    ENGINE.peak_in_flight = 0
    ended: dict[int, float] = {}
    t0 = time.monotonic()
    results = poll_ipmi_many([*_dead(n), bmc_1u.target()], timeout=deadline, concurrency=concurrency,
                             on_result=lambda i, _r: ended.setdefault(i, time.monotonic() - t0))  # fmt: skip
    elapsed = time.monotonic() - t0
    assert results[n].error is None and ended[n] < 2.5 * deadline, f"live one read {ended[n]:.2f} s in"
    dead = results[:n]
    assert {r.error for r in dead} == {"timeout"}
    assert all(r.duration_s is not None and deadline <= r.duration_s < deadline + 1.0 for r in dead)
    assert elapsed < n / concurrency * deadline - 2.0, f"{elapsed:.2f} s: the dead held their slots"
    # the lane is bounded: the slots plus the lane (KNOCK_LANE_MIN, as the concurrency is small)
    assert ENGINE.peak_in_flight <= concurrency + KNOCK_LANE_MIN


def test_512_at_once_in_this_process() -> None:
    # --concurrency 512: one process, no extra thread or process of ours, all 512 in flight together
    threads_before = threading.active_count()
    deadline = 1.5
    t0 = time.monotonic()
    results = poll_ipmi_many(_dead(512), timeout=deadline, concurrency=512)
    elapsed = time.monotonic() - t0
    assert len(results) == 512 and {r.error for r in results} == {"timeout"}
    assert elapsed < 2 * deadline + 2.0  # one wave, not two or more
    assert multiprocessing.active_children() == []
    # pyghmi's own IO thread may have started with the first session ever; nothing else
    assert threading.active_count() <= threads_before + 1


@pytest.mark.ipmi
def test_ipmi_15_only_bmc_is_refused(start_bmc: Callable[..., Bmc]) -> None:
    # ipmi_sim advertises IPMI 2.0 only with a guid; without it the BMC offers 1.5 alone (MD5, or a password sent
    # as is). pyghmi would fall back to 1.5; fleet refuses before any password goes out.
    bmc = start_bmc("1u", 15, lambda text: re.sub(r"^\s*guid .*$", "", text, flags=re.M))
    result = poll_ipmi(bmc.target(), timeout=5)
    assert not result.reachable
    assert result.error == f"protocol: {IPMI15_REFUSED}"
    assert bmc.process.poll() is None  # the simulator is still up: nothing was sent that it could not take
