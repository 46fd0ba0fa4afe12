"""200 BMCs in flight at once: every one is read, and no read is slower than its network delay plus 50 ms on the
client's side (the issue's bound), whatever else the machine is doing.

Fleet's own simulated BMCs (two processes) behind the latency relay. A read's time is its network delay (out, the
BMC, back: until the kernel has the reply in our socket) plus the time the reply waits on our side (until the engine
has handed it to its poll): the second part is what is measured, from the kernel's receive timestamp of each
datagram. pyghmi's lost wake-up (docs/IPMI.md) made a reply that had arrived wait 0.5-1 s for its caller (its retry
timer); a loop that falls behind, or a poll that holds the loop, shows the same way.

Part of that wait is not the client's doing: on a loaded machine the process is runnable but the OS gives the CPU
to others (at load 12-15 on 2 cores, replies waited p50 60-120 ms, p99 400-570 ms this way, docs/IPMI.md). The
kernel counts that time per thread (its run-queue delay, /proc/<pid>/task/<tid>/schedstat), so each read's wait is
split: what the OS withheld while the reply waited is subtracted, the rest is the client's, and every read's rest
must be under 50 ms. The subtraction is what accrued from the previous reply handled to this one (a few ms apart at
this rate), so it can at most also forgive a run-queue wait from just before this reply arrived. On a quiet machine
the OS part is near zero and the raw bound itself holds (waits p99 about 1 ms, max 3 ms).

The round measured has a round trip of 200-250 ms (under pyghmi's 0.5 s retry timer, so no request is sent twice).
"""

from __future__ import annotations

import bisect
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from fleet.collectors.ipmi import poll_ipmi_many
from fleet.collectors.ipmi.engine import ENGINE
from tests.ipmi.simnet import SimNet

N = 200
RTT_MS = (200, 250)
CLIENT_WAIT_MAX_S = 0.050  # the bound: network delay plus 50 ms

_CONTROL = """
import sys, time
late = []
sys.stdout.write("ready\\n"); sys.stdout.flush()
import select
while not select.select([sys.stdin], [], [], 0)[0]:
    t = time.monotonic(); time.sleep(0.005); late.append(time.monotonic() - t - 0.005)
    t = time.monotonic()
    while time.monotonic() - t < 0.0005:
        pass
late.sort()
print(late[len(late) // 2], late[int(0.99 * (len(late) - 1))])
"""


class RunQueue:
    """The OS's run-queue delay of the calling thread so far (seconds runnable without a CPU), sampled over time."""

    def __init__(self) -> None:
        path = f"/proc/self/task/{threading.get_native_id()}/schedstat"
        self.fd = os.open(path, os.O_RDONLY) if os.path.exists(path) else None
        self.at: list[float] = []
        self.delay: list[float] = []
        self.sample()

    def read(self) -> float:
        return int(os.pread(self.fd, 100, 0).split()[1]) / 1e9 if self.fd is not None else 0.0

    def sample(self) -> float:
        now, delay = time.monotonic(), self.read()
        self.at.append(now)
        self.delay.append(delay)
        return delay

    def since(self, when: float, delay_now: float) -> float:
        """Run-queue delay accrued from the last sample at or before `when` to `delay_now`."""
        i = max(0, bisect.bisect_right(self.at, when) - 1)
        return delay_now - self.delay[i]


@pytest.fixture(scope="module")
def net() -> Iterator[SimNet]:
    # relay 0 (20-30 ms) for the first contact (SDR and FRU), relay 1 for the round measured
    with SimNet(N, procs=2, rtt_ms="20-30", more_rtt_ms=(f"{RTT_MS[0]}-{RTT_MS[1]}",)) as n:
        yield n


def test_200_in_flight_no_read_held_by_the_client_over_50ms(net: SimNet) -> None:
    first = poll_ipmi_many(net.targets(0), timeout=120, concurrency=N)
    assert [r.error for r in first] == [None] * N
    targets = net.targets(1)
    cursors = {(t.host, t.port): r.cursor for t, r in zip(targets, first, strict=True) if r.cursor}
    waits: list[float] = []  # from the kernel's receive timestamp to the poll getting the reply
    own: list[float] = []  # the same, less what the OS withheld the CPU meanwhile
    control = subprocess.Popen([sys.executable, "-c", _CONTROL], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)  # fmt: skip
    assert control.stdout is not None and control.stdout.readline().strip() == "ready"
    runq = RunQueue()  # this thread drives the engine (the hook runs on it)

    def hook(_read: float, waited: float) -> None:
        now = time.monotonic()
        delay = runq.sample()
        waits.append(waited)
        own.append(waited - runq.since(now - waited, delay))

    ENGINE.read_hook, ENGINE.peak_in_flight = hook, 0
    try:
        again = poll_ipmi_many(targets, timeout=120, concurrency=N, cursors=cursors)
    finally:
        ENGINE.read_hook = None
        out, _ = control.communicate("stop\n", timeout=30)
    sched_p50, sched_p99 = (float(x) for x in out.split())
    assert [r.error for r in again] == [None] * N
    assert ENGINE.peak_in_flight == N  # all 200 in flight at once
    assert len(waits) >= N * 20  # every poll read its sensors, SEL and power
    waits.sort()
    p50, p99 = waits[len(waits) // 2], waits[int(0.99 * (len(waits) - 1))]
    detail = (
        f"{len(waits)} reads; waits on our side: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max "
        f"{waits[-1] * 1000:.0f} ms; the client's part: max {max(own) * 1000:.0f} ms; the OS kept the loop from a "
        f"CPU {(runq.delay[-1] - runq.delay[0]) * 1000:.0f} ms in all; scheduler lateness of a sleeping process: "
        f"p50 {sched_p50 * 1000:.0f} ms, p99 {sched_p99 * 1000:.0f} ms"
    )
    print(detail)
    slow = [w for w in own if w > CLIENT_WAIT_MAX_S]
    assert slow == [], detail
