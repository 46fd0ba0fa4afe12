"""One RMCP+ session with pyghmi: bytes credentials, cipher suite choice, a deadline, raw commands, error mapping."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

from pyghmi import exceptions as pyghmi_exc
from pyghmi.ipmi import command as pyghmi_command
from pyghmi.ipmi.private import session as pyghmi_session

from fleet.collectors.ipmi.wakeup import install_wakeup_fix
from fleet.collectors.targets import IpmiOptions, IpmiTarget

SUPPORTED_SUITES = (17, 3)  # pyghmi speaks RAKP-HMAC-SHA256 (17) and RAKP-HMAC-SHA1 (3), both with AES-CBC-128

# pyghmi's login messages (constants.rmcp_codes and the RAKP checks) that mean "these credentials are wrong".
_AUTH_MARKERS = ("password", "unauthorized", "invalid role", "privilege", "username", "invalid integrity check")


class PollTimeout(Exception):
    """The per-host deadline passed."""


class PollFailure(Exception):
    """A poll that cannot go on; `error` is the one-line PollResult.error."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def check(self) -> None:
        if time.monotonic() >= self.at:
            raise PollTimeout


# ---------------------------------------------------------------- cipher suite choice

_suite_lock = threading.Lock()
# (host, port) -> suites the caller allows, in order; consulted when pyghmi opens the RMCP+ session.
_allowed: dict[tuple[str, int], tuple[int, ...]] = {}
_patched = False


def _install_suite_choice() -> None:
    """pyghmi always proposes suite 17 and silently falls back to 3. Let the target's list decide the first try."""
    global _patched
    with _suite_lock:
        if _patched:
            return
        original = pyghmi_session.Session._open_rmcpplus_request

        def open_request(self: Any) -> Any:
            allowed = _allowed.get((self.bmc, self.port), SUPPORTED_SUITES)
            if self.attemptedhash == 256 and allowed[0] == 3:
                self.attemptedhash = 1  # RAKP-HMAC-SHA1 straight away: cipher suite 3
            return original(self)

        pyghmi_session.Session._open_rmcpplus_request = open_request
        _patched = True


def suite_of(cmd: Any) -> int:
    return 17 if cmd.ipmi_session.currhashlib.__name__.endswith("sha256") else 3


# ---------------------------------------------------------------- where pyghmi's client socket binds

_bound_to: str | None = None


class _SocketModule:
    """pyghmi's view of the `socket` module, whose sockets bind to one IPv4 address instead of the wildcard."""

    def __init__(self, address: str) -> None:
        self._address = address
        real_socket = socket.socket

        class BoundSocket(real_socket):  # type: ignore[misc,valid-type]
            def bind(self, addr: Any) -> None:
                host, port = addr[0], addr[1]
                super().bind((address if host in ("", "0.0.0.0") else host, port))

        self.socket = BoundSocket

    def __getattr__(self, name: str) -> Any:
        return getattr(socket, name)


def _bind_client_socket(address: str | None) -> None:
    """Honour the `ipmi_bind` setting (an IPv4 address, e.g. 127.0.0.1 for tests and demos on loopback).

    pyghmi binds its one client socket to the IPv6 wildcard (`('', 0)`, dual stack). With an address given, and
    before pyghmi has created its socket, it is made to use IPv4 and bind to that address only.
    """
    global _bound_to
    if not address or _bound_to == address:
        return
    if pyghmi_session.iosockets:
        raise PollFailure("protocol: ipmi_bind set after pyghmi opened its socket")
    pyghmi_session.ipv6support = False  # AF_INET sockets, no ::ffff: mapping of the BMC's address
    pyghmi_session.myself = address  # where the IO thread's wake-up datagrams go
    pyghmi_session.socket = _SocketModule(address)
    _bound_to = address


# ---------------------------------------------------------------- connecting


def classify(exc: BaseException) -> str:
    """A one-line PollResult.error for an exception pyghmi raised."""
    text = str(exc) if str(exc) not in ("", "None") else ""
    low = text.lower()
    if any(m in low for m in _AUTH_MARKERS):
        return "auth"
    if not text or "timeout" in low or "no longer connected" in low or "unable to transmit" in low:
        return "timeout"
    return "protocol: " + text.splitlines()[0][:120]


def connect(target: IpmiTarget, preferred_suite: int | None, options: IpmiOptions | None = None) -> Any:
    """Log in (privilege: administrator is not needed; pyghmi asks for what the channel grants)."""
    options = options or IpmiOptions()
    if options.wakeup_fix:
        install_wakeup_fix()
    _install_suite_choice()
    _bind_client_socket(options.bind)
    suites = tuple(s for s in target.cipher_suites if s in SUPPORTED_SUITES)
    if not suites:
        raise PollFailure("protocol: no usable cipher suite (supported: 17, 3; 0 is never used)")
    if preferred_suite in suites:
        # the suite that worked last time first: saves the refused round trip on BMCs without 17
        suites = (preferred_suite, *(s for s in suites if s != preferred_suite))
    _allowed[(target.host, target.port)] = suites
    try:
        # bytes, not str: with str a second Command to the same BMC can find a stale session and hang
        cmd = pyghmi_command.Command(
            bmc=target.host,
            userid=target.user.encode("utf-8"),
            password=target.password.as_bytes(),
            port=target.port,
            keepalive=False,
        )
    except pyghmi_exc.IpmiException as exc:
        raise PollFailure(classify(exc)) from None
    if suite_of(cmd) not in suites:
        logout(cmd)
        raise PollFailure(f"protocol: BMC refused cipher suite {suites[0]} and fell back to {suite_of(cmd)}")
    return cmd


def logout(cmd: Any) -> None:
    # a failed logout only lets the BMC time the session out
    with contextlib.suppress(Exception):
        cmd.ipmi_session.logout()


def raw(
    cmd: Any, deadline: Deadline, netfn: int, command: int, data: bytes | tuple[int, ...] = ()
) -> tuple[int, bytes]:
    """One request: (completion code, response data). Raises PollTimeout past the deadline."""
    deadline.check()
    try:
        rsp = cmd.raw_command(netfn=netfn, command=command, data=tuple(data))
    except pyghmi_exc.IpmiException as exc:
        err = classify(exc)
        if err == "timeout":
            raise PollTimeout from None
        raise PollFailure(err) from None
    code = int(rsp.get("code", 0))
    if code == 0xFFFF or rsp.get("error") == "timeout":
        raise PollTimeout
    return code, bytes(rsp.get("data", b""))
