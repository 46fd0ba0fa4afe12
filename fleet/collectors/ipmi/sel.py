"""The System Event Log, read incrementally.

The cursor (kept by the caller between polls) is

    {"last_id": record id of the newest record already returned,
     "last_ts": its timestamp, "add_ts": / "erase_ts": the "last add" and "last erase" times from Get SEL Info}

- No cursor (first contact): every record in the log is returned, so nothing that happened before the first poll
  is lost; the caller decides whether to alert on them.
- Erase time changed: the log was cleared since; every record now in it is new.
- Otherwise: fetch record `last_id` (one request) and read on from the one after it; nothing new costs two
  requests (Get SEL Info, Get SEL Entry). If that record is gone (the log wrapped, or someone deleted it) or holds
  another timestamp (cleared and refilled within the erase clock's one-second resolution), read the whole log and
  keep the records newer than `last_ts` (or, at the same time, with a higher id).
"""

from __future__ import annotations

import zlib
from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any

from fleet.collectors.ipmi.sensors import _SPECIFIC, _THRESHOLDS, kind_of, slot_of
from fleet.collectors.ipmi.session import Deadline, PollFailure, Reply, Request
from fleet.health.model import Event, Kind, State

_STORAGE = 0x0A
_END = 0xFFFF
_NOT_PRESENT = 0xCB
_RESERVATION_CANCELLED = 0xC5
_PRE_INIT = 0x20000000  # timestamps below this count seconds since the BMC booted (IPMI 2.0 section 37)

# A BMC answers one record per request: a full log of thousands of records cannot be read within one deadline.
# A poll reads at most MAX_RECORDS new records and stops early when less than RESERVE_S of its deadline is left
# (FRU still has to be read); the cursor then points at the last record returned and the next poll goes on.
MAX_RECORDS = 256
RESERVE_S = 1.0

# (sensor type, offset) of records that are bookkeeping, not hardware events.
_NOISE = {(0x10, 0x02), (0x10, 0x05), (0x12, 0x03)}  # log area reset/cleared, SEL almost full, timestamp sync


Steps = Generator[Request, Reply, Any]


def sel_info() -> Generator[Request, Reply, dict[str, int]]:
    code, data = yield Request(_STORAGE, 0x40)
    if code != 0 or len(data) < 14:
        raise PollFailure(f"protocol: Get SEL Info failed (code 0x{code:02x})")
    return {
        "entries": data[1] | (data[2] << 8),
        "add_ts": int.from_bytes(data[5:9], "little"),
        "erase_ts": int.from_bytes(data[9:13], "little"),
    }


def _entry(record_id: int) -> Generator[Request, Reply, tuple[int, int, bytes]]:
    """(completion code, next record id, 16-byte record)."""
    code, data = yield Request(_STORAGE, 0x43, (0, 0, record_id & 0xFF, record_id >> 8, 0, 0xFF))
    if code != 0:
        return code, _END, b""
    if len(data) < 18:
        raise PollFailure("protocol: short SEL record")
    return 0, data[0] | (data[1] << 8), data[2:18]


def _walk(deadline: Deadline, first: int, capped: bool = True) -> Generator[Request, Reply, list[bytes]]:
    records: list[bytes] = []
    rid = first
    seen: set[int] = set()
    while rid != _END and rid not in seen:  # `seen`: a BMC that links records in a loop must not hang us
        if records and capped and (len(records) >= MAX_RECORDS or deadline.remaining() < RESERVE_S):
            break
        seen.add(rid)
        code, nxt, rec = yield from _entry(rid)
        if code == _NOT_PRESENT and not records:
            break  # empty log
        if code != 0:
            raise PollFailure(f"protocol: Get SEL Entry failed (code 0x{code:02x})")
        records.append(rec)
        rid = nxt
    return records


def _rid(rec: bytes) -> int:
    return rec[0] | (rec[1] << 8)


def _ts(rec: bytes) -> int:
    return int.from_bytes(rec[3:7], "little")


def _sum(rec: bytes) -> int:
    return zlib.crc32(rec)


