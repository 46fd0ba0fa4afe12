"""IPMI wire records of a simulated server: SDRs, sensor readings, SEL entries, FRU data. Pure: bytes from state.

Field offsets follow the IPMI 2.0 specification (Full Sensor Record table 43-1, Compact 43-2, FRU Device Locator
43-7, SEL event record 32.1, FRU Information Storage Definition v1.0), so independent clients (ipmitool, pyghmi)
decode them without knowing they talk to a simulator.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fleet.sim.faults import Change, MachineState, Problem
from fleet.sim.layout import BATTERY, CPU, DIMM, DISK, FAN, PSU, TEMPERATURE, VENDORS, SimServer

# Sensor types (table 42-3) and event/reading type codes (table 42-1/42-2).
ST_TEMPERATURE, ST_FAN, ST_PSU, ST_PROCESSOR, ST_MEMORY, ST_DRIVE = 0x01, 0x04, 0x08, 0x07, 0x0C, 0x0D
ST_BATTERY = 0x29
THRESHOLD, SENSOR_SPECIFIC = 0x01, 0x6F
# Entity ids (table 43-13).
ENT_PROCESSOR, ENT_DISK_BAY, ENT_BOARD, ENT_PSU = 0x03, 0x04, 0x07, 0x0A
ENT_FAN, ENT_MEMORY, ENT_INLET, ENT_BATTERY = 0x1D, 0x20, 0x37, 0x28
UNIT_DEGREES_C, UNIT_RPM = 1, 18

# Threshold comparison bits of a reading (Get Sensor Reading byte 3) and of the readable-threshold mask.
LNC, LC, LNR, UNC, UC, UNR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
_THRESHOLD_ORDER = ("lnc", "lc", "lnr", "unc", "uc", "unr")

MANUFACTURERS = VENDORS


@dataclass(frozen=True, slots=True)
class Sensor:
    number: int
    name: str
    slot: str
    kind: str
    sensor_type: int
    entity: int
    instance: int
    # Threshold sensors only: raw value multiplier (reading = raw * m), unit and thresholds in raw units.
    threshold: bool = False
    m: int = 1
    unit: int = 0
    nominal: int = 0
    limits: dict[str, int] = field(default_factory=dict)  # lnc, lc, lnr, unc, uc, unr


@dataclass(frozen=True, slots=True)
class FruDevice:
    fru_id: int
    name: str  # the slot name: what `get_inventory` and `fru print` show
    slot: str
    entity: int
    instance: int


def sensors_of(server: SimServer) -> list[Sensor]:
    """The sensors a BMC of this layout reports, numbered from 1 in a stable order."""
    out: list[Sensor] = []

    def add(**kw: object) -> None:
        out.append(Sensor(number=len(out) + 1, **kw))  # type: ignore[arg-type]

    for slot, kind in server.layout.slots():
        index = int("".join(ch for ch in slot if ch.isdigit()) or 0)
        if kind == PSU:
            add(name=f"{slot} Status", slot=slot, kind=kind, sensor_type=ST_PSU, entity=ENT_PSU, instance=index)
        elif kind == FAN:
            add(
                name=slot,
                slot=slot,
                kind=kind,
                sensor_type=ST_FAN,
                entity=ENT_FAN,
                instance=index,
                threshold=True,
                m=100,
                unit=UNIT_RPM,
                nominal=84,
                limits={"lnc": 10, "lc": 6},
            )
        elif kind == DISK:
            add(
                name=f"Drive {index}",
                slot=slot,
                kind=kind,
                sensor_type=ST_DRIVE,
                entity=ENT_DISK_BAY,
                instance=index + 1,
            )
        elif kind == DIMM:
            add(
                name=f"{slot.replace('_', ' ')} ECC",
                slot=slot,
                kind=kind,
                sensor_type=ST_MEMORY,
                entity=ENT_MEMORY,
                instance=len([s for s in out if s.kind == DIMM]) + 1,
            )
        elif kind == CPU:
            add(
                name=f"{slot} Status",
                slot=slot,
                kind=kind,
                sensor_type=ST_PROCESSOR,
                entity=ENT_PROCESSOR,
                instance=index,
            )
            add(
                name=f"{slot} Temp",
                slot=slot,
                kind=TEMPERATURE,
                sensor_type=ST_TEMPERATURE,
                entity=ENT_PROCESSOR,
                instance=index,
                threshold=True,
                unit=UNIT_DEGREES_C,
                nominal=48,
                limits={"unc": 85, "uc": 90},
            )
        elif kind == BATTERY:
            add(name="RAID Battery", slot=slot, kind=kind, sensor_type=ST_BATTERY, entity=ENT_BATTERY, instance=1)
        elif kind == TEMPERATURE:
            inlet = slot.lower() == "inlet"
            add(
                name=f"{slot} Temp",
                slot=slot,
                kind=kind,
                sensor_type=ST_TEMPERATURE,
                entity=ENT_INLET if inlet else ENT_BOARD,
                instance=1,
                threshold=True,
                unit=UNIT_DEGREES_C,
                nominal=23 if inlet else 35,
                limits={"unc": 38, "uc": 42} if inlet else {"unc": 70, "uc": 75},
            )
    return out


def fru_devices_of(server: SimServer) -> list[FruDevice]:
    """FRU 0 is the chassis; then one logical FRU device per PSU, drive and DIMM (named after the slot)."""
    out: list[FruDevice] = []
    for slot, kind in server.layout.slots():
        entity = {PSU: ENT_PSU, DISK: ENT_DISK_BAY, DIMM: ENT_MEMORY}.get(kind)
        if entity is not None:
            out.append(FruDevice(len(out) + 1, slot, slot, entity, len([f for f in out if f.entity == entity]) + 1))
    return out


# --- SDR records -------------------------------------------------------------------------------------------------


def _id_string(name: str) -> bytes:
    raw = name.encode("ascii")[:16]
    return bytes([0xC0 | len(raw)]) + raw  # 8-bit ASCII+Latin1


def _record(record_id: int, rtype: int, body: bytes) -> bytes:
    return struct.pack("<HBBB", record_id, 0x51, rtype, len(body)) + body


def full_record(record_id: int, s: Sensor) -> bytes:
    readable = sum(
        bit for bit, name in zip((LNC, LC, LNR, UNC, UC, UNR), _THRESHOLD_ORDER, strict=True) if name in s.limits
    )
    # Assertion masks: the "going low" events of the lower thresholds, "going high" of the upper ones, plus the
    # comparison-returned bits 12-14 (table 43-1, bytes 15-18).
    lower = (0x01 if readable & LNC else 0) | (0x04 if readable & LC else 0) | (0x10 if readable & LNR else 0)
    upper = (0x80 if readable & UNC else 0) | (0x200 if readable & UC else 0) | (0x800 if readable & UNR else 0)
    lower_cmp = (0x1000 if readable & LNC else 0) | (0x2000 if readable & LC else 0) | (0x4000 if readable & LNR else 0)
    upper_cmp = (0x1000 if readable & UNC else 0) | (0x2000 if readable & UC else 0) | (0x4000 if readable & UNR else 0)
    lim = s.limits
    body = bytes([0x20, 0x00, s.number, s.entity, s.instance, 0x7F, 0x68, s.sensor_type, THRESHOLD])
    body += struct.pack("<HHBB", lower | lower_cmp, upper | upper_cmp, readable, 0)
    body += bytes([0x00, s.unit, 0x00, 0x00])  # unsigned analog; base unit; no modifier; linear
    body += bytes([s.m & 0xFF, ((s.m >> 8) & 0x03) << 6, 0, 0, 0, 0])  # M, tolerance 0, B 0, accuracy 0, R/B exp 0
    body += bytes([0x01, s.nominal, 0xFF, 0x00, 0xFF, 0x00])  # nominal specified; normal max/min; sensor max/min
    body += bytes([lim.get(k, 0) for k in ("unr", "uc", "unc", "lnr", "lc", "lnc")])
    body += bytes([1, 1, 0, 0, 0])  # hysteresis +/-, reserved x2, OEM
    return _record(record_id, 0x01, body + _id_string(s.name))


_DISCRETE_MASKS = {ST_PSU: 0x000F, ST_DRIVE: 0x0007, ST_MEMORY: 0x0043, ST_PROCESSOR: 0x0083, ST_BATTERY: 0x0007}
# The offset that means "present" in each sensor-specific type: a removal deasserts it.
PRESENCE_OFFSET = {ST_PSU: 0, ST_DRIVE: 0, ST_BATTERY: 2, ST_MEMORY: 6, ST_PROCESSOR: 7}


def compact_record(record_id: int, s: Sensor) -> bytes:
    mask = _DISCRETE_MASKS[s.sensor_type]
    body = bytes([0x20, 0x00, s.number, s.entity, s.instance, 0x67, 0x40, s.sensor_type, SENSOR_SPECIFIC])
    body += struct.pack("<HHH", mask, mask, mask)
    body += bytes([0xC0, 0x00, 0x00])  # numeric format: none; no units
    body += bytes([0x01, 0x00, 0, 0, 0, 0, 0, 0])  # no record sharing; hysteresis; reserved x3; OEM
    return _record(record_id, 0x02, body + _id_string(s.name))


def fru_locator_record(record_id: int, f: FruDevice) -> bytes:
    # Logical FRU device behind the BMC (device type 10h, modifier 0: IPMI FRU inventory).
    body = bytes([0x20, f.fru_id, 0x80, 0x00, 0x00, 0x10, 0x00, f.entity, f.instance, 0x00])
    return _record(record_id, 0x11, body + _id_string(f.name))


def sdr_repository(server: SimServer) -> list[bytes]:
    """Every SDR, record ids from 1 in order."""
    records: list[bytes] = []
    for s in sensors_of(server):
        rid = len(records) + 1
        records.append(full_record(rid, s) if s.threshold else compact_record(rid, s))
    for f in fru_devices_of(server):
        records.append(fru_locator_record(len(records) + 1, f))
    return records


def layout_stamp(server: SimServer) -> int:
    """A 32-bit 'last SDR change' timestamp derived from the layout and the identity.

    pyghmi caches SDRs per process keyed by (manufacturer, product, firmware, this timestamp); simulated BMCs of
    different layouts must not share a cache entry, or a client would read one server's sensors on another."""
    digest = hashlib.sha1(repr((server.layout, server.vendor, server.model)).encode()).digest()
    return 0x50000000 + (int.from_bytes(digest[:4], "little") & 0x0FFFFFFF)


