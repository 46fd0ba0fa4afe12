"""SDR sensors to `Reading`s: kind from the sensor type, slot from name and entity, state from thresholds/states."""

from __future__ import annotations

import re
from typing import Any

from fleet.collectors.ipmi.thresholds import sdr_thresholds
from fleet.health.model import Kind, Reading, State

# Sensor type codes (IPMI 2.0 table 42-3) that name the part outright.
_KIND_BY_TYPE = {
    0x01: Kind.TEMPERATURE,
    0x02: Kind.VOLTAGE,
    0x04: Kind.FAN,
    0x07: Kind.CPU,
    0x08: Kind.PSU,
    0x09: Kind.PSU,  # power unit
    0x0C: Kind.DIMM,
    0x0D: Kind.DISK,
    0x15: Kind.BOARD,
    0x27: Kind.NIC,  # LAN heartbeat
    0x29: Kind.BATTERY,
}
# Entity ids (table 43-13) for sensors whose type says little (current, "other units" such as watts).
_KIND_BY_ENTITY = {
    3: Kind.CPU,
    4: Kind.DISK,
    10: Kind.PSU,
    26: Kind.DISK,
    29: Kind.FAN,
    32: Kind.DIMM,
    41: Kind.BATTERY,
}

# Sensor-specific discrete sensors (reading type 0x6f): per state offset, the state it means and a short text;
# and the offset that says "the part is there", if the type has one.
_SPECIFIC: dict[int, tuple[int | None, dict[int, tuple[State, str]]]] = {
    0x07: (
        7,
        {
            0: (State.CRITICAL, "IERR"),
            1: (State.CRITICAL, "thermal trip"),
            2: (State.CRITICAL, "FRB1/BIST failure"),
            3: (State.CRITICAL, "FRB2 hang in POST"),
            4: (State.CRITICAL, "FRB3 processor startup failure"),
            5: (State.WARNING, "configuration error"),
            6: (State.CRITICAL, "uncorrectable CPU complex error"),
            8: (State.WARNING, "disabled"),
            10: (State.WARNING, "throttled"),
            11: (State.CRITICAL, "uncorrectable machine check"),
            12: (State.WARNING, "correctable machine check"),
        },
    ),
    0x08: (
        0,
        {
            1: (State.CRITICAL, "failure detected"),
            2: (State.WARNING, "predictive failure"),
            3: (State.CRITICAL, "AC lost"),
            4: (State.CRITICAL, "AC lost or out of range"),
            5: (State.CRITICAL, "input out of range"),
            6: (State.WARNING, "configuration error"),
        },
    ),
    0x0C: (
        6,
        {
            0: (State.WARNING, "correctable ECC"),
            1: (State.CRITICAL, "uncorrectable ECC"),
            2: (State.CRITICAL, "parity error"),
            3: (State.CRITICAL, "memory scrub failed"),
            4: (State.WARNING, "device disabled"),
            5: (State.WARNING, "correctable ECC logging limit reached"),
            7: (State.WARNING, "configuration error"),
            9: (State.WARNING, "throttled"),
            10: (State.CRITICAL, "critical over-temperature"),
        },
    ),
    0x0D: (
        0,
        {
            1: (State.CRITICAL, "drive fault"),
            2: (State.WARNING, "predictive failure"),
            5: (State.CRITICAL, "in critical array"),
            6: (State.CRITICAL, "in failed array"),
            7: (State.WARNING, "rebuild in progress"),
            8: (State.WARNING, "rebuild aborted"),
        },
    ),
    0x29: (2, {0: (State.WARNING, "battery low"), 1: (State.CRITICAL, "battery failed")}),
}

# Threshold status bits of Get Sensor Reading byte 3, lowest first.
_THRESHOLDS = (
    (State.WARNING, "below lower non-critical"),
    (State.CRITICAL, "below lower critical"),
    (State.CRITICAL, "below lower non-recoverable"),
    (State.WARNING, "above upper non-critical"),
    (State.CRITICAL, "above upper critical"),
    (State.CRITICAL, "above upper non-recoverable"),
)

_RANK = {State.OK: 0, State.ABSENT: 0, State.UNKNOWN: 1, State.WARNING: 2, State.CRITICAL: 3}

_SLOT_PATTERNS = (
    (re.compile(r"\b(?:PSU|PS|Power Supply)\s*_?(\d+)", re.I), "PSU{}"),
    (re.compile(r"\bFAN\s*_?([A-Z]?\d+[A-Z]?)", re.I), "FAN{}"),
    (re.compile(r"\b(?:Drive|Disk|HDD|SSD|Bay)\s*_?(\d+)", re.I), "Drive {}"),
    (re.compile(r"\bDIMM\s*_?([A-Z]{0,2}\d+)", re.I), "DIMM {}"),
    (re.compile(r"\b(?:CPU|Proc)\s*_?(\d+)", re.I), "CPU{}"),
)
_SLOT_BY_KIND = {Kind.PSU: "PSU{}", Kind.FAN: "FAN{}", Kind.DISK: "Drive {}", Kind.DIMM: "DIMM {}", Kind.CPU: "CPU{}"}


