"""Fujitsu PRIMERGY iRMC / ServerView agents (SNI-SERVER-CONTROL-MIB sc2, 1.3.6.1.4.1.231.2.10.2.2.10)."""

from __future__ import annotations

import re

from fleet.collectors.snmp.decode import ABSENT, CRIT, OK, UNKNOWN, WARN, StatusColumn, enum_of
from fleet.collectors.snmp.profiles import Profile
from fleet.health.model import Kind

B = "1.3.6.1.4.1.231.2.10.2.2.10"

FAN = enum_of(
    (1, "unknown", UNKNOWN),
    (2, "disabled", ABSENT),
    (3, "ok", OK),
    (4, "failed", CRIT),
    (5, "prefailure-predicted", WARN),
    (6, "redundant-fan-failed", WARN),
    (7, "not-manageable", UNKNOWN),
    (8, "not-present", ABSENT),
)
PSU = enum_of(
    (1, "unknown", UNKNOWN),
    (2, "not-present", ABSENT),
    (3, "ok", OK),
    (4, "failed", CRIT),
    (5, "ac-fail", CRIT),
    (6, "dc-fail", CRIT),
    (7, "critical-temperature", CRIT),
    (8, "not-manageable", UNKNOWN),
    (9, "fan-failure-predicted", WARN),
    (10, "fan-failure", CRIT),
    (11, "power-safe-mode", WARN),
    (12, "non-redundant-dc-fail", WARN),
    (13, "non-redundant-ac-fail", WARN),
)
VOLTAGE = enum_of(
    (1, "unknown", UNKNOWN),
    (2, "not-available", ABSENT),
    (3, "ok", OK),
    (4, "too-low", CRIT),
    (5, "too-high", CRIT),
    (6, "out-of-range", CRIT),
    (7, "battery-prefailure", WARN),
)
TEMPERATURE = enum_of(
    (1, "unknown", UNKNOWN),
    (2, "not-available", ABSENT),
    (3, "ok", OK),
    (4, "sensor-failed", WARN),
    (5, "failed", CRIT),
    (6, "temperature-warning-toohot", WARN),
    (7, "temperature-critical-toohot", CRIT),
    (8, "temperature-normal", OK),
    (9, "temperature-warning", WARN),
)
COMPONENT = enum_of(
    (1, "unknown", UNKNOWN),
    (2, "ok", OK),
    (3, "degraded", WARN),
    (4, "error", CRIT),
    (5, "failed", CRIT),
    (6, "not-present", ABSENT),
)
AGENT = enum_of((1, "ok", OK), (2, "degraded", WARN), (3, "error", CRIT), (4, "failed", CRIT), (5, "unknown", UNKNOWN))

_KINDS = [
    (re.compile(r"^DIMM", re.I), Kind.DIMM),
    (re.compile(r"^CPU", re.I), Kind.CPU),
    (re.compile(r"^(PSU|PS\d)", re.I), Kind.PSU),
    (re.compile(r"^FAN", re.I), Kind.FAN),
    (re.compile(r"BATT", re.I), Kind.BATTERY),
    (re.compile(r"(HDD|SSD|DISK)", re.I), Kind.DISK),
    (re.compile(r"(RAID|CTRL)", re.I), Kind.RAID),
]


def _component_kind(name: str) -> Kind:
    for pattern, kind in _KINDS:
        if pattern.search(name):
            return kind
    return Kind.OTHER


def _dimm_slot(name: str) -> str:
    return name.replace("-", "_") if name.upper().startswith("DIMM") else name


IRMC = Profile(
    name="fujitsu-irmc",
    subtrees=(),
    status=(
        StatusColumn("sc2AgentStatus", f"{B}.8.1", Kind.BOARD, AGENT, name_fmt="Global System Status"),
        StatusColumn(
            "sc2FanStatus",
            f"{B}.5.2.1.5",
            Kind.FAN,
            FAN,
            name=f"{B}.5.2.1.3",
            value=f"{B}.5.2.1.6",
            unit="RPM",
            slot=lambda n: n.replace(" ", "_"),
        ),
        StatusColumn(
            "sc2PowerSupplyStatus",
            f"{B}.6.2.1.5",
            Kind.PSU,
            PSU,
            name=f"{B}.6.2.1.3",
            value=f"{B}.6.2.1.6",
            unit="W",
            slot=lambda n: n.replace(" ", "_"),
        ),
        StatusColumn(
            "sc2VoltageStatus",
            f"{B}.6.3.1.4",
            Kind.VOLTAGE,
            VOLTAGE,
            name=f"{B}.6.3.1.3",
            value=f"{B}.6.3.1.5",
            divisor=1000,
            unit="V",
        ),
        StatusColumn(
            "sc2TempSensorStatus",
            f"{B}.5.1.1.5",
            Kind.TEMPERATURE,
            TEMPERATURE,
            name=f"{B}.5.1.1.3",
            value=f"{B}.5.1.1.6",
            unit="C",
        ),
        StatusColumn(
            "sc2ComponentStatusSensor",
            f"{B}.8.3.1.8",
            Kind.OTHER,
            COMPONENT,
            name=f"{B}.8.3.1.3",
            kind_of=_component_kind,
            slot=_dimm_slot,
        ),
    ),
)
