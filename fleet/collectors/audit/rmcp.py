"""The few RMCP / RMCP+ packets a BMC security audit needs, built and read by hand (observe only).

pyghmi cannot propose cipher suite 0 and never asks Get Channel Authentication Capabilities for itself, so these
probes speak the wire format directly (IPMI 2.0 sections 13.6, 13.17-13.24, 22.13):

- `auth_capabilities`: one session-less Get Channel Authentication Capabilities: the IPMI 1.5 auth types offered at
  the administrator level, anonymous / null-user login, whether IPMI 2.0 is offered at all.
- `cipher_zero_session`: Open Session Request proposing authentication, integrity and confidentiality "none", then
  RAKP 1-4 for a user name without any password. A BMC that activates that session lets anyone who knows a user
  name in. The session is closed at once; nothing on the BMC is changed. A BMC refuses with an error status (0x11,
  no matching cipher suite) or by silence: silence counts as refused when the BMC still answers Get Channel
  Authentication Capabilities right after (else the controller is reported as not audited, "timeout").
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from dataclasses import dataclass

_RMCP = bytes([0x06, 0x00, 0xFF, 0x07])  # RMCP v1.0, no ack, class IPMI
_AUTH_BITS = {0: "NONE", 1: "MD2", 2: "MD5", 4: "PASSWORD"}
_ADMIN = 0x04


class ProbeError(Exception):
    """No usable answer (timeout, unreachable, malformed): the finding is unknown, not absent."""


class ProbeTimeout(ProbeError):
    """No answer at all (after one resend)."""


@dataclass(frozen=True, slots=True)
class AuthCapabilities:
    ipmi15_auth_types: tuple[str, ...]  # offered at the administrator level: NONE, MD2, MD5, PASSWORD
    anonymous_login: bool  # null user name with a null password
    null_usernames: bool  # null user name with a password
    ipmi20: bool  # IPMI 2.0 / RMCP+ offered
    ipmi15: bool  # IPMI 1.5 sessions offered (any auth type)


def _checksum(data: bytes) -> int:
    return (-sum(data)) & 0xFF


def _ipmi_message(netfn: int, cmd: int, data: bytes, seq: int = 0) -> bytes:
    head = bytes([0x20, netfn << 2])
    body = bytes([0x81, seq << 2, cmd, *data])
    return head + bytes([_checksum(head)]) + body + bytes([_checksum(body)])


def _exchange(host: str, port: int, packet: bytes, timeout: float, accept: object = None) -> bytes:
    """Send one datagram and return the first answer (resent once: UDP)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout / 2)
        for _attempt in range(2):
            try:
                s.sendto(packet, (host, port))
                deadline = time.monotonic() + timeout / 2
                while time.monotonic() < deadline:
                    data, _addr = s.recvfrom(4096)
                    if callable(accept) and not accept(data):
                        continue
                    return data
            except TimeoutError:
                continue
            except OSError as exc:
                raise ProbeError(f"unreachable: {exc.strerror or exc}") from None
    raise ProbeTimeout("timeout")


def auth_capabilities(host: str, port: int = 623, timeout: float = 2.0) -> AuthCapabilities:
    """Get Channel Authentication Capabilities (session-less, IPMI 1.5 framing), asking for the IPMI 2.0 bits."""
    for data in (bytes([0x8E, _ADMIN]), bytes([0x0E, _ADMIN])):  # with, then without, the "v2.0 data" bit
        msg = _ipmi_message(0x06, 0x38, data)
        packet = _RMCP + bytes([0x00]) + bytes(8) + bytes([len(msg)]) + msg
        answer = _exchange(host, port, packet, timeout)
        # RMCP(4) + auth type(1) + seq(4) + session id(4) [+ auth code(16) when auth type != 0] + length(1) + message
        offset = 4 + 1 + 8 + (16 if len(answer) > 4 and answer[4] != 0 else 0) + 1
        msg_in = answer[offset:]
        if len(msg_in) < 7:
            raise ProbeError("protocol: short answer to Get Channel Authentication Capabilities")
        code = msg_in[6]
        if code != 0:
            continue  # a 1.5-only BMC may refuse the v2.0 bit: ask again without it
        caps = msg_in[7:-1]
        if len(caps) < 4:
            raise ProbeError("protocol: short authentication capabilities")
        types = tuple(name for bit, name in _AUTH_BITS.items() if caps[1] & (1 << bit))
        extended = bool(caps[1] & 0x80)
        ipmi20 = extended and bool(caps[3] & 0x02)
        ipmi15 = bool(types) and (not extended or bool(caps[3] & 0x01))
        return AuthCapabilities(types, bool(caps[2] & 0x01), bool(caps[2] & 0x02), ipmi20, ipmi15)
    raise ProbeError(f"protocol: Get Channel Authentication Capabilities refused (code 0x{code:02x})")


