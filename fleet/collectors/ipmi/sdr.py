"""The SDR repository, read as poll steps, cached in the process and (optionally) on disk.

pyghmi's `SDR` class reads with synchronous commands; here the same requests are yielded to the engine, and the
records are decoded by pyghmi's `SDREntry`. Both caches are keyed like pyghmi's (manufacturer, product, device id,
firmware and the repository's own change time), so they are never stale; the disk cache uses pyghmi's file name and
format. The folder is made owner-only (0700) and every file in it 0600, also when the folder already existed: SDR
names are inventory, and a file another user could replace would feed us records.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import struct
import threading
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyghmi.ipmi import sdr as pyghmi_sdr
from pyghmi.ipmi.private import constants as event_consts

from fleet.collectors.ipmi.session import PollFailure, Reply, Request

_STORAGE = 0x0A
_END = 0xFFFF


@dataclass
class Device:
    """Get Device ID, as the SDR cache key needs it."""

    device_id: int
    fw_major: int
    fw_minor: str
    mfg_id: int
    prod_id: int
    device_sdrs_only: bool  # device SDRs without an SDR repository
    sensor_device: bool

    @classmethod
    def parse(cls, data: bytes) -> Device:
        if len(data) < 11:
            raise PollFailure("protocol: short Get Device ID response")
        return cls(
            device_id=data[0],
            fw_major=data[2] & 0x7F,
            fw_minor=f"{data[3]:02X}",  # BCD
            mfg_id=data[6] | (data[7] << 8) | (data[8] << 16),
            prod_id=data[9] | (data[10] << 8),
            device_sdrs_only=bool(data[1] & 0x80) and not data[5] & 0x02,
            sensor_device=bool(data[5] & 0x01),
        )


@dataclass
class Sdr:
    mfg_id: int
    sensors: dict[str, Any] = field(default_factory=dict)  # "owner.number.lun" -> pyghmi SDREntry (+ fleet_record)
    fru: dict[int, Any] = field(default_factory=dict)  # FRU id -> locator SDREntry

    def add(self, record: bytes, prod_id: int, broken: set[Any]) -> None:
        entry = pyghmi_sdr.SDREntry(bytearray(record), event_consts, False, self.mfg_id, prod_id)
        entry.fleet_record = bytes(record)  # masks and entity bytes (presence!) that pyghmi's entry drops
        if entry.sdrtype == pyghmi_sdr.TYPE_SENSOR:
            key = f"{entry.sensor_owner}.{entry.sensor_number}.{entry.sensor_lun}"
            if key in self.sensors:
                broken.add(key)
            self.sensors[key] = entry
        elif entry.sdrtype == pyghmi_sdr.TYPE_FRU:
            if entry.fru_number in self.fru:
                broken.add(entry.fru_number)
            self.fru[entry.fru_number] = entry


_memory: dict[tuple[Any, ...], Sdr] = {}
_secured: set[str] = set()
_lock = threading.Lock()


def read(device: Device, cache_dir: str | None) -> Generator[Request, Reply, Sdr]:
    if device.device_sdrs_only:
        if device.sensor_device:
            raise PollFailure("protocol: SDR repository not supported by this BMC")
        return Sdr(device.mfg_id)
    code, info = yield Request(_STORAGE, 0x20)  # Get SDR Repository Info
    if code != 0 or len(info) < 14:
        raise PollFailure(f"protocol: Get SDR Repository Info failed (code 0x{code:02x})")
    if info[0] != 0x51:
        raise PollFailure(f"protocol: SDR version 0x{info[0]:02x} not understood")
    modtime = struct.unpack("!Q", bytes(info[5:13]))[0]
    key = (device.fw_major, device.fw_minor, device.mfg_id, device.prod_id, device.device_id, modtime)
    if key in _memory:
        return _memory[key]
    path = _cache_file(cache_dir, device, modtime)
    records = _load(path) if path else None
    if records is None:
        records = yield from _download()
        if path:
            _save(path, records)
    sdr = Sdr(device.mfg_id)
    broken: set[Any] = set()
    for rec in records:
        with contextlib.suppress(NotImplementedError):  # SDR versions pyghmi does not know: skipped, as pyghmi does
            sdr.add(rec, device.prod_id, broken)
    for k in broken:
        sdr.sensors.pop(k, None) if isinstance(k, str) else sdr.fru.pop(k, None)
    _memory[key] = sdr
    return sdr


def _download() -> Generator[Request, Reply, list[bytes]]:
    """Every record, as pyghmi reads them: whole records first, partial reads (with a reservation) when the BMC
    says 0xCA (cannot return that many bytes)."""
    records: list[bytes] = []
    recid, rsvid, size, chunk = 0, 0, 0xFF, 128
    while recid != _END:
        offset, length, nextid, data = 0, 0, -1, bytearray()
        while True:
            if size != 0xFF and rsvid == 0:
                code, rsv = yield Request(_STORAGE, 0x22)  # Reserve SDR Repository
                if code != 0 or len(rsv) < 2:
                    raise PollFailure(f"protocol: Reserve SDR Repository failed (code 0x{code:02x})")
                rsvid = rsv[0] | (rsv[1] << 8)
            code, rsp = yield Request(
                _STORAGE, 0x23, (rsvid & 0xFF, rsvid >> 8, recid & 0xFF, recid >> 8, offset, size)
            )
            if code == 0xCA:
                if size == 0xFF:
                    size = 5  # the header first, to learn the record's length
                elif size > 5:
                    size = chunk = size // 2 + 2
                else:
                    raise PollFailure("protocol: BMC refuses even 5-byte SDR reads")
                continue
            if code == 0xC5:  # reservation cancelled: get a new one
                rsvid = 0
                continue
            if code != 0 or len(rsp) < 2:
                raise PollFailure(f"protocol: Get SDR failed (code 0x{code:02x})")
            if nextid < 0:
                nextid = rsp[0] | (rsp[1] << 8)
            if length == 0:
                if len(rsp) < 7:
                    raise PollFailure("protocol: short SDR record")
                length = rsp[6] + 5  # the 5-byte header
            data += rsp[2:]
            offset += size
            if offset >= length:
                break
            if size == 5 and offset == 5:
                size = chunk
            size = min(size, length - offset)
        records.append(bytes(data))
        if size != 0xFF:
            size = 5
        if nextid == recid:
            raise PollFailure("protocol: BMC returned the same SDR record id twice")
        recid = nextid
        if len(records) > 4096:
            raise PollFailure("protocol: SDR repository does not end")
    return records


def _cache_file(cache_dir: str | None, device: Device, modtime: int) -> Path | None:
    if not cache_dir:
        return None
    folder = Path(cache_dir)
    secure_folder(folder)
    name = (
        f"sdrcache-2.{device.mfg_id}.{device.prod_id}.{device.device_id}.{device.fw_major}.{device.fw_minor}.{modtime}"
    )
    return folder / name


def secure_folder(folder: Path) -> None:
    """Create the cache folder owner-only, or make an existing one so (and its files), once per process."""
    with _lock:
        if str(folder) in _secured:
            return
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        for f in folder.iterdir():
            if f.is_file() and not f.is_symlink():
                os.chmod(f, 0o600)
        _secured.add(str(folder))


def _load(path: Path) -> list[bytes] | None:
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    out, at = [], 0
    while at + 2 <= len(raw):
        (n,) = struct.unpack("!H", raw[at : at + 2])
        out.append(raw[at + 2 : at + 2 + n])
        at += 2 + n
    return out if at == len(raw) else None  # a truncated file is downloaded again


def _save(path: Path, records: list[bytes]) -> None:
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(6)}")
    with contextlib.suppress(OSError):  # a cache that cannot be written only costs the next run a download
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            for rec in records:
                fh.write(struct.pack("!H", len(rec)) + rec)
        os.replace(tmp, path)