def kind_of(sensor_type: int, entity: int) -> Kind:
    if sensor_type in _KIND_BY_TYPE:
        return _KIND_BY_TYPE[sensor_type]
    return _KIND_BY_ENTITY.get(entity, Kind.OTHER)


def slot_of(name: str, kind: Kind, entity: int, instance: int) -> str:
    """PSU2, FAN3, Drive 0, DIMM A1, CPU1 from the name; else from the entity instance; "" for ambient sensors."""
    for pattern, fmt in _SLOT_PATTERNS:
        m = pattern.search(name)
        if m:
            return fmt.format(m.group(1).upper())
    if kind is Kind.BATTERY:
        return "Battery"
    if kind in _SLOT_BY_KIND and _KIND_BY_ENTITY.get(entity) is kind:
        return _SLOT_BY_KIND[kind].format(instance)
    return ""


def worst(states: list[State]) -> State:
    out = State.OK
    for s in states:
        if _RANK[s] > _RANK[out]:
            out = s
    return out


def discrete_state(
    sensor_type: int, reading_type: int, asserted: int, supported: int, pyghmi_health: int
) -> tuple[State, str | None]:
    """State of a discrete sensor from its asserted offsets and the offsets its SDR says it supports."""
    if reading_type == 0x6F and sensor_type in _SPECIFIC:
        presence, table = _SPECIFIC[sensor_type]
        # pyghmi reports a removed drive as Ok: a supported presence offset that is clear means the part is gone
        if presence is not None and supported & (1 << presence) and not asserted & (1 << presence):
            return State.ABSENT, "not present"
        found = [table[b] for b in sorted(table) if asserted & (1 << b)]
        if not found:
            return State.OK, None
        return worst([s for s, _ in found]), ", ".join(t for _, t in found)
    if reading_type == 0x08:  # generic "device presence": offset 0 removed, 1 inserted
        if asserted & 1:
            return State.ABSENT, "not present"
        return State.OK, None
    # other generic/OEM discrete types: pyghmi's health flags (Warning 1, Critical 2, Failed 4)
    if pyghmi_health & 0b110:
        return State.CRITICAL, None
    if pyghmi_health & 0b1:
        return State.WARNING, None
    return State.OK, None


def _static(entry: Any, record: bytes, cmd: Any) -> tuple[Kind, str, int, dict[str, float | None]]:
    """What a sensor's SDR alone decides (kind, slot, supported offsets, thresholds), worked out once per SDR entry:
    the entry lives in the SDR cache, so every later poll of this BMC model reuses it. Thresholds of a non-linear
    sensor depend on the reading's conversion factors (`cmd`) and are worked out each time."""
    cached = getattr(entry, "fleet_static", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    entity, instance = (record[8], record[9] & 0x7F) if len(record) > 9 else (0, 0)
    kind = kind_of(entry.sensor_type_number, entity)
    supported = (record[14] | (record[15] << 8)) & 0x7FFF if len(record) > 15 else 0
    limits = sdr_thresholds(entry, record, cmd) if entry.reading_type == 0x01 else {}
    out = (kind, slot_of(entry.sensor_name, kind, entity, instance), supported, limits)
    if (getattr(entry, "linearization", 0) or 0) <= 11:  # linear: the factors are in the record itself
        entry.fleet_static = out
    return out


def to_reading(entry: Any, record: bytes, data: bytes, cmd: Any) -> Reading:
    """One sensor: its pyghmi SDR entry, the raw SDR record (for masks and entity) and Get Sensor Reading data."""
    name = entry.sensor_name
    kind, slot, supported, limits = _static(entry, record, cmd)
    if len(data) < 2 or data[1] & 0x20 or not data[1] & 0x40:
        # "reading unavailable" or scanning disabled: ipmitool prints "ns"
        return Reading(name, kind, slot, State.UNKNOWN, detail="no reading")
    decoded = entry.decode_sensor_reading(cmd, bytearray(data))
    value = getattr(decoded, "value", None)
    value = round(float(value), 4) if value is not None else None
    unit = ((getattr(decoded, "units", None) or "").strip() or None) if value is not None else None
    if entry.reading_type == 0x01:  # threshold sensor: byte 3 holds the threshold comparison bits
        status = data[2] if len(data) > 2 else 0
        hits = [_THRESHOLDS[b] for b in range(6) if status & (1 << b)]
        state = worst([s for s, _ in hits]) if hits else State.OK
        return Reading(name, kind, slot, state, value, unit, hits[-1][1] if hits else None, **limits)
    asserted = (data[2] if len(data) > 2 else 0) | ((data[3] & 0x7F) << 8 if len(data) > 3 else 0)
    state, detail = discrete_state(
        entry.sensor_type_number, entry.reading_type, asserted, supported, int(decoded.health or 0)
    )
    return Reading(name, kind, slot, state, value, unit, detail)
