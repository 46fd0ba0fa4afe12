"""Turning walked cells into normalised readings: value coercion, status tables, value tables, slot names."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyasn1.type import univ

from fleet.collectors.snmp.engine import Oid, WalkResult
from fleet.health.model import Kind, Reading, State

Enum = Mapping[int, tuple[str, State]]


def oid(text: str) -> Oid:
    return tuple(int(p) for p in text.strip(".").split("."))


def dotted(o: Oid) -> str:
    return "." + ".".join(map(str, o))


def type_name(value: Any) -> str:
    if isinstance(value, univ.OctetString):
        return "OCTET STRING"
    if isinstance(value, univ.ObjectIdentifier):
        return "OBJECT IDENTIFIER"
    if isinstance(value, univ.Integer):
        return "INTEGER"
    return type(value).__name__


def as_int(value: Any) -> int | None:
    """An integer cell's value; None when the agent sent another type (the caller reports it)."""
    if isinstance(value, univ.Integer):
        return int(value)
    return None


def as_text(value: Any) -> str:
    if isinstance(value, univ.OctetString):
        raw = value.asOctets()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        return " ".join(text.replace("\x00", " ").split())
    if value is None:
        return ""
    if isinstance(value, univ.Integer):
        return str(int(value))
    return str(value.prettyPrint()) if hasattr(value, "prettyPrint") else str(value)


_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)")


def as_number(value: Any) -> float | None:
    """An INTEGER, or a string that starts with a number ("56 %", "32.000"), as a float."""
    if isinstance(value, univ.Integer):
        return float(int(value))
    if isinstance(value, univ.OctetString):
        m = _NUMBER.match(as_text(value))
        return float(m.group(1)) if m else None
    return None


def shown(value: Any) -> str:
    text = as_text(value)
    return repr(text[:40])


# --- slot names: the replaceable part a row is about, from its name or location ---------------------------------

_PSU = re.compile(r"\b(?:PSU|PS|Power\s*Supply)[\s#_-]*(\d+)", re.I)
_FAN = re.compile(r"\bFan[\s#_-]*(\d+[A-Z]?)", re.I)
_CPU = re.compile(r"\b(?:CPU|PROC|Processor)(?:\.Socket\.|\s*#?\s*|-)(\d+)", re.I)
_DELL_DISK = re.compile(r"(\d+:\d+:\d+)\s*$")
_HP_BAY = re.compile(r"Port[ =]*(\w+)\W+Box[ =]*(\w+)\W+Bay[ =]*(\w+)", re.I)
_DIMM_DELL = re.compile(r"DIMM\.Socket\.(\w+)", re.I)
_DIMM_PROC = re.compile(r"PROC\s*(\d+)\s*DIMM\s*(\d+)", re.I)
_DIMM_SIMPLE = re.compile(r"\bDIMM[\s_-]*([A-Z]?\d+[A-Z]?)\b", re.I)


def slot_psu(name: str) -> str:
    m = _PSU.search(name)
    return f"PSU{m.group(1)}" if m else name


def slot_fan(name: str) -> str:
    m = _FAN.search(name)
    return f"FAN{m.group(1).upper()}" if m else name


def slot_cpu(name: str) -> str:
    m = _CPU.search(name)
    return f"CPU{m.group(1)}" if m else name


def slot_dimm(name: str) -> str:
    if m := _DIMM_DELL.search(name):
        return f"DIMM_{m.group(1).upper()}"
    if m := _DIMM_PROC.search(name):
        return f"CPU{m.group(1)}_DIMM{m.group(2)}"
    if m := _DIMM_SIMPLE.search(name):
        return f"DIMM_{m.group(1).upper()}"
    return name


def slot_disk(name: str) -> str:
    if m := _DELL_DISK.search(name):
        return f"Disk {m.group(1)}"
    if m := _HP_BAY.search(name):
        return f"Disk {m.group(1)}:{m.group(2)}:{m.group(3)}"
    return name


def slot_same(name: str) -> str:
    return name


def slot_none(name: str) -> str:
    return ""


SLOTS: dict[Kind, Callable[[str], str]] = {
    Kind.PSU: slot_psu,
    Kind.FAN: slot_fan,
    Kind.CPU: slot_cpu,
    Kind.DIMM: slot_dimm,
    Kind.DISK: slot_disk,
    Kind.RAID: slot_same,
    Kind.BATTERY: slot_same,
    Kind.BOARD: slot_none,
    Kind.TEMPERATURE: slot_none,
    Kind.VOLTAGE: slot_none,
}