def read_new(
    deadline: Deadline, cursor: dict[str, Any] | None
) -> Generator[Request, Reply, tuple[list[bytes], dict[str, int]]]:
    """Records that are new since `cursor`, and the cursor to keep."""
    info = yield from sel_info()
    new_cursor = {"last_id": -1, "last_ts": 0, "add_ts": info["add_ts"], "erase_ts": info["erase_ts"]}
    records: list[bytes]
    last, last_ts = int((cursor or {}).get("last_id", -1)), int((cursor or {}).get("last_ts", 0))
    last_sum = (cursor or {}).get("last_sum")
    if cursor and cursor.get("erase_ts") == info["erase_ts"]:
        new_cursor["last_id"], new_cursor["last_ts"] = last, last_ts
        if last_sum is not None:
            new_cursor["last_sum"] = int(last_sum)
        if info["entries"] == 0:
            return [], new_cursor
        # 0xFFFF would mean "the last record" to the BMC: with no record seen yet, read from the start.
        # The add timestamp alone cannot say "nothing new": it has one-second resolution.
        code, nxt, rec = (yield from _entry(last)) if 0 <= last < _END else (0, 0, b"")
        # A BMC may give a deleted record's id to the next record, within the same second: the checksum of the
        # record itself tells them apart.
        same = not rec or (_ts(rec) == last_ts and (last_sum is None or _sum(rec) == int(last_sum)))
        if code == 0 and same:
            records = (yield from _walk(deadline, nxt)) if nxt != _END else []
        else:  # our last record is gone (wrapped or deleted) or its id now holds another record (cleared)
            # no limit here: a cursor can only move past records it returns
            everything = yield from _walk(deadline, 0, capped=False)
            records = [r for r in everything if _newer(r, last, last_ts, last_sum)]
    else:
        records = (yield from _walk(deadline, 0)) if info["entries"] else []
    if records:
        new_cursor["last_id"], new_cursor["last_ts"] = _rid(records[-1]), _ts(records[-1])
        new_cursor["last_sum"] = _sum(records[-1])
    return records, new_cursor


def _newer(rec: bytes, last: int, last_ts: int, last_sum: Any) -> bool:
    if _ts(rec) != last_ts:
        return _ts(rec) > last_ts
    return _rid(rec) > last or (_rid(rec) == last and last_sum is not None and _sum(rec) != int(last_sum))


def to_event(rec: bytes, sensors: dict[int, Any], event_consts: Any) -> Event | None:
    """A SEL record as an Event; None for bookkeeping records (log cleared, ...)."""
    rid, rtype, ts = _rid(rec), rec[2], _ts(rec)
    when = datetime.fromtimestamp(ts, UTC) if ts >= _PRE_INIT and ts != 0xFFFFFFFF else None
    if rtype != 0x02:
        text = f"OEM record type 0x{rtype:02x}: {rec[3:].hex()}"
        return Event(rid, when if rtype < 0xE0 else None, Kind.OTHER, "", State.UNKNOWN, text)
    sensor_type, number, dir_type, data1 = rec[10], rec[11], rec[12], rec[13]
    deassert = bool(dir_type & 0x80)
    reading_type = dir_type & 0x7F
    offset = data1 & 0x0F
    if (sensor_type, offset) in _NOISE:
        return None
    entry = sensors.get(number)
    name = entry.sensor_name if entry is not None else f"sensor 0x{number:02x}"
    record = getattr(entry, "fleet_record", b"")
    entity, instance = (record[8], record[9] & 0x7F) if len(record) > 9 else (0, 0)
    kind = kind_of(sensor_type, entity)
    slot = slot_of(name, kind, entity, instance)
    severity, desc = _meaning(sensor_type, reading_type, offset, event_consts)
    if deassert:
        presence = _SPECIFIC.get(sensor_type, (None, {}))[0]
        severity = State.WARNING if reading_type == 0x6F and offset == presence else State.OK
    text = f"{name}: {desc} {'deasserted' if deassert else 'asserted'}"
    return Event(rid, when, kind, slot, severity, text)


def _meaning(sensor_type: int, reading_type: int, offset: int, consts: Any) -> tuple[State, str]:
    if reading_type == 0x01:
        if offset < 12:
            level = offset // 2  # lnc, lc, lnr, unc, uc, unr: each has a going-low and a going-high offset
            state, text = _THRESHOLDS[level]
            return state, text.replace("below ", "").replace("above ", "") + " threshold crossed"
        return State.UNKNOWN, f"threshold offset {offset}"
    if reading_type == 0x6F and sensor_type in _SPECIFIC:
        presence, table = _SPECIFIC[sensor_type]
        if offset == presence:
            return State.OK, "present"
        if offset in table:
            return table[offset]
    desc = _const_desc(consts, sensor_type, reading_type, offset)
    return State.UNKNOWN, desc


def _const_desc(consts: Any, sensor_type: int, reading_type: int, offset: int) -> str:
    try:
        if reading_type == 0x6F:
            return str(consts.sensor_type_offsets[sensor_type][offset]["desc"])
        return str(consts.generic_type_offsets[reading_type][offset]["desc"])
    except (AttributeError, KeyError, TypeError):
        return f"event type 0x{reading_type:02x} offset {offset}"
