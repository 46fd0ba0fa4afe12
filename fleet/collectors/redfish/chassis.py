"""Chassis parts: PSUs, fans, temperatures, voltages, the chassis batteries.

Both schema forms: the older `Power` and `Thermal` resources (one request each, arrays inside) and the newer
`PowerSubsystem` / `ThermalSubsystem` collections and `Sensors`. A chassis that has both (DMTF's rack server,
recent iDRAC) is read through the older form, which costs one request instead of one per part; the newer form is
read only when the older is missing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fleet.collectors.redfish.client import Client, path_of
from fleet.collectors.redfish.names import clean, part_number, state_of, unit_slots
from fleet.health.model import InventoryItem, Kind, Reading, State


def _num(value: Any) -> float | None:
    return round(float(value), 3) if isinstance(value, int | float) and not isinstance(value, bool) else None


def sensor_state(item: dict[str, Any], value: float | None) -> tuple[State, str | None]:
    """A sensor's state: the BMC's Health when it gives one; else its own thresholds decide."""
    state, detail = state_of(item.get("Status"))
    if state is not State.UNKNOWN or value is None or detail != "no health reported":
        return state, detail
    for key, st, text in (
        ("UpperThresholdFatal", State.CRITICAL, "above upper fatal"),
        ("UpperThresholdCritical", State.CRITICAL, "above upper critical"),
        ("UpperThresholdNonCritical", State.WARNING, "above upper non-critical"),
    ):
        limit = _num(item.get(key))
        if limit is not None and value >= limit:
            return st, f"{text} ({limit:g})"
    for key, st, text in (
        ("LowerThresholdFatal", State.CRITICAL, "below lower fatal"),
        ("LowerThresholdCritical", State.CRITICAL, "below lower critical"),
    ):
        limit = _num(item.get(key))
        if limit is not None and value < limit:
            return st, f"{text} ({limit:g})"
    return State.OK, None


# A sensor in one of these states is not measuring on purpose (DMTF's "CPU2 Temp" of an empty socket is Disabled).
_NOT_IN_USE = {"Disabled", "StandbyOffline", "Absent"}


def _placeholder(item: dict[str, Any]) -> bool:
    """An array entry with nothing in it but its name: no status, no identity, no reading."""
    return not (set(item) - {"@odata.id", "MemberId", "Name", "Oem"})


def _inventory(item: dict[str, Any], slot: str, kind: Kind) -> InventoryItem | None:
    serial = clean(item.get("SerialNumber") or "", 60) or None
    pn = part_number(item)
    if not (serial or pn) or state_of(item.get("Status"))[0] is State.ABSENT:
        return None
    return InventoryItem(
        slot=slot,
        kind=kind,
        manufacturer=clean(item.get("Manufacturer") or "", 60) or None,
        part_number=pn,
        serial=serial,
        description=clean(item.get("Model") or item.get("Name") or "", 80) or None,
    )


class ChassisParts:
    def __init__(self) -> None:
        self.readings: list[Reading] = []
        self.inventory: list[InventoryItem] = []

    def _part(self, item: dict[str, Any], kind: Kind, slot: str, value: float | None, unit: str | None) -> None:
        if _placeholder(item):
            return  # AMI MegaRAC lists PSU bays it knows nothing about: {"MemberId": "0", "Name": "nil"}
        state, detail = sensor_state(item, value) if kind is Kind.FAN else state_of(item.get("Status"))
        name = clean(item.get("Name") or item.get("FanName") or slot, 80)
        if name in ("nil", "HpeServerPowerSupply", ""):
            name = slot  # AMI and HPE give every PSU the same name: the slot says which one it is
        if kind is Kind.PSU and state is not State.OK and state is not State.ABSENT and item.get("FailurePredicted"):
            detail = "predictive failure" + (f"; {detail}" if detail else "")
        self.readings.append(Reading(name, kind, slot, state, value, unit, detail))
        if inv := _inventory(item, slot, kind):
            self.inventory.append(inv)

    def _sensor(self, item: dict[str, Any], kind: Kind, value: float | None, unit: str) -> None:
        state, detail = sensor_state(item, value)
        if state is State.ABSENT or (item.get("Status") or {}).get("State") in _NOT_IN_USE:
            return  # a sensor of an empty socket, or one switched off: not a part, nothing to say
        name = clean(item.get("Name") or item.get("Id") or "sensor", 80)
        self.readings.append(Reading(name, kind, "", state, value, unit, detail))

    # --- older form ----------------------------------------------------------------------------------------------

    def power(self, data: dict[str, Any]) -> None:
        psus = [p for p in data.get("PowerSupplies") or [] if isinstance(p, dict)]
        for psu, slot in zip(psus, unit_slots(psus, Kind.PSU, "PSU"), strict=True):
            watts = _num(psu.get("LastPowerOutputWatts") or psu.get("PowerOutputWatts"))
            self._part(psu, Kind.PSU, slot, watts, "W" if watts is not None else None)
        for v in data.get("Voltages") or []:
            self._sensor(v, Kind.VOLTAGE, _num(v.get("ReadingVolts")), "V")
        hpe = ((data.get("Oem") or {}).get("Hpe") or {}).get("SmartStorageBattery") or []
        for i, bat in enumerate(hpe if isinstance(hpe, list) else []):
            slot = "BAT" if len(hpe) == 1 else f"BAT{bat.get('Index') or i + 1}"
            self._part({**bat, "Name": bat.get("Name") or "Smart Storage Battery"}, Kind.BATTERY, slot, None, None)

    def thermal(self, data: dict[str, Any]) -> None:
        fans = [f for f in data.get("Fans") or [] if isinstance(f, dict)]
        for fan, slot in zip(fans, unit_slots(fans, Kind.FAN, "FAN"), strict=True):
            value = _num(fan.get("Reading") if "Reading" in fan else fan.get("ReadingRPM"))
            unit = fan.get("ReadingUnits") or ("RPM" if "ReadingRPM" in fan else None)
            self._part(fan, Kind.FAN, slot, value, "%" if unit == "Percent" else unit)
        for t in data.get("Temperatures") or []:
            self._sensor(t, Kind.TEMPERATURE, _num(t.get("ReadingCelsius")), "C")

    # --- newer form ----------------------------------------------------------------------------------------------

    async def power_subsystem(self, client: Client, data: dict[str, Any]) -> None:
        psus, bats = await asyncio.gather(
            client.members(data.get("PowerSupplies")), client.members(data.get("Batteries"))
        )
        for psu, slot in zip(psus, unit_slots(psus, Kind.PSU, "PSU"), strict=True):
            self._part(psu, Kind.PSU, slot, None, None)
        for i, bat in enumerate(bats):
            self._part(bat, Kind.BATTERY, "BAT" if len(bats) == 1 else f"BAT{i + 1}", None, None)

    async def thermal_subsystem(self, client: Client, data: dict[str, Any]) -> None:
        fans = await client.members(data.get("Fans"))
        for fan, slot in zip(fans, unit_slots(fans, Kind.FAN, "FAN"), strict=True):
            speed = fan.get("SpeedPercent") if isinstance(fan.get("SpeedPercent"), dict) else {}
            rpm = _num((speed or {}).get("SpeedRPM"))
            value, unit = (rpm, "RPM") if rpm is not None else (_num((speed or {}).get("Reading")), "%")
            self._part(fan, Kind.FAN, slot, value, unit)

    async def sensors(self, client: Client, link: Any) -> None:
        """Temperatures from the Sensors collection, for a chassis without the older Thermal resource."""
        for s in await client.members(link):
            if _is_temperature(s):
                self._sensor(_thresholds_flat(s), Kind.TEMPERATURE, _num(s.get("Reading")), "C")


def _is_temperature(sensor: dict[str, Any]) -> bool:
    # ReadingType is optional in the schema and DMTF's own mockup leaves it out: units and names tell too.
    if sensor.get("ReadingType") or sensor.get("ReadingUnits"):
        return sensor.get("ReadingType") == "Temperature" or sensor.get("ReadingUnits") == "Cel"
    return "temp" in f"{sensor.get('Id')} {sensor.get('Name')}".lower()


def _thresholds_flat(sensor: dict[str, Any]) -> dict[str, Any]:
    """Sensor.Thresholds {UpperCritical: {Reading}} in the older flat names, so one threshold rule serves both."""
    th = sensor.get("Thresholds") or {}
    flat = dict(sensor)
    for new, old in (
        ("UpperFatal", "UpperThresholdFatal"),
        ("UpperCritical", "UpperThresholdCritical"),
        ("UpperCaution", "UpperThresholdNonCritical"),
        ("LowerFatal", "LowerThresholdFatal"),
        ("LowerCritical", "LowerThresholdCritical"),
    ):
        if isinstance(th.get(new), dict):
            flat[old] = th[new].get("Reading")
    return flat


async def read_chassis(client: Client, chassis: dict[str, Any], parts: ChassisParts) -> None:
    """One chassis: the older resources when present, else the newer ones."""
    power, thermal = await asyncio.gather(
        client.get(p) if (p := path_of(chassis.get("Power"))) else _none(),
        client.get(p) if (p := path_of(chassis.get("Thermal"))) else _none(),
    )
    jobs = []
    if power is not None:
        parts.power(power)
    elif (p := path_of(chassis.get("PowerSubsystem"))) and (sub := await client.get(p)):
        jobs.append(parts.power_subsystem(client, sub))
    if thermal is not None:
        parts.thermal(thermal)
    else:
        if (p := path_of(chassis.get("ThermalSubsystem"))) and (sub := await client.get(p)):
            jobs.append(parts.thermal_subsystem(client, sub))
        if chassis.get("Sensors"):
            jobs.append(parts.sensors(client, chassis.get("Sensors")))
    await asyncio.gather(*jobs)


async def _none() -> None:
    return None