# --- readings ----------------------------------------------------------------------------------------------------


def _threshold_bits(raw: int, limits: dict[str, int]) -> int:
    bits = 0
    for bit, name in zip((LNC, LC, LNR), ("lnc", "lc", "lnr"), strict=True):
        if name in limits and raw <= limits[name]:
            bits |= bit
    for bit, name in zip((UNC, UC, UNR), ("unc", "uc", "unr"), strict=True):
        if name in limits and raw >= limits[name]:
            bits |= bit
    return bits


def raw_value(s: Sensor, problem: Problem | None, power_on: bool) -> int | None:
    """The raw reading of a threshold sensor; None when it has no reading (fan removed, host off)."""
    if s.kind == FAN:
        if problem is Problem.REMOVED or not power_on:
            return None
        if problem is Problem.FAILED:
            return 0
        if problem is Problem.BELOW_CRITICAL:
            return max(s.limits["lc"] - 2, 1)
        return s.nominal + (s.number % 5)  # fans differ a little, as real ones do
    if problem is Problem.OVER_TEMPERATURE:
        return s.limits["uc"] + 5
    if s.slot.startswith("CPU") and not power_on:
        return None
    return s.nominal + (s.number % 3)


def discrete_bits(s: Sensor, problem: Problem | None) -> int:
    """State bits of a sensor-specific discrete sensor (offsets of table 42-3)."""
    if s.sensor_type == ST_PSU:  # 0 presence, 1 failure, 2 predictive, 3 input lost
        if problem is Problem.REMOVED:
            return 0
        return 0x01 | {Problem.FAILED: 0x02, Problem.PREDICTIVE: 0x04, Problem.INPUT_LOST: 0x08}.get(problem, 0)  # type: ignore[arg-type]
    if s.sensor_type == ST_DRIVE:  # 0 presence, 1 fault, 2 predictive failure
        if problem is Problem.REMOVED:
            return 0
        return 0x01 | {Problem.FAILED: 0x02, Problem.PREDICTIVE: 0x04}.get(problem, 0)  # type: ignore[arg-type]
    if s.sensor_type == ST_MEMORY:  # 0 correctable ECC, 1 uncorrectable ECC, 6 presence
        return 0x40 | {Problem.CORRECTABLE_ECC: 0x01, Problem.UNCORRECTABLE_ECC: 0x02}.get(problem, 0)  # type: ignore[arg-type]
    if s.sensor_type == ST_BATTERY:  # 0 battery low, 1 failed, 2 presence
        if problem is Problem.REMOVED:
            return 0
        return 0x04 | {Problem.PREDICTIVE: 0x01, Problem.FAILED: 0x02}.get(problem, 0)  # type: ignore[arg-type]
    if s.sensor_type == ST_PROCESSOR:  # 0 IERR, 7 presence
        return 0x80 | (0x01 if problem is Problem.IERR else 0)
    return 0


