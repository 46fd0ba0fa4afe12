"""A UDP relay on loopback in front of one ipmi_sim that refuses cipher suite 0, which ipmi_sim itself cannot.

Every RMCP / RMCP+ datagram is forwarded both ways, except an RMCP+ Open Session Request whose authentication
payload proposes algorithm "none": that one is dropped (mode "drop", what many BMCs do) or answered with an Open
Session Response of status 0x11, no matching cipher suite (mode "refuse", what the IPMI 2.0 specification asks).
Mode "vanish" drops it and everything after it: a controller that went away in the middle of the audit.
"""

from __future__ import annotations

import selectors
import socket
import threading

_OPEN_SESSION_REQUEST, _OPEN_SESSION_RESPONSE = 0x10, 0x11
_NO_CIPHER_SUITE_MATCH = 0x11


def open_session_payload(packet: bytes) -> bytes | None:
    """The payload of an RMCP+ Open Session Request, or None for any other datagram."""
    if len(packet) < 16 or packet[3] != 0x07 or packet[4] != 0x06 or packet[5] & 0x3F != _OPEN_SESSION_REQUEST:
        return None
    length = int.from_bytes(packet[14:16], "little")
    return packet[16 : 16 + length]


def proposes_no_auth(payload: bytes) -> bool:
    """Tag, privilege, 2 reserved, console session id (4), then the authentication payload: type 0, 2 reserved,
    length 8, algorithm (low 6 bits; 0 is "none"), 3 reserved (IPMI 2.0 table 13-16)."""
    return len(payload) >= 16 and payload[8] == 0x00 and payload[11] == 8 and payload[12] & 0x3F == 0


def refusal(payload: bytes) -> bytes:
    """Open Session Response: tag, status, 2 reserved, the console's session id; nothing more on an error."""
    body = bytes([payload[0], _NO_CIPHER_SUITE_MATCH, 0, 0]) + payload[4:8]
    head = bytes([0x06, 0x00, 0xFF, 0x07, 0x06, _OPEN_SESSION_RESPONSE]) + bytes(8)
    return head + len(body).to_bytes(2, "little") + body


class CipherZeroFilter:
    def __init__(self, upstream_port: int, mode: str = "drop") -> None:
        assert mode in ("drop", "refuse", "vanish")
        self.mode = mode
        self.upstream = ("127.0.0.1", upstream_port)
        self.dropped = 0  # Open Session Requests proposing no authentication that did not reach the simulator
        self._listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._listen.bind(("127.0.0.1", 0))
        self.port: int = self._listen.getsockname()[1]
        self._clients: dict[tuple[str, int], socket.socket] = {}  # one upstream socket per client: answers go back
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._listen, selectors.EVENT_READ)
        sel.register(self._wake_r, selectors.EVENT_READ)
        while True:
            for key, _events in sel.select():
                if key.fileobj is self._wake_r:
                    sel.close()
                    return
                if key.fileobj is self._listen:
                    data, client = self._listen.recvfrom(65535)
                    self._from_client(sel, data, client)
                else:
                    up: socket.socket = key.fileobj  # type: ignore[assignment]
                    try:
                        self._listen.sendto(up.recv(65535), key.data)
                    except OSError:  # the simulator's port is closed (ICMP refused): the client times out
                        continue

    def _from_client(self, sel: selectors.BaseSelector, data: bytes, client: tuple[str, int]) -> None:
        if self.mode == "vanish" and self.dropped:
            return
        payload = open_session_payload(data)
        if payload is not None and proposes_no_auth(payload):
            self.dropped += 1
            if self.mode == "refuse":
                self._listen.sendto(refusal(payload), client)
            return
        up = self._clients.get(client)
        if up is None:
            up = self._clients[client] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            up.bind(("127.0.0.1", 0))
            up.connect(self.upstream)
            sel.register(up, selectors.EVENT_READ, data=client)
        up.send(data)

    def close(self) -> None:
        self._wake_w.send(b"x")
        self._thread.join(10)
        for s in (*self._clients.values(), self._listen, self._wake_r, self._wake_w):
            s.close()
