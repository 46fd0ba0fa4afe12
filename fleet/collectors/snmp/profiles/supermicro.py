"""Supermicro X10-X13 BMCs (ATEN firmware, SUPERMICRO-... 1.3.6.1.4.1.21317): the IPMI sensor table mirrored in
SNMP (reading as text plus six thresholds) and the PSU table."""

from __future__ import annotations

from fleet.collectors.snmp.decode import (
    ABSENT,
    CRIT,
    OK,
    StatusColumn,
    as_int,
    as_number,
    as_text,
    dotted,
    enum_of,
    oid,
    shown,
    type_name,
)
from fleet.collectors.snmp.engine import WalkResult
from fleet.collectors.snmp.profiles import Profile
from fleet.health.model import Kind, Reading, State

T = "1.3.6.1.4.1.21317.1.3.1"  # sensor table: .2 reading, .5-.10 thresholds, .13 name
P = "1.3.6.1.4.1.21317.1.14.2.1"  # PSU table

PSU = enum_of((0, "Not Present", ABSENT), (1, "Present: OK", OK), (3, "Present: Failed", CRIT))
# Discrete sensors (all thresholds 0): their reading is an IPMI state value, per sensor name.
DISCRETE: dict[str, tuple[Kind, dict[int, tuple[str, State]]]] = {
    "VBAT": (
        Kind.BATTERY,
        {4: ("Present: OK", State.OK), 2: ("Present: Failed", State.CRITICAL), 0: ("Not Present", State.CRITICAL)},
    ),
    "Chassis Intru": (Kind.BOARD, {0: ("OK", State.OK), 1: ("General Chassis Intrusion", State.CRITICAL)}),
}


def _kind(name: str) -> tuple[Kind, str | None]:
    upper = name.upper()
    if "TEMP" in upper:
        return Kind.TEMPERATURE, "C"
    if upper.startswith("FAN"):
        return Kind.FAN, "RPM"
    return Kind.VOLTAGE, "V"


def _sensor(walk: WalkResult, index: tuple[int, ...], cell: object) -> Reading | None:
    name = as_text(walk.get((*oid(f"{T}.13"), *index))) or f"sensor {index[-1]}"
    where = dotted((*oid(f"{T}.2"), *index))
    value = as_number(cell)
    if name.startswith("PS") and name.endswith("Status"):
        return None  # the PSU table reports these, with an enumeration
    if name in DISCRETE:
        kind, states = DISCRETE[name]
        text, state = states.get(int(value) if value is not None else -1, ("not in enumeration", State.UNKNOWN))
        detail = f"sensorReading {text} ({shown(cell)}) oid {where}"
        return Reading(name, kind, name if kind is Kind.BATTERY else "", state, None, None, detail)
    kind, unit = _kind(name)
    slot = name.split()[0] if kind is Kind.FAN else ""
    if value is None:
        detail = f"sensorReading: not a number: {type_name(cell)} {shown(cell)} oid {where}"
        return Reading(name, kind, slot, State.UNKNOWN, None, None, detail)
    limits = [as_number(walk.get((*oid(f"{T}.{c}"), *index))) or 0.0 for c in (5, 6, 8, 9)]
    lnc, lc, unc, uc = limits
    if not any(limits):
        if value == 0:  # no thresholds and no reading: nothing fitted in that position
            return Reading(name, kind, slot, State.ABSENT, None, None, f"sensorReading not installed oid {where}")
        return Reading(name, kind, slot, State.OK, value, unit, f"sensorReading, no thresholds oid {where}")
    state, why = State.OK, "within thresholds"
    if (lc and value <= lc) or (uc and value >= uc):
        state, why = State.CRITICAL, f"outside critical thresholds {lc:g}..{uc:g}"
    elif (lnc and value <= lnc) or (unc and value >= unc):
        state, why = State.WARNING, f"outside non-critical thresholds {lnc:g}..{unc:g}"
    return Reading(name, kind, slot, state, value, unit, f"sensorReading {why} oid {where}")


def _sensors(walk: WalkResult) -> list[Reading]:
    out = []
    for index, cell in walk.column(oid(f"{T}.2")):
        reading = _sensor(walk, index, cell)
        if reading is not None:
            out.append(reading)
    return out


def _power(walk: WalkResult) -> str | None:
    value = as_int(walk.get(oid("1.3.6.1.4.1.21317.1.4.0")))  # smPowerState: 0 off, 1 on, 2 reset
    return {0: "off", 1: "on"}.get(value) if value is not None else None


SMC = Profile(
    name="supermicro",
    subtrees=(*(f"{T}.{c}" for c in (2, 5, 6, 8, 9, 13)), "1.3.6.1.4.1.21317.1.4"),
    status=(StatusColumn("psuStatus", f"{P}.2", Kind.PSU, PSU, name_fmt="PSU {last}", value=f"{P}.5", unit="W"),),
    custom=(_sensors,),
    power=_power,
)