def sensor_reading(s: Sensor, state: MachineState) -> bytes:
    """Get Sensor Reading response data (after the completion code)."""
    problem = state.problem(s.slot)
    if s.threshold:
        temp_problem = problem if problem is Problem.OVER_TEMPERATURE or s.kind == FAN else None
        raw = raw_value(s, temp_problem, state.power_on())
        if raw is None:
            return bytes([0x00, 0x60, 0x00, 0x80])  # scanning enabled, reading unavailable
        return bytes([raw & 0xFF, 0xC0, _threshold_bits(raw, s.limits), 0x80])
    bits = discrete_bits(s, problem if problem is not Problem.OVER_TEMPERATURE else None)
    return bytes([0x00, 0xC0, bits & 0xFF, 0x80 | (bits >> 8)])


def sensor_thresholds(s: Sensor) -> bytes:
    """Get Sensor Thresholds response data: readable mask, then LNC, LC, LNR, UNC, UC, UNR."""
    readable = sum(
        bit for bit, name in zip((LNC, LC, LNR, UNC, UC, UNR), _THRESHOLD_ORDER, strict=True) if name in s.limits
    )
    return bytes([readable] + [s.limits.get(k, 0) for k in _THRESHOLD_ORDER])


# --- SEL ---------------------------------------------------------------------------------------------------------


