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
    return [IpmiTarget("127.0.0.1", free_port(), "admin", Secret("x")) for _ in range(n)]


@pytest.mark.ipmi
def test_dead_controllers_cost_their_deadline_per_slot(bmc_1u: Bmc) -> None:
    # 24 dead BMCs, 8 at a time, 1 s each: three waves, about 3 s; the live one among them is read at once
    deadline, concurrency = 1.0, 8
    targets = [bmc_1u.target(), *_dead(24)]
    t0 = time.monotonic()
    results = poll_ipmi_many(targets, timeout=deadline, concurrency=concurrency)
    elapsed = time.monotonic() - t0
    assert results[0].error is None and len(results[0].readings) == len(bmc_1u.layout.sensors)
    assert results[0].duration_s is not None and results[0].duration_s < deadline  # not held up by the dead ones
    dead = results[1:]
    assert {r.error for r in dead} == {"timeout"}
    assert all(r.duration_s is not None and deadline <= r.duration_s < deadline + 1.0 for r in dead)
    waves = 24 / concurrency
    assert waves * deadline <= elapsed < waves * deadline + 3.0  # margins for a loaded machine


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
