"""A simulated IPMI 2.0 BMC (RMCP+ / lanplus) built on pyghmi's server side.

pyghmi's `Bmc` routes packets through a process-wide IO thread shared with pyghmi *clients*; a demo that polls its
own simulators from the same process would then have client and server competing for that machinery. So a
`SimBmc` owns its socket and is fed datagrams by the caller's event loop (`fleet.sim.run`), while the RMCP+ framing,
integrity and AES encryption stay pyghmi's (`Session.send_payload`, `_handle_ipmi2_packet`). The session handshake
is re-implemented here for two reasons: pyghmi's server only knows cipher suite 3, and it registers every session in
pyghmi's global client tables.

Cipher suites: 3 (RAKP-HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128) and 17 (RAKP-HMAC-SHA256, HMAC-SHA256-128, AES-CBC-128).
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import logging
import os
import socket
import struct
import time
import uuid
from collections.abc import Callable
from typing import Any

import pyghmi.ipmi.bmc as pyghmi_bmc
import pyghmi.ipmi.private.constants as constants
import pyghmi.ipmi.private.serversession as serversession

from fleet.sim.faults import MachineState
from fleet.sim.ipmi_records import (
    MANUFACTURERS,
    fru_devices_of,
    fru_image,
    layout_stamp,
    sdr_repository,
    sel_records,
    sensor_reading,
    sensor_thresholds,
    sensors_of,
)
from fleet.sim.layout import DISK, FAN

log = logging.getLogger(__name__)

# (auth, integrity, confidentiality) algorithm numbers -> (hash, integrity length) for the two suites served.
SUITES: dict[tuple[int, int, int], tuple[Any, int]] = {
    (1, 1, 1): (hashlib.sha1, 12),  # cipher suite 3
    (3, 4, 1): (hashlib.sha256, 16),  # cipher suite 17
}
SESSION_IDLE_S = 60.0  # an RMCP+ session without traffic for this long is forgotten (the spec's default timeout)

# Completion codes.
CC_OK, CC_INVALID_RESERVATION, CC_NOT_PRESENT, CC_OUT_OF_RANGE, CC_INVALID_FIELD = 0x00, 0xC5, 0xCB, 0xC9, 0xCC
CC_UNKNOWN_COMMAND = 0xC1


class SimSession(serversession.ServerSession):
    """One RMCP+ session of a simulated BMC with one client address."""

    def __new__(cls, *args: Any, **kwargs: Any) -> SimSession:
        return object.__new__(cls)

    def __init__(self, bmc: SimBmc, clientaddr: Any, request: bytes) -> None:
        # The attributes pyghmi's Session methods read (see ServerSession.__init__), without its global registry.
        self.uuid = bmc.uuid
        self.rqaddr = constants.IPMI_BMC_ADDRESS
        self.authdata = bmc.authdata
        self.servermode = True
        self.ipmiversion = 2.0
        self.sequencenumber = 0
        self.sessionid = 0
        self.bmc = bmc
        self.lastpayload = None
        self.rqlun = None
        self.broken = False
        self.authtype = 6
        self.integrityalgo = 0
        self.confalgo = 0
        self.kg = bmc.kg
        self.k1: bytes | None = None
        self.socket = bmc.serversocket
        self.sockaddr = clientaddr
        self.pendingpayloads: Any = collections.deque()
        self.pktqueue: Any = collections.deque()
        self.currhashlib: Any = hashlib.sha1
        self.currhashlen = 12
        self.clientpriv = 4
        self.maxpriv = 4
        self.username = b""
        self.last_seen = time.monotonic()
        self._customkeepalives = None
        self._open(bytearray(request))

    # --- handshake -------------------------------------------------------------------------------------------

    def _open(self, request: bytearray) -> None:
        clienttag = request[0]
        self.clientsessionid = request[4:8]
        self.managedsessionid = bytearray(os.urandom(4))
        algorithms = (request[12] & 0x3F, request[20] & 0x3F, request[28] & 0x3F) if len(request) >= 32 else (1, 1, 1)
        status = 0 if algorithms in SUITES else 0x11  # "no cipher suite match"
        self.hashlib, self.icvlen = SUITES.get(algorithms, SUITES[(1, 1, 1)])
        auth, integ, conf = algorithms if status == 0 else (1, 1, 1)
        response = bytearray([clienttag, status, 4, 0]) + self.clientsessionid
        if status == 0:
            response += self.managedsessionid + bytearray(
                [0, 0, 0, 8, auth, 0, 0, 0, 1, 0, 0, 8, integ, 0, 0, 0, 2, 0, 0, 8, conf, 0, 0, 0]
            )
        self.send_payload(response, constants.payload_types["rmcpplusopenresponse"], retry=False)

    def _got_rmcp_openrequest(self, data: bytearray) -> None:
        self._open(bytearray(data))

    def _got_rakp1(self, data: bytearray) -> None:
        clienttag = data[0]
        self.Rm = data[8:24]
        self.rolem = data[24]
        self.maxpriv = self.rolem & 0b1111
        self.clientpriv = self.maxpriv
        self.username = bytes(data[28 : 28 + data[27]])
        password = self.authdata.get(self.username.decode("utf-8", "replace"))
        if not self.username or password is None:
            # An unknown user gets a clear "unauthorized name" instead of silence (a client reports it as auth).
            nak = bytearray([clienttag, 0x0D, 0, 0]) + self.clientsessionid
            self.send_payload(nak, constants.payload_types["rakp2"], retry=False)
            return
        self.uuiddata = self.uuid.bytes
        self.Rc = os.urandom(16)
        self.kuid = password.encode("utf-8")
        hmacdata = (
            self.clientsessionid
            + self.managedsessionid
            + self.Rm
            + self.Rc
            + self.uuiddata
            + bytearray([self.rolem, len(self.username)])
            + self.username
        )
        authcode = hmac.new(self.kuid, bytes(hmacdata), self.hashlib).digest()
        message = bytearray([clienttag, 0, 0, 0]) + self.clientsessionid + self.Rc + self.uuiddata + authcode
        self.send_payload(message, constants.payload_types["rakp2"], retry=False)

    def _got_rakp3(self, data: bytearray) -> None:
        if not hasattr(self, "kuid"):
            return
        clienttag = data[0]
        if data[1] != 0:
            return  # the client rejected our RAKP2 (wrong password on its side): nothing to answer
        role_user = struct.pack("2B", self.rolem, len(self.username)) + self.username
        expected = hmac.new(self.kuid, bytes(self.Rc + self.clientsessionid) + role_user, self.hashlib).digest()
        if not hmac.compare_digest(expected, bytes(data[8:])):
            self._send_rakp4(clienttag, 0x0F)  # invalid integrity check value
            return
        kg = self.kg or self.kuid
        self.sik = hmac.new(kg, bytes(self.Rm + self.Rc) + role_user, self.hashlib).digest()
        # K1/K2 come from 20-byte constants for every suite (IPMI 2.0 section 13.32), SHA-256 included.
        self.k1 = hmac.new(self.sik, b"\x01" * 20, self.hashlib).digest()
        self.k2 = hmac.new(self.sik, b"\x02" * 20, self.hashlib).digest()
        self.aeskey = self.k2[:16]
        self.localsid = struct.unpack("<I", bytes(self.managedsessionid))[0]
        self.ipmicallback = self.handle_client_request
        self._send_rakp4(clienttag, 0)

    def _send_rakp4(self, tagvalue: int, statuscode: int) -> None:
        payload = bytearray([tagvalue, statuscode, 0, 0]) + self.clientsessionid
        if statuscode == 0:
            icv = hmac.new(self.sik, bytes(self.Rm + self.managedsessionid + self.uuiddata), self.hashlib).digest()
            payload += icv[: self.icvlen]
        self.send_payload(payload, constants.payload_types["rakp4"], retry=False)
        if statuscode:
            return
        # pyghmi only tests these for truth (0 = none); it uses the same strings in its own server.
        self.confalgo = "aes"  # type: ignore[assignment]
        self.integrityalgo = "sha"  # type: ignore[assignment]
        self.currhashlib = self.hashlib
        self.currhashlen = self.icvlen
        self.sequencenumber = 1
        self.sessionid = struct.unpack("<I", bytes(self.clientsessionid))[0]

    def close_server_session(self) -> None:
        self.bmc.forget(self.sockaddr)

    def _xmit_packet(self, retry: bool = True, delay_xmit: Any = None, timeout: Any = None) -> None:
        # Straight to our own socket: no pyghmi retry bookkeeping (a server never retries).
        if self.sequencenumber:
            self.sequencenumber += 1
        try:
            self.socket.sendto(bytes(self.netpacket), self.sockaddr)
        except OSError as exc:  # the client went away; it will retry or give up
            log.debug("send to %s failed: %s", self.sockaddr, exc)


class SimBmc(pyghmi_bmc.Bmc):
    """A BMC for one simulated server. Feed it datagrams with `datagram_received`; it answers on its own socket."""

    def __init__(self, state: MachineState, users: dict[str, str], clock: Callable[[], float] = time.time) -> None:
        server = state.server
        self.state = state
        self.server = server
        self.clock = clock
        self.authdata = dict(users)
        self.kg = None
        self.uuid = uuid.UUID(bytes=hashlib.md5(server.key.encode()).digest())
        self.port = server.port
        self.timeout = 60
        self.pktqueue: Any = collections.deque()
        self.revision = 1
        self.deviceid = 0x20
        self.firmwaremajor = 2
        self.firmwareminor = 0x30
        self.ipmiversion = 2
        self.additionaldevices = 0x8F  # chassis, FRU inventory, SEL, SDR repository, sensor device
        self.mfgid = MANUFACTURERS[server.vendor][1]
        self.prodid = 0x0100
        # Get Channel Authentication Capabilities: IPMI 2.0 only, user-level auth on (see IpmiServer.__init__).
        self.authcap = struct.pack("BBBBBBBBB", 0, 1, 0b10000000, 0b00000100, 0b00000010, 0, 0, 0, 0)
        self.sessions: dict[Any, SimSession] = {}
        self.sensors = {s.number: s for s in sensors_of(server)}
        self.sdrs = sdr_repository(server)
        self.sdr_stamp = layout_stamp(server)
        self.fru_ids = {0} | {f.fru_id for f in fru_devices_of(server)}
        self.reservation = 1
        self.sel_cleared = 0  # changes before this index were cleared by Clear SEL
        self._sel_cache: tuple[int, list[bytes]] = (-1, [])
        self.serversocket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.serversocket.bind((server.host, server.port))
        except OSError:
            self.serversocket.close()
            raise
        self.serversocket.setblocking(False)

    def close(self) -> None:
        self.sessions.clear()
        self.serversocket.close()

    def forget(self, clientaddr: Any) -> None:
        self.sessions.pop(clientaddr, None)

    # --- packet routing ------------------------------------------------------------------------------------------

    def read_ready(self) -> None:
        """Drain the socket (called by the event loop when it is readable)."""
        for _ in range(64):  # bounded, so one chatty client cannot starve the other BMCs on the loop
            try:
                data, addr = self.serversocket.recvfrom(3000)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.debug("recv on %s failed: %s", self.server.key, exc)
                return
            try:
                self.datagram_received(data, addr)
            except Exception:  # a malformed packet must never stop the simulator
                log.exception("simulated BMC %s: bad packet from %s", self.server.key, addr)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if len(data) < 6 or data[0] != 6 or data[2:4] != b"\xff\x07":
            return  # not RMCP/IPMI
        now = time.monotonic()
        session = self.sessions.get(addr)
        if session is not None and now - session.last_seen > SESSION_IDLE_S:
            self.forget(addr)
            session = None
        if data[4] == 6 and (data[5] & 0x3F) == 0x10:
            # A new RMCP+ open session request: a new session even if this client port had one.
            if len(self.sessions) > 256:
                self._expire(now)
            self.sessions[addr] = SimSession(self, addr, bytes(data[16:]))
            return
        if session is not None and data[4] == 6:
            session.last_seen = now
            session._handle_ipmi2_packet(bytearray(data))
            return
        self.sessionless_data(data, addr)

    def _expire(self, now: float) -> None:
        for addr, s in list(self.sessions.items()):
            if now - s.last_seen > SESSION_IDLE_S:
                del self.sessions[addr]

    def send_cipher_suites(self, myaddr, mylun, clientaddr, clientlun, clientseq, data, sockaddr):  # type: ignore[no-untyped-def]
        # Get Channel Cipher Suites: list suites 3 and 17 (tag 0xC0|id, then auth/integrity/conf algorithms).
        records = bytes([0xC0, 0x03, 0x01, 0x41, 0x81, 0xC0, 0x11, 0x03, 0x44, 0x81])
        start = data[22] & 0x3F if len(data) > 22 else 0
        chunk = records[start * 16 : start * 16 + 16]
        body = bytes([myaddr, mylun | clientseq << 2, 0x54, 0x00, 0x01]) + chunk
        ipmihdr = bytes([clientaddr, clientlun | (7 << 2)])
        msg = ipmihdr + bytes([_checksum(ipmihdr)]) + body + bytes([_checksum(body)])
        header = b"\x06\x00\xff\x07\x06\x00" + b"\x00" * 8 + struct.pack("<H", len(msg))
        self._send(header + msg, sockaddr)

    def send_auth_cap(self, myaddr, mylun, clientaddr, clientlun, clientseq, sockaddr):  # type: ignore[no-untyped-def]
        body = bytes([myaddr, mylun | (clientseq << 2), 0x38]) + self.authcap
        ipmihdr = bytes([clientaddr, clientlun | (7 << 2)])
        msg = ipmihdr + bytes([_checksum(ipmihdr)]) + body + bytes([_checksum(body)])
        self._send(b"\x06\x00\xff\x07\x00" + b"\x00" * 8 + bytes([len(msg)]) + msg, sockaddr)

    def _send(self, packet: bytes, addr: Any) -> None:
        try:
            self.serversocket.sendto(packet, addr)
        except OSError as exc:
            log.debug("send to %s failed: %s", addr, exc)

    # --- IPMI commands -----------------------------------------------------------------------------------------

    def handle_raw_request(self, request: dict[str, Any], session: Any) -> None:
        netfn, command, data = request["netfn"], request["command"], bytes(request["data"])
        try:
            handler = self._handlers().get((netfn, command))
            if handler is None:
                session.send_ipmi_response(code=CC_UNKNOWN_COMMAND)
                return
            code, payload = handler(data)
            session.send_ipmi_response(code=code, data=list(payload) if code == CC_OK else [])
        except (IndexError, struct.error):
            session.send_ipmi_response(code=0xC7)  # request data length invalid
        except Exception:
            log.exception("simulated BMC %s: netfn %#x cmd %#x", self.server.key, netfn, command)
            session.send_ipmi_response(code=0xFF)

    def _handlers(self) -> dict[tuple[int, int], Callable[[bytes], tuple[int, bytes]]]:
        return {
            (0x06, 0x01): self._device_id,
            (0x06, 0x37): lambda d: (CC_OK, self.uuid.bytes_le),
            (0x00, 0x01): self._chassis_status,
            (0x00, 0x02): self._chassis_control,
            (0x04, 0x2D): self._sensor_reading,
            (0x04, 0x27): self._sensor_thresholds,
            (0x0A, 0x10): self._fru_info,
            (0x0A, 0x11): self._fru_read,
            (0x0A, 0x20): self._sdr_info,
            (0x0A, 0x21): self._sdr_alloc,
            (0x0A, 0x22): self._reserve,
            (0x0A, 0x23): self._get_sdr,
            (0x0A, 0x40): self._sel_info,
            (0x0A, 0x41): self._sel_alloc,
            (0x0A, 0x42): self._reserve,
            (0x0A, 0x43): self._get_sel,
            (0x0A, 0x47): self._clear_sel,
            (0x0A, 0x48): lambda d: (CC_OK, struct.pack("<I", int(self.clock()) & 0xFFFFFFFF)),
            (0x0A, 0x49): lambda d: (CC_OK, b""),  # Set SEL Time: accepted, the simulator keeps real time
        }

    def _device_id(self, data: bytes) -> tuple[int, bytes]:
        mfg = struct.pack("<I", self.mfgid)[:3]
        body = (
            bytes(
                [
                    self.deviceid,
                    self.revision,
                    self.firmwaremajor,
                    self.firmwareminor,
                    self.ipmiversion,
                    self.additionaldevices,
                ]
            )
            + mfg
            + struct.pack("<H", self.prodid)
            + b"\x00\x00\x00\x00"
        )
        return CC_OK, body

    def _chassis_status(self, data: bytes) -> tuple[int, bytes]:
        on = self.state.power_on()
        power_fault = 0 if on else 0x08  # main power fault
        last_event = 0 if on else 0x01  # "AC failed" when the PSUs are gone
        problems = self.state.problems()
        kinds = {kind for slot, kind in self.server.layout.slots() if slot in problems}
        misc = (0x04 if DISK in kinds else 0) | (0x08 if FAN in kinds else 0)  # drive fault, cooling/fan fault
        return CC_OK, bytes([(0x01 if on else 0x00) | 0x40 | power_fault, last_event, misc, 0x00])

    def _chassis_control(self, data: bytes) -> tuple[int, bytes]:
        directive = data[0]
        if directive in (0, 5):  # power down, soft shutdown
            self.state.set_power(False)
        elif directive in (1, 2, 3):  # up, cycle, reset: on again, as far as the PSUs allow
            self.state.set_power(None)
        elif directive != 4:  # 4 (diagnostic interrupt) is accepted and does nothing here
            return CC_INVALID_FIELD, b""
        return CC_OK, b""

    def _sensor_reading(self, data: bytes) -> tuple[int, bytes]:
        sensor = self.sensors.get(data[0])
        if sensor is None:
            return CC_NOT_PRESENT, b""
        return CC_OK, sensor_reading(sensor, self.state)

    def _sensor_thresholds(self, data: bytes) -> tuple[int, bytes]:
        sensor = self.sensors.get(data[0])
        if sensor is None:
            return CC_NOT_PRESENT, b""
        if not sensor.threshold:
            return CC_INVALID_FIELD, b""
        return CC_OK, sensor_thresholds(sensor)

    def _fru_info(self, data: bytes) -> tuple[int, bytes]:
        image = fru_image(self.server, self.state, data[0]) if data[0] in self.fru_ids else None
        if image is None:
            return CC_NOT_PRESENT, b""
        return CC_OK, struct.pack("<HB", len(image), 0)

    def _fru_read(self, data: bytes) -> tuple[int, bytes]:
        fru_id, offset, count = data[0], struct.unpack("<H", data[1:3])[0], data[3]
        image = fru_image(self.server, self.state, fru_id) if fru_id in self.fru_ids else None
        if image is None:
            return CC_NOT_PRESENT, b""
        if offset >= len(image):
            return CC_OUT_OF_RANGE, b""
        chunk = image[offset : offset + count]  # as many bytes as asked, however few: clients probe with small reads
        return CC_OK, bytes([len(chunk)]) + chunk

    def _sdr_info(self, data: bytes) -> tuple[int, bytes]:
        stamp = struct.pack("<I", self.sdr_stamp)
        return CC_OK, bytes([0x51]) + struct.pack("<HH", len(self.sdrs), 0) + stamp + stamp + bytes([0x03])

    def _sdr_alloc(self, data: bytes) -> tuple[int, bytes]:
        return CC_OK, struct.pack("<HHHHB", len(self.sdrs), 64, 0, 0, 4)

    def _reserve(self, data: bytes) -> tuple[int, bytes]:
        self.reservation = self.reservation % 0xFFFF + 1
        return CC_OK, struct.pack("<H", self.reservation)

    @staticmethod
    def _read_record(records: list[bytes], record_id: int, offset: int, count: int) -> tuple[int, bytes]:
        if not records:
            return CC_NOT_PRESENT, b""
        if record_id == 0xFFFF:
            index = len(records) - 1
        elif record_id == 0:
            index = 0
        else:
            index = record_id - 1
        if not 0 <= index < len(records):
            return CC_NOT_PRESENT, b""
        record = records[index]
        if offset > len(record):
            return CC_OUT_OF_RANGE, b""
        next_id = index + 2 if index + 1 < len(records) else 0xFFFF
        return CC_OK, struct.pack("<H", next_id) + record[offset : offset + (count if count != 0xFF else len(record))]

    def _get_sdr(self, data: bytes) -> tuple[int, bytes]:
        reservation, record_id, offset, count = struct.unpack("<HHBB", data[:6])
        if offset and reservation != self.reservation:
            return CC_INVALID_RESERVATION, b""  # partial reads need the current reservation (spec 33.12)
        return self._read_record(self.sdrs, record_id, offset, count)

    def _sel(self) -> list[bytes]:
        version = self.state.version
        if self._sel_cache[0] != version:
            changes = self.state.changes()[self.sel_cleared :]
            self._sel_cache = (version, sel_records(list(self.sensors.values()), changes))
        return self._sel_cache[1]

    def _sel_info(self, data: bytes) -> tuple[int, bytes]:
        entries = self._sel()
        changes = self.state.changes()
        added = int(changes[-1].at.timestamp()) if len(changes) > self.sel_cleared else 0
        free = max(0, 512 - len(entries)) * 16
        return CC_OK, bytes([0x51]) + struct.pack("<HHIIB", len(entries), free, added, 0, 0x0A)

    def _sel_alloc(self, data: bytes) -> tuple[int, bytes]:
        entries = self._sel()
        return CC_OK, struct.pack("<HHHHB", 512, 16, max(0, 512 - len(entries)), max(0, 512 - len(entries)), 1)

    def _get_sel(self, data: bytes) -> tuple[int, bytes]:
        _reservation, record_id, offset, count = struct.unpack("<HHBB", data[:6])
        return self._read_record(self._sel(), record_id, offset, count)

    def _clear_sel(self, data: bytes) -> tuple[int, bytes]:
        reservation = struct.unpack("<H", data[:2])[0]
        if reservation != self.reservation:
            return CC_INVALID_RESERVATION, b""
        if data[2:5] != b"CLR":
            return CC_INVALID_FIELD, b""
        if data[5] == 0xAA:
            self.sel_cleared = len(self.state.changes())
            self._sel_cache = (-1, [])
        return CC_OK, bytes([0x01])  # erasure completed


def _checksum(data: bytes) -> int:
    return (-sum(data)) & 0xFF