def sel_records(sensors: list[Sensor], changes: list[Change]) -> list[bytes]:
    """One 16-byte system event record per injection or repair (record ids from 1)."""
    by_slot: dict[str, list[Sensor]] = {}
    for s in sensors:
        by_slot.setdefault(s.slot, []).append(s)
    out: list[bytes] = []
    for change in changes:
        candidates = by_slot.get(change.slot, [])
        if change.problem is Problem.OVER_TEMPERATURE:
            candidates = [s for s in candidates if s.sensor_type == ST_TEMPERATURE]
        else:
            candidates = [s for s in candidates if s.sensor_type != ST_TEMPERATURE]
        if not candidates:
            continue
        s = candidates[0]
        direction, type_code, data = _event_of(s, change)
        stamp = int(change.at.timestamp()) & 0xFFFFFFFF
        rid = len(out) + 1
        head = struct.pack("<HBIBBBBB", rid, 0x02, stamp, 0x20, 0x00, 0x04, s.sensor_type, s.number)
        out.append(head + bytes([direction | type_code, *data]))
    return out


def _event_of(s: Sensor, change: Change) -> tuple[int, int, list[int]]:
    """(direction bit, event/reading type, event data 1-3) of a change."""
    deassert = 0x00 if change.asserted else 0x80
    if s.threshold:
        if change.problem is Problem.OVER_TEMPERATURE:
            raw, limit, offset = s.limits["uc"] + 5, s.limits["uc"], 0x09  # upper critical going high
        else:
            raw, limit, offset = (
                0 if change.problem is not Problem.BELOW_CRITICAL else s.limits["lc"] - 2,
                s.limits["lc"],
                0x02,
            )
        return deassert, THRESHOLD, [0x50 | offset, raw, limit]  # data 2: reading, data 3: threshold
    offset = {
        Problem.FAILED: 1,
        Problem.PREDICTIVE: 0 if s.sensor_type == ST_BATTERY else 2,
        Problem.INPUT_LOST: 3,
        Problem.CORRECTABLE_ECC: 0,
        Problem.UNCORRECTABLE_ECC: 1,
        Problem.IERR: 0,
        Problem.REMOVED: PRESENCE_OFFSET.get(s.sensor_type, 0),
    }[change.problem]
    if change.problem is Problem.REMOVED:
        # A removal is the presence offset going away: a deassertion; the repair asserts presence again.
        deassert = 0x80 if change.asserted else 0x00
    return deassert, SENSOR_SPECIFIC, [offset, 0xFF, 0xFF]


