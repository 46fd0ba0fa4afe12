"""Every change fleet makes to pyghmi, in one module (pyghmi's files stay untouched; docs/IPMI.md says why).

1. **Lost wake-up** (`_io_wait`, `Session.awaitresponse`): a waiter queued after its reply was already read sleeps
   until pyghmi's retry timer (0.5-1 s). The waiter now looks, after queueing itself, whether what it waits for
   is already parked, and returns at once if so. Queue-then-check closes the race; no polling, no busy wait.
2. **Cipher suite choice** (`Session._open_rmcpplus_request`): pyghmi always proposes suite 17 and silently falls
   back to 3; the target's own list decides the first proposal.
3. **Set Session Privilege Level without a nested wait** (`Session._req_priv_level`): pyghmi sends it as a
   *synchronous* command from inside the login callback, which blocks the one event loop for a round trip (and
   for its retries) while every other BMC waits. For sessions opened with a callback (`onlogon`, as the engine
   does) it is sent with a callback too; synchronous logins keep pyghmi's code.
4. **No IPMI 1.5** (`Session._got_channel_auth_cap`): a BMC that does not offer IPMI 2.0 is refused with
   `IPMI15_REFUSED` instead of pyghmi's fallback to 1.5, whose login sends the password as good as in clear.
5. **Client socket address** (`session.socket`, `ipv6support`, `myself`): with a bind address, pyghmi's one client
   socket binds there (IPv4) instead of the IPv6 wildcard.
7. **A clock without a system call** (`session._monotonic_time`): pyghmi reads the time with `os.times()`, a real
   system call (and 10 ms steps), several times per request; `time.monotonic()` (same origin, kept continuous)
   costs nothing and gives the engine's loop one fewer chance to be descheduled per call.
6. **The engine reads the sockets itself while it drives** (`session.select`, `_io_wait`): pyghmi's IO thread
   selects on the client sockets and hands every packet over to the waiting caller through an Event and a wake-up
   datagram: two thread switches and a contended interpreter lock per reply, which cost more CPU than the crypto
   with hundreds of BMCs in flight. While the engine drives (`driving()`), the thread driving it selects and reads
   (pyghmi's own `_io_graball`) and pyghmi's IO thread sleeps until the engine is done; any other time pyghmi
   works exactly as shipped (with fix 1).
8. **Per-packet costs that buy nothing** (`Cipher`, `algorithms`, `modes`, `hmac`, `_io_sendto`): pyghmi sets its
   socket blocking before every send and non-blocking before every receive (two system calls per request), builds
   a new AES context per packet and HMACs through `hmac.new`. The engine's thread sends without the mode switch
   and receives with MSG_DONTWAIT; the session module's AES-CBC and HMAC are crypto.py's (same bytes, one AES
   context per session key, OpenSSL's one-shot HMAC).

`PATCHED` lists every pyghmi name used here; tests/ipmi/test_patches.py fails loudly when one disappears.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from pyghmi.ipmi.private import session as _s
from pyghmi.ipmi.private import util as _util

IPMI15_REFUSED = "BMC offers only IPMI 1.5, which sends the password in clear"
SUPPORTED_SUITES = (17, 3)  # pyghmi speaks RAKP-HMAC-SHA256 (17) and RAKP-HMAC-SHA1 (3), both with AES-CBC-128

# pyghmi names this module replaces, wraps or reads: module attributes, Session attributes, and instance
# attributes (checked in Session's source, since they exist only on live sessions).
PATCHED: dict[str, tuple[str, ...]] = {
    "module": (
        "_io_wait",
        "ioqueue",
        "sessionqueue",
        "selectdeadline",
        "iosockets",
        "myself",
        "ipv6support",
        "socket",
        "unmatched",
        "_monotonic_time",
        "WAITING_SESSIONS",
        "KEEPALIVE_SESSIONS",
        "MAX_IDLE",
        "select",
        "iothread",
        "_io_graball",
        "_io_sendto",
        "Cipher",
        "algorithms",
        "modes",
        "hmac",
    ),
    "Session": (
        "awaitresponse",
        "_open_rmcpplus_request",
        "_req_priv_level",
        "_got_channel_auth_cap",
        "raw_command",
        "wait_for_rsp",
        "logout",
        "_mark_broken",
        "onlogon",
        "waiting_sessions",
        "keepalive_sessions",
        "bmc_handlers",
    ),
    "instance": (
        "attemptedhash",
        "currhashlib",
        "incommand",
        "evq",
        "lastpayload",
        "pendingpayloads",
        "pktqueue",
        "lastresponse",
        "logged",
        "logging",
        "logontries",
        "maxtimeout",
        "logoutexpiry",
        "privlevel",
        "onlogpayload",
        "ipmicallback",
        "async_",
        "broken",
        "sockaddr",
        "bmc",
        "port",
        "userid",
    ),
}

_lock = threading.RLock()
_done: set[str] = set()
_tls = threading.local()  # (session, netfn, command) whose awaitresponse() runs on this thread
# (host, port) -> suites the caller allows, in order; consulted when pyghmi opens the RMCP+ session.
_allowed: dict[tuple[str, int], tuple[int, ...]] = {}
_bound_to: str | None = None


class BindTooLate(Exception):
    """The bind address was given after pyghmi had opened its socket."""


def install(*, wakeup_fix: bool = True, bind: str | None = None) -> None:
    """Patch pyghmi once per process (idempotent). `wakeup_fix=False` leaves the lost wake-up as shipped: only for
    bench/ipmi_poll.py's before/after comparison. `bind`: an IPv4 address for pyghmi's client socket."""
    with _lock:
        if "engine" not in _done:
            _patch_suite_choice()
            _patch_priv_level()
            _patch_auth_cap()
            _s.select = _SelectShim()
            offset = _s._monotonic_time() - time.monotonic()  # continuous with the timers already set
            _s._monotonic_time = lambda: time.monotonic() + offset
            _s._io_wait = _io_wait_or_pump
            _patch_packet_costs()
            _done.add("engine")
        if wakeup_fix and "wakeup" not in _done:
            _patch_wakeup()
            _done.add("wakeup")
        if bind:
            _bind_client_socket(bind)


def allow_suites(host: str, port: int, suites: tuple[int, ...]) -> None:
    _allowed[(host, port)] = suites


def suite_of(session: Any) -> int:
    return 17 if session.currhashlib.__name__.endswith("sha256") else 3


# ---------------------------------------------------------------- 6. the engine's thread does the IO

_driver: threading.Thread | None = None  # the thread driving the engine, while it does
_idle = threading.Event()
_idle.set()
_real_select = select.select
_shipped_io_wait = _s._io_wait


@contextlib.contextmanager
def driving() -> Iterator[None]:
    """While in this block, the calling thread reads pyghmi's sockets itself (`pump`), pyghmi's IO thread sleeps."""
    global _driver
    _driver = threading.current_thread()
    _idle.clear()
    try:
        yield
    finally:
        _driver = None
        _idle.set()


_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_CMSG = socket.CMSG_SPACE(16)
_stamped: set[int] = set()
_ports: dict[int, int] = {}  # id(socket) -> its local port (pyghmi's sockets live as long as the process)


def pump(timeout: float) -> None:
    """Wait up to `timeout` for datagrams on pyghmi's sockets and park them as pyghmi's IO thread would (each in its
    session's pktqueue, the session in sessionqueue); the caller then processes sessionqueue. Each session also gets
    `fleet_arrived`: when the kernel received its latest datagram (monotonic clock), so that a caller can tell the
    time a reply waited on our side from the network's."""
    socks = list(_s.iosockets)
    if not socks:
        return
    readable, _, _ = _real_select(socks, (), (), max(0.0, timeout))
    for sock in readable:
        _grab(sock)


def _grab(sock: Any) -> None:
    if id(sock) not in _stamped:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        _stamped.add(id(sock))
    myport = _ports.get(id(sock))
    if myport is None:
        myport = _ports[id(sock)] = sock.getsockname()[1]
    while True:
        try:  # whatever blocking mode pyghmi left the socket in: never wait here
            data, ancillary, _flags, addr = sock.recvmsg(3000, _CMSG, socket.MSG_DONTWAIT)
        except OSError:
            return
        if len(data) < 4:
            continue  # a wake-up datagram of pyghmi's IO thread
        handlers = _s.Session.bmc_handlers.get(addr)
        sess = handlers.get(myport) if handlers else None
        if sess is None:
            continue
        sess.fleet_arrived = _arrival(ancillary)
        sess.pktqueue.append((data, addr, sock, True))
        _s.sessionqueue.append(sess)


def _arrival(ancillary: Any) -> float:
    now_mono, now_wall = time.monotonic(), time.time()
    for level, kind, raw in ancillary:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(raw) >= 16:
            sec, nsec = struct.unpack("qq", raw[:16])
            return now_mono - max(0.0, now_wall - (int(sec) + int(nsec) / 1e9))
    return now_mono


class _SelectShim:
    """pyghmi's view of the `select` module: its IO thread sleeps instead of selecting while the engine drives."""

    def select(self, r: Any, w: Any, x: Any, timeout: float | None = None) -> Any:
        if _driver is not None and threading.current_thread() is _s.iothread:
            # not just until `timeout`: after any return pyghmi's IO thread reads every socket (_io_graball), and
            # would take the engine's replies from under it
            while _driver is not None:
                _idle.wait(1.0)
            return [], [], []
        return _real_select(r, w, x, timeout)

    def __getattr__(self, name: str) -> Any:
        return getattr(select, name)


def _io_wait_or_pump(timeout: float, myaddr: Any = None, evq: Any = None) -> None:
    if _driver is not None and threading.current_thread() is _driver:
        pump(timeout)  # the callers loop on their condition: a wait becomes one select in this thread
        return
    (_io_wait if "wakeup" in _done else _shipped_io_wait)(timeout, myaddr, evq)


# ---------------------------------------------------------------- 8. per-packet costs


def _patch_packet_costs() -> None:
    from fleet.collectors.ipmi import crypto

    _s.Cipher, _s.algorithms, _s.modes, _s.hmac = crypto.Cipher, crypto.algorithms, crypto.modes, crypto.hmac
    shipped_sendto = _s._io_sendto

    def io_sendto(mysocket: Any, packet: Any, sockaddr: Any) -> None:
        if _driver is None or threading.current_thread() is not _driver:
            shipped_sendto(mysocket, packet, sockaddr)
            return
        # No setblocking(1) first: a UDP send that finds the buffer full is a lost packet either way (pyghmi
        # ignores send errors too), and the retry timer resends it.
        with contextlib.suppress(OSError):
            mysocket.sendto(packet, sockaddr)

    _s._io_sendto = io_sendto


# ---------------------------------------------------------------- 1. lost wake-up


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
        # the event loop (and login): wait_for_rsp() drains sessionqueue right after this returns
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


def _patch_wakeup() -> None:
    original_await = _s.Session.awaitresponse

    def awaitresponse(self: Any, retry: Any, netfn: int, command: int) -> Any:
        outer = getattr(_tls, "expect", None)
        _tls.expect = (self, netfn, command)
        try:
            return original_await(self, retry, netfn, command)
        finally:
            _tls.expect = outer

    _s.Session.awaitresponse = awaitresponse


# ---------------------------------------------------------------- 2. cipher suite choice


def _patch_suite_choice() -> None:
    original = _s.Session._open_rmcpplus_request

    def open_request(self: Any) -> Any:
        allowed = _allowed.get((self.bmc, self.port), SUPPORTED_SUITES)
        if self.attemptedhash == 256 and allowed[0] == 3:
            self.attemptedhash = 1  # RAKP-HMAC-SHA1 straight away: cipher suite 3
        return original(self)

    _s.Session._open_rmcpplus_request = open_request


# ---------------------------------------------------------------- 3. privilege level without a nested wait


def end_command(session: Any) -> None:
    """What a raw_command caller with a callback must do when its reply came (pyghmi's own words: "caller *must*
    clean up self.incommand and self.evq")."""
    session.incommand = False
    while session.evq:
        session.evq.popleft().set()


def _patch_priv_level() -> None:
    original = _s.Session._req_priv_level

    def req_priv_level(self: Any) -> Any:
        if not getattr(self, "async_", False):
            return original(self)  # a synchronous login (pyghmi's Command): pyghmi's own code
        self.logged = 1
        self.logoutexpiry = None
        self.maxtimeout = 4  # as pyghmi: switch quickly to the relogin recovery
        self.logontries = 1
        _send_priv(self, retried=False)
        return None

    _s.Session._req_priv_level = req_priv_level


def _send_priv(self: Any, *, retried: bool) -> None:
    def got(response: dict[str, Any]) -> None:
        end_command(self)
        code = int(response.get("code", 0) or 0)
        if response.get("error") == "timeout" or code == 0xFFFF:
            self.logged = 0
            self.logging = False
            self.onlogon({"error": "timeout"})
            return
        if code:
            if code in (0x80, 0x81) and self.privlevel == 4 and not retried:
                self.privlevel = 3  # as pyghmi: some BMCs get this far, then refuse administrator
                _send_priv(self, retried=True)
                return
            self.logged = 0
            self.onlogpayload = None
            self.logging = False
            suffix = f" while requesting privilege level {self.privlevel}"
            self.onlogon({"error": _util.get_ipmi_error(response, suffix=suffix) or f"code 0x{code:02x}{suffix}"})
            return
        self.logging = False
        with _util.protect(_s.KEEPALIVE_SESSIONS):
            _s.Session.keepalive_sessions[self] = {
                "ipmisession": self,
                "timeout": _s._monotonic_time() + _s.MAX_IDLE - 4.9,
            }
        # after a re-login in the middle of a poll, pyghmi resends the command that timed out: its reply belongs
        # to the engine's callback, not to this one
        resume: Callable[[dict[str, Any]], None] | None = getattr(self, "fleet_callback", None)
        if resume is not None:
            self.ipmicallback = resume
        self.onlogon({"success": True})

    self.raw_command(netfn=0x06, command=0x3B, data=[self.privlevel], callback=got)


# ---------------------------------------------------------------- 4. no IPMI 1.5


def _patch_auth_cap() -> None:
    original = _s.Session._got_channel_auth_cap

    def got_channel_auth_cap(self: Any, response: dict[str, Any]) -> Any:
        data = response.get("data") or b""
        answered = "error" not in response and response.get("code") == 0 and len(data) >= 4
        # byte 1 bit 7: IPMI 2.0 extended capabilities follow; byte 3 bit 1: IPMI 2.0 connections supported
        if answered and not (data[1] & 0x80 and data[3] & 0x02):
            self.onlogon({"error": IPMI15_REFUSED})
            return None
        return original(self, response)

    _s.Session._got_channel_auth_cap = got_channel_auth_cap


# ---------------------------------------------------------------- 5. where pyghmi's client socket binds


class _SocketModule:
    """pyghmi's view of the `socket` module, whose sockets bind to one IPv4 address instead of the wildcard."""

    def __init__(self, address: str) -> None:
        real_socket = socket.socket

        class BoundSocket(real_socket):  # type: ignore[misc,valid-type]
            def bind(self, addr: Any) -> None:
                host, port = addr[0], addr[1]
                super().bind((address if host in ("", "0.0.0.0") else host, port))

        self.socket = BoundSocket

    def __getattr__(self, name: str) -> Any:
        return getattr(socket, name)


def _bind_client_socket(address: str) -> None:
    """Before pyghmi has created its socket: use IPv4 and bind to `address` only (e.g. 127.0.0.1 for tests)."""
    global _bound_to
    if _bound_to == address:
        return
    if _s.iosockets:
        raise BindTooLate(address)
    _s.ipv6support = False  # AF_INET sockets, no ::ffff: mapping of the BMC's address
    _s.myself = address  # where the IO thread's wake-up datagrams go
    _s.socket = _SocketModule(address)
    _bound_to = address