# --- table specifications -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusColumn:
    """One status column (or a scalar, index "0"): one reading per row, named from a name column or a format."""

    label: str  # the MIB object name, shown in `detail` so an operator can find the cell
    status: str  # column OID
    kind: Kind
    enum: Enum
    name: str | None = None  # name column OID (same table, same index)
    name_fmt: str = "{name}"  # also sees {index} (the row index, dotted) and {last} (its last component)
    slot: Callable[[str], str] | None = None  # default: by kind
    value: str | None = None  # value column OID
    divisor: float = 1.0
    unit: str | None = None
    extra_names: tuple[str, ...] = field(default=())  # further columns tried for the name when the first is empty
    kind_of: Callable[[str], Kind] | None = None  # when one table holds several kinds (by row name)
    slot_col: str | None = None  # column naming the part's location, when the name column does not
    absent_when: tuple[str, frozenset[int]] | None = None  # (presence column, its values meaning "empty slot")
    # columns holding the agent's thresholds for `value` (warn_low, warn_high, crit_low, crit_high), same divisor
    limits: tuple[str | None, str | None, str | None, str | None] = (None, None, None, None)


@dataclass(frozen=True, slots=True)
class ValueColumn:
    """A value-only column (no status from the controller): reported as ok with its value."""

    label: str
    value: str
    kind: Kind
    name: str | None = None
    name_fmt: str = "{name}"
    divisor: float = 1.0
    unit: str | None = None


def _row_name(walk: WalkResult, columns: tuple[str | None, ...], fmt: str, index: Oid) -> str:
    name = ""
    for col in columns:
        if col:
            name = as_text(walk.get((*oid(col), *index)))
            if name:
                break
    idx = ".".join(map(str, index))
    return fmt.format(name=name or idx, index=idx, last=index[-1] if index else "")


def status_readings(walk: WalkResult, spec: StatusColumn) -> list[Reading]:
    out: list[Reading] = []
    col = oid(spec.status)
    for index, cell in walk.column(col):
        name = _row_name(walk, (spec.name, *spec.extra_names), spec.name_fmt, index)
        kind = spec.kind_of(name) if spec.kind_of else spec.kind
        slot_of = spec.slot or SLOTS.get(kind, slot_same)
        slot = slot_of(name)
        if spec.slot_col:
            located = as_text(walk.get((*oid(spec.slot_col), *index)))
            slot = slot_of(located) if located else slot
        where = dotted((*col, *index))
        raw = as_int(cell)
        value = None
        if spec.value:
            v = as_number(walk.get((*oid(spec.value), *index)))
            value = None if v is None else round(v / spec.divisor, 3)
        if spec.absent_when and as_int(walk.get((*oid(spec.absent_when[0]), *index))) in spec.absent_when[1]:
            out.append(Reading(name, kind, slot, State.ABSENT, None, None, f"{spec.label}: slot empty oid {where}"))
            continue
        if raw is None:
            state = State.UNKNOWN
            detail = f"{spec.label}: expected INTEGER, got {type_name(cell)} {shown(cell)} oid {where}"
        elif raw in spec.enum:
            text, state = spec.enum[raw]
            detail = f"{spec.label} {text} ({raw}) oid {where}"
        else:
            state = State.UNKNOWN
            detail = f"{spec.label}: value {raw} not in the MIB's enumeration oid {where}"
        unit = spec.unit if value is not None else None
        out.append(Reading(name, kind, slot, state, value, unit, detail, *_limits(walk, spec, index, value)))
    return out


def _limits(walk: WalkResult, spec: StatusColumn, index: Oid, value: float | None) -> list[float | None]:
    if value is None:
        return [None, None, None, None]
    out: list[float | None] = []
    for col in spec.limits:
        v = as_number(walk.get((*oid(col), *index))) if col else None
        out.append(None if v is None else round(v / spec.divisor, 3))
    return out


def value_readings(walk: WalkResult, spec: ValueColumn) -> list[Reading]:
    out: list[Reading] = []
    col = oid(spec.value)
    slot_of = SLOTS.get(spec.kind, slot_same)
    for index, cell in walk.column(col):
        name = _row_name(walk, (spec.name,), spec.name_fmt, index)
        v = as_number(cell)
        if v is None:
            out.append(
                Reading(
                    name,
                    spec.kind,
                    slot_of(name),
                    State.UNKNOWN,
                    None,
                    None,
                    f"{spec.label}: not a number: {type_name(cell)} {shown(cell)} oid {dotted((*col, *index))}",
                )
            )
            continue
        out.append(Reading(name, spec.kind, slot_of(name), State.OK, round(v / spec.divisor, 3), spec.unit, None))
    return out


# --- enumerations shared by several vendors ----------------------------------------------------------------------

OK, WARN, CRIT, ABSENT, UNKNOWN = State.OK, State.WARNING, State.CRITICAL, State.ABSENT, State.UNKNOWN


def enum_of(*items: tuple[int, str, State]) -> Enum:
    return {value: (text, state) for value, text, state in items}
