"""A threshold sensor's limits from its Full Sensor Record, in the sensor's unit (for the check's perfdata).

Full Sensor Record (IPMI 2.0 table 43-1, bytes counted from 1 as the spec does): byte 12 bits 3:2 say whether the
thresholds can be read at all, byte 19 is the readable-threshold mask (bit 0 lnc ... bit 5 unr), bytes 37-42
hold the raw thresholds unr, uc, unc, lnr, lc, lnc. Raw counts go through the record's own formula (pyghmi's
`decode_value`), exactly as a reading does.
"""

from __future__ import annotations

import math
from typing import Any

_CAPS, _READABLE, _FIRST = 11, 18, 36  # 0-based offsets in the record (header included)
_ORDER = ("unr", "uc", "unc", "lnr", "lc", "lnc")
_BIT = {"lnc": 0, "lc": 1, "lnr": 2, "unc": 3, "uc": 4, "unr": 5}


def _raw_to_value(entry: Any, cmd: Any, raw: int) -> float | None:
    fmt = getattr(entry, "numeric_format", 3)
    if fmt == 2:
        raw = raw - 256 if raw & 0x80 else raw
    elif fmt == 1:
        raw = -((~raw) & 0x7F) if raw & 0x80 else raw
    elif fmt != 0:
        return None
    try:
        value = float(entry.decode_value(cmd, raw))
    except (ArithmeticError, TypeError, ValueError, AttributeError):
        return None
    return round(value, 4) if math.isfinite(value) else None


def sdr_thresholds(entry: Any, record: bytes, cmd: Any) -> dict[str, float | None]:
    """warn_low / warn_high / crit_low / crit_high for Reading; empty when the record publishes none."""
    if len(record) < _FIRST + 6 or record[3] != 0x01 or (record[_CAPS] >> 2) & 0b11 in (0, 3):
        return {}
    readable = record[_READABLE]
    values: dict[str, float | None] = {}
    for i, name in enumerate(_ORDER):
        if readable & (1 << _BIT[name]):
            values[name] = _raw_to_value(entry, cmd, record[_FIRST + i])
    return {
        "warn_low": values.get("lnc"),
        "warn_high": values.get("unc"),
        "crit_low": values.get("lc", values.get("lnr")),
        "crit_high": values.get("uc", values.get("unr")),
    }