# --- FRU ---------------------------------------------------------------------------------------------------------

_FRU_EPOCH = datetime(1996, 1, 1, tzinfo=UTC)


def _tl(text: str) -> bytes:
    raw = text.encode("ascii", "replace")[:63]
    return bytes([0xC0 | len(raw)]) + raw


def _area(fields: bytes) -> bytes:
    """Close an area: end marker, pad to a multiple of 8 with the checksum last, length byte at offset 1."""
    data = bytearray(fields + b"\xc1")
    while (len(data) + 1) % 8:
        data.append(0)
    data[1] = (len(data) + 1) // 8
    data.append((-sum(data)) & 0xFF)
    return bytes(data)


def fru_data(
    *,
    manufacturer: str,
    product: str,
    serial: str,
    part_number: str,
    board_serial: str | None = None,
    asset_tag: str = "",
    chassis: bool = False,
    made: datetime | None = None,
) -> bytes:
    """A FRU inventory image: board and product areas (and chassis for FRU 0)."""
    minutes = int(((made or datetime(2024, 3, 1, tzinfo=UTC)) - _FRU_EPOCH).total_seconds() // 60)
    board = _area(
        bytes([0x01, 0x00, 0x00])
        + minutes.to_bytes(3, "little")
        + _tl(manufacturer)
        + _tl(product)
        + _tl(board_serial or serial)
        + _tl(part_number)
        + _tl("")
    )
    prod = _area(
        bytes([0x01, 0x00, 0x00])
        + _tl(manufacturer)
        + _tl(product)
        + _tl(part_number)
        + _tl("A00")
        + _tl(serial)
        + _tl(asset_tag)
        + _tl("")
    )
    chassis_area = _area(bytes([0x01, 0x00, 0x17]) + _tl(part_number) + _tl(serial)) if chassis else b""
    offset = 1  # in 8-byte units, after the common header
    chassis_off = offset if chassis else 0
    offset += len(chassis_area) // 8
    board_off = offset
    offset += len(board) // 8
    product_off = offset
    header = bytearray([0x01, 0x00, chassis_off, board_off, product_off, 0x00, 0x00])
    header.append((-sum(header)) & 0xFF)
    return bytes(header) + chassis_area + board + prod


PART_NUMBERS = {PSU: "SIM-PSU-750W", DISK: "SIM-HDD-2TB", DIMM: "SIM-DIMM-32G"}
PRODUCTS = {PSU: "PWR SPLY,750W,RDNT", DISK: "HDD 2TB 7.2K SAS", DIMM: "DIMM 32GB DDR4 RDIMM"}


def fru_image(server: SimServer, state: MachineState, fru_id: int) -> bytes | None:
    """The FRU bytes of device `fru_id` (0: the chassis), None when there is no such device or its part is absent."""
    manufacturer = MANUFACTURERS[server.vendor][0]
    if fru_id == 0:
        return fru_data(
            manufacturer=manufacturer,
            product=server.model,
            serial=server.chassis_serial,
            part_number=server.model.replace(" ", "-").upper(),
            board_serial=server.serial_of("board"),
            asset_tag=server.asset_tag,
            chassis=True,
        )
    for f in fru_devices_of(server):
        if f.fru_id == fru_id:
            if state.problem(f.slot) is Problem.REMOVED:
                return None
            kind = {ENT_PSU: PSU, ENT_DISK_BAY: DISK, ENT_MEMORY: DIMM}[f.entity]
            return fru_data(
                manufacturer=manufacturer,
                product=PRODUCTS[kind],
                serial=state.serial(f.slot),
                part_number=PART_NUMBERS[kind],
            )
    return None
