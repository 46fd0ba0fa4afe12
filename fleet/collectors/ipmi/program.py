"""What one poll reads, written as a generator of requests: the engine (engine.py) sends each request on the BMC's
session and resumes the generator with the reply, so hundreds of polls advance side by side on one loop.

    Get Device ID -> SDR (caches) -> one Get Sensor Reading per sensor -> Get Chassis Status -> SEL since the
    cursor -> FRU devices, only when they can have changed (fruplan.py)
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

from pyghmi.ipmi.private import constants as event_consts

from fleet.collectors.ipmi import fru as fru_mod
from fleet.collectors.ipmi import fruplan
from fleet.collectors.ipmi import sdr as sdr_mod
from fleet.collectors.ipmi import sel as sel_mod
from fleet.collectors.ipmi.sensors import to_reading
from fleet.collectors.ipmi.session import Deadline, PollFailure, Reply, Request
from fleet.collectors.targets import IpmiOptions
from fleet.health.model import Event, InventoryItem, PollResult, Reading, State

_NOT_PRESENT = 0xCB


class _Factors:
    """Stands in for pyghmi's command object when an SDR entry asks for its non-linear reading factors: the reply
    was fetched as a poll step already."""

    def __init__(self, code: int, data: bytes) -> None:
        self.code, self.data = code, data

    def raw_command(self, netfn: int, command: int, data: Any = (), **_: Any) -> dict[str, Any]:
        return {"netfn": netfn + 1, "command": command, "code": self.code, "data": bytearray(self.data)}


def steps(
    cursor: dict[str, Any], deadline: Deadline, options: IpmiOptions, result: PollResult, suite: int
) -> Generator[Request, Reply, None]:
    """Fill `result` (readings, power, events, inventory, vendor, cursor) from a logged-in session."""
    code, data = yield Request(0x06, 0x01)
    if code != 0:
        raise PollFailure(f"protocol: Get Device ID failed (code 0x{code:02x})")
    device = sdr_mod.Device.parse(data)
    sdr = yield from sdr_mod.read(device, options.sdr_cache_dir)
    result.readings = yield from _readings(sdr)
    result.power = yield from _power()
    records, sel_cursor = yield from sel_mod.read_new(deadline, cursor.get("sel"))
    by_number = {e.sensor_number: e for e in sdr.sensors.values()}
    events: list[Event] = []
    for rec in records:
        ev = sel_mod.to_event(rec, by_number, event_consts)
        if ev is not None:
            events.append(ev)
    result.events = events
    absent = [r.name for r in result.readings if r.state is State.ABSENT]
    now = time.time()
    fru_state = cursor.get("fru")
    chunk = int(cursor.get("fru_chunk", fru_mod.START_CHUNK))
    if fru_state is None or fruplan.due(fru_state, now=now, new_records=bool(records), absent=absent):
        result.inventory, chunk = yield from _inventory(sdr, chunk)
        fru_out = fruplan.remember(result.inventory, absent, now)
    else:
        result.inventory = fruplan.cached_items(fru_state)
        fru_out = fruplan.kept(fru_state, absent)
    system = next((i for i in result.inventory if i.slot == "System"), None)
    result.vendor = (system.manufacturer if system else None) or f"IANA {sdr.mfg_id}"
    result.cursor = {"sel": sel_cursor, "suite": suite, "fru_chunk": chunk, "fru": fru_out}


def _readings(sdr: sdr_mod.Sdr) -> Generator[Request, Reply, list[Reading]]:
    out = []
    for entry in sorted(sdr.sensors.values(), key=lambda e: (e.sensor_lun, e.sensor_number)):
        if not entry.readable:
            continue
        code, data = yield Request(0x04, 0x2D, (entry.sensor_number,), entry.sensor_lun)  # Get Sensor Reading
        if code == _NOT_PRESENT:
            data = b""
        elif code != 0:
            raise PollFailure(f"protocol: Get Sensor Reading {entry.sensor_name!r} failed (code 0x{code:02x})")
        factors = None
        if (getattr(entry, "linearization", 0) or 0) > 11 and len(data) >= 2 and data[1] & 0x40:
            # non-linear sensor: its conversion factors depend on the raw reading (Get Sensor Reading Factors)
            fcode, fdata = yield Request(0x04, 0x23, (entry.sensor_number, data[0]))
            factors = _Factors(fcode, fdata)
        out.append(to_reading(entry, entry.fleet_record, data, factors))
    return out


def _power() -> Generator[Request, Reply, str | None]:
    code, data = yield Request(0x00, 0x01)  # Get Chassis Status
    if code != 0 or not data:
        return None
    return "on" if data[0] & 0x01 else "off"


def _inventory(sdr: sdr_mod.Sdr, chunk: int) -> Generator[Request, Reply, tuple[list[InventoryItem], int]]:
    items: list[InventoryItem] = []
    locators = {0: None, **{fid: loc for fid, loc in sdr.fru.items() if getattr(loc, "fru_logical", True)}}
    for fru_id in sorted(locators):
        info, chunk = yield from fru_mod.read_fru(fru_id, chunk)
        if info:
            items += fru_mod.items_for(fru_id, info, locators[fru_id])
    return items, chunk
