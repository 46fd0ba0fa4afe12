"""Fix for pyghmi's lost wake-up: a caller that sleeps 0.5-1 s although its reply arrived long ago.

pyghmi runs one IO thread per process (pyghmi/ipmi/private/session.py). A caller sends its request, then calls
`_io_wait(timeout, sockaddr)`, which queues a "wake me when a packet comes from sockaddr" entry for the IO thread and
blocks on an Event. The IO thread wakes such a waiter only when it reads a packet from that address *after* it has
seen the waiter (`_io_graball` then the `ioqueue` scan). When the reply is quicker than the caller (loopback, a busy
GIL, other threads), the IO thread has already read it and parked it in the session's `pktqueue` before the waiter
is queued; nothing new arrives, so the caller sleeps until its retry deadline (`session.timeout`, 0.5 + 0-0.5 s),
then finds the reply in `pktqueue`. The same race exists for the undirected wait used during login (`_poller`),
where the parked packets sit in the module's `sessionqueue`.

The fix keeps pyghmi's IO thread and its lazy (select-based) waiting: `_io_wait` is replaced by a version that,
after queueing its waiter, looks whether the packet it is about to wait for is already parked, and if so returns at
once. Queueing first and looking second closes the window: a packet read after the look wakes the waiter through
pyghmi's normal path. No polling loop, no busy wait.
"""

from __future__ import annotations

import threading
from typing import Any

from pyghmi.ipmi.private import session as _s

_installed = False
_tls = threading.local()  # (session, netfn, command) whose awaitresponse() runs on this thread


def _io_wait(timeout: float, myaddr: Any = None, evq: Any = None) -> None:
    evt = threading.Event()
    if evq is not None:
        evq.append(evt)
    deadline = timeout + _s._monotonic_time()
    _s.ioqueue.append((deadline, evt, myaddr))
    if evq is None and _already_parked(myaddr):
        return  # the stale queue entry is harmless: the IO thread sets an Event nobody waits on
    if deadline < _s.selectdeadline:
        intsock = _s.iosockets[0]
        intsock = getattr(intsock, "fd", intsock)
        intsock.sendto(b"\x01", (_s.myself, _s.iosockets[0].getsockname()[1]))
    evt.wait()


def _already_parked(myaddr: Any) -> bool:
    if myaddr is None:
        # login and the event loop: wait_for_rsp() drains sessionqueue right after this returns
        return bool(_s.sessionqueue)
    expect = getattr(_tls, "expect", None)
    if expect is None:
        return False
    sess, netfn, command = expect
    if sess.sockaddr != myaddr:
        return False
    # Only the waiting session's own state, or another session's packets would make us spin. Its reply may be
    # parked in its pktqueue, or already handled: any thread in wait_for_rsp() drains every session's queue.
    return bool(sess.pktqueue) or not _s.unmatched(sess.lastresponse, netfn, command)


def install_wakeup_fix() -> None:
    """Patch pyghmi's session module once per process (idempotent). Not called when the caller's IpmiOptions say
    `wakeup_fix=False` (setting `pyghmi_unpatched`): only for bench/ipmi_poll.py's before/after comparison."""
    global _installed
    if _installed:
        return
    original_await = _s.Session.awaitresponse

    def awaitresponse(self: Any, retry: Any, netfn: int, command: int) -> Any:
        outer = getattr(_tls, "expect", None)
        _tls.expect = (self, netfn, command)
        try:
            return original_await(self, retry, netfn, command)
        finally:
            _tls.expect = outer

    _s.Session.awaitresponse = awaitresponse
    _s._io_wait = _io_wait
    _installed = True
