"""FRU inventory, read in chunks small enough for the BMC.

pyghmi's own FRU reader asks for 224 bytes and backs off only on completion codes 0xC9/0xCA; BMCs that answer
0xC8 ("request data length invalid", as OpenIPMI's simulator does above 34 bytes) make it fail. Here the chunk
starts at `START_CHUNK`, halves on 0xC8, 0xC9 or 0xCA, and the size that worked is remembered per BMC. Only the
bytes the common header points at are read, not the whole FRU device. Parsing is pyghmi's (`fru.FRU(rawdata=)`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from pyghmi.ipmi import fru as pyghmi_fru

from fleet.collectors.ipmi.sensors import kind_of, slot_of
from fleet.collectors.ipmi.session import PollFailure, Reply, Request
from fleet.health.model import InventoryItem, Kind

START_CHUNK = 64
MIN_CHUNK = 8
_TOO_BIG = (0xC8, 0xC9, 0xCA)
_BUSY = 0x81  # "FRU device busy": try again
_ABSENT = (0xCB, 0xC3)  # no such FRU / timeout reading it behind the BMC


class FruReader:
    """Byte access to one FRU device: aligned chunks fetched on demand (each `fetch` is a generator step)."""

    def __init__(self, fru_id: int, size: int, chunk: int) -> None:
        self.fru_id, self.size, self.chunk = fru_id, size, chunk
        self.data = bytearray()
        self.reads = 0

    def get(self, offset: int, length: int) -> Generator[Request, Reply, bytes]:
        end = min(offset + length, self.size)
        while len(self.data) < end:
            yield from self._fetch()
        return bytes(self.data[offset:end])

    def _fetch(self) -> Generator[Request, Reply, None]:
        at = len(self.data)
        want = min(self.chunk, self.size - at)
        busy = 0
        while True:
            code, data = yield Request(0x0A, 0x11, (self.fru_id, at & 0xFF, at >> 8, want))
            self.reads += 1
            if code in _TOO_BIG and want > MIN_CHUNK:
                want = max(MIN_CHUNK, want // 2)
                self.chunk = want
                continue
            if code == _BUSY and busy < 3:
                busy += 1
                continue
            if code != 0 or not data or data[0] == 0:
                raise PollFailure(f"protocol: Read FRU Data failed on FRU {self.fru_id} (code 0x{code:02x})")
            self.data += data[1 : 1 + data[0]]
            return


def _used_length(r: FruReader) -> Generator[Request, Reply, int]:
    """How many bytes the common header's areas span (IPMI FRU spec 1.0, section 8)."""
    header = yield from r.get(0, 8)
    if len(header) < 8 or header[0] != 0x01:
        return 0
    end = 8
    for idx in (2, 3, 4):  # chassis, board, product areas: byte 1 of an area is its length in 8-byte units
        if header[idx]:
            start = header[idx] * 8
            end = max(end, start + (yield from r.get(start + 1, 1))[0] * 8)
    if header[5]:  # multi-record area: walk the 5-byte record headers until end-of-list
        at = header[5] * 8
        for _ in range(64):
            rec = yield from r.get(at, 5)
            if len(rec) < 5:
                break
            at += 5 + rec[2]
            if rec[1] & 0x80:
                break
        end = max(end, at)
    return min(end, r.size)


def read_fru(fru_id: int, chunk: int) -> Generator[Request, Reply, tuple[dict[str, Any] | None, int]]:
    """(pyghmi's parsed FRU info or None when absent/empty, the chunk size that worked)."""
    code, data = yield Request(0x0A, 0x10, (fru_id,))
    if code in _ABSENT:
        return None, chunk
    if code != 0 or len(data) < 2:
        raise PollFailure(f"protocol: Get FRU Inventory Area Info failed on FRU {fru_id} (code 0x{code:02x})")
    size = data[0] | (data[1] << 8)
    if size == 0:
        return None, chunk
    reader = FruReader(fru_id, size, chunk)
    used = yield from _used_length(reader)
    if not used:
        return None, reader.chunk
    raw_fru = bytearray((yield from reader.get(0, used)))
    try:
        info = pyghmi_fru.FRU(rawdata=raw_fru).info
    except Exception as exc:  # a corrupt FRU is the BMC's problem, not a crash of ours
        raise PollFailure(f"protocol: FRU {fru_id} unparsable ({type(exc).__name__})") from None
    return info, reader.chunk


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def items_for(fru_id: int, info: dict[str, Any], locator: Any) -> list[InventoryItem]:
    """Inventory items of one FRU: FRU 0 is the server (product area) and its mainboard (board area)."""
    if fru_id == 0:
        out = []
        if info.get("Serial Number") or info.get("Product name"):
            out.append(
                InventoryItem(
                    "System",
                    Kind.BOARD,
                    _clean(info.get("Manufacturer")),
                    _clean(info.get("Model")),
                    _clean(info.get("Serial Number")),
                    _clean(info.get("Product name")),
                )
            )
        if info.get("Board serial number") or info.get("Board product name"):
            out.append(
                InventoryItem(
                    "Mainboard",
                    Kind.BOARD,
                    _clean(info.get("Board manufacturer")),
                    _clean(info.get("Board model")),
                    _clean(info.get("Board serial number")),
                    _clean(info.get("Board product name")),
                )
            )
        return out
    name = getattr(locator, "fru_name", "") or f"FRU {fru_id}"
    record = getattr(locator, "fleet_record", b"")
    entity, instance = (record[12], record[13] & 0x7F) if len(record) > 13 else (0, 0)
    kind = kind_of(-1, entity)
    slot = slot_of(name, kind, entity, instance) or name
    manufacturer = _clean(info.get("Manufacturer")) or _clean(info.get("Board manufacturer"))
    part = _clean(info.get("Model")) or _clean(info.get("Board model"))
    serial = _clean(info.get("Serial Number")) or _clean(info.get("Board serial number"))
    desc = _clean(info.get("Product name")) or _clean(info.get("Board product name"))
    return [InventoryItem(slot, kind, manufacturer, part, serial, desc)]