def _rmcpplus(payload_type: int, payload: bytes, session_id: int = 0, seq: int = 0) -> bytes:
    head = bytes([0x06, payload_type]) + session_id.to_bytes(4, "little") + seq.to_bytes(4, "little")
    return _RMCP + head + len(payload).to_bytes(2, "little") + payload


def _payload(answer: bytes, payload_type: int) -> bytes:
    if len(answer) < 16 or answer[4] != 0x06 or answer[5] & 0x3F != payload_type:
        raise ProbeError("protocol: unexpected RMCP+ answer")
    length = int.from_bytes(answer[14:16], "little")
    return answer[16 : 16 + length]


def cipher_zero_session(host: str, user: str, port: int = 623, timeout: float = 2.0) -> bool:
    """True when the BMC activates a session with no authentication at all for `user` (no password sent)."""
    console_id = int.from_bytes(os.urandom(4), "little") | 1
    algorithms = bytes([0, 0, 0, 8, 0, 0, 0, 0, 1, 0, 0, 8, 0, 0, 0, 0, 2, 0, 0, 8, 0, 0, 0, 0])
    request = bytes([1, _ADMIN, 0, 0]) + console_id.to_bytes(4, "little") + algorithms
    try:
        answer = _exchange(host, port, _rmcpplus(0x10, request), timeout)
    except ProbeTimeout:
        # Many BMCs drop an Open Session Request they will not serve rather than answer it with an error status.
        # Silence counts as "refused" only when the BMC answers a session-less request right after; else it is gone.
        try:
            auth_capabilities(host, port, timeout)
        except ProbeError:
            raise ProbeTimeout("timeout (no answer to the cipher 0 request, nor to one after it)") from None
        return False
    opened = _payload(answer, 0x11)
    if len(opened) < 12 or opened[1] != 0:
        return False  # refused: no matching cipher suite, or another status
    bmc_id = int.from_bytes(opened[8:12], "little")
    if len(opened) >= 36 and (opened[16], opened[24], opened[32]) != (0, 0, 0):
        return False  # the BMC answered with real algorithms: it did not take "none"
    name = user.encode("utf-8")[:16]
    rakp1 = bytes([2, 0, 0, 0]) + bmc_id.to_bytes(4, "little") + os.urandom(16)
    rakp1 += bytes([0x10 | _ADMIN, 0, 0, len(name)]) + name
    rakp2 = _payload(_exchange(host, port, _rmcpplus(0x12, rakp1), timeout), 0x13)
    if len(rakp2) < 2 or rakp2[1] != 0:
        return False  # unknown user name (RAKP status 0x0d) or another refusal
    rakp3 = bytes([3, 0, 0, 0]) + bmc_id.to_bytes(4, "little")  # no key exchange code: there is no key
    rakp4 = _payload(_exchange(host, port, _rmcpplus(0x14, rakp3), timeout), 0x15)
    if len(rakp4) < 2 or rakp4[1] != 0:
        return False
    _close(host, port, bmc_id, timeout)
    return True


def _close(host: str, port: int, session_id: int, timeout: float) -> None:
    """Close Session on the session just opened (no integrity, no encryption: it has none)."""
    msg = _ipmi_message(0x06, 0x3C, session_id.to_bytes(4, "little"), seq=1)
    with contextlib.suppress(ProbeError):  # else the BMC times the session out by itself
        _exchange(host, port, _rmcpplus(0x00, msg, session_id, 1), timeout)
