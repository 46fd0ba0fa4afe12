"""Cisco UCS C-series CIMC (CISCO-UNIFIED-COMPUTING-*-MIB, 1.3.6.1.4.1.9.9.719.1): the operability column of each
equipment table. Rows are named by their distinguished name (dn) below the rack unit."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fleet.collectors.snmp.decode import ABSENT, CRIT, OK, UNKNOWN, WARN, StatusColumn, enum_of
from fleet.collectors.snmp.profiles import Profile
from fleet.health.model import Kind

U = "1.3.6.1.4.1.9.9.719.1"

_OPERABILITY = [
    (1, "operable", OK),
    (2, "inoperable", CRIT),
    (3, "degraded", WARN),
    (4, "poweredOff", WARN),
    (5, "powerProblem", CRIT),
    (6, "removed", ABSENT),
    (7, "voltageProblem", CRIT),
    (8, "thermalProblem", CRIT),
    (9, "performanceProblem", WARN),
    (10, "accessibilityProblem", WARN),
    (11, "identityUnestablishable", WARN),
    (12, "biosPostTimeout", CRIT),
    (13, "disabled", WARN),
]
OPERABILITY = enum_of((0, "unknown", UNKNOWN), *_OPERABILITY)
# Empty DIMM slots report unknown(0).
MEMORY = enum_of((0, "unknown (empty slot)", ABSENT), *_OPERABILITY)

_FAN = re.compile(r"fan-module-\d+-(\d+)/fan-(\d+)")


def _fan_slot(name: str) -> str:
    m = _FAN.search(name)
    return f"FAN{m.group(1)}.{m.group(2)}" if m else name


def _rn(prefix: str, label: str) -> Callable[[str], str]:
    def slot(name: str) -> str:
        last = name.rsplit("/", 1)[-1]
        return last.replace(prefix, label) if last.startswith(prefix) else last

    return slot


def _dn(table: str) -> str:
    return f"{U}.{table}.2"


def _col(label: str, table: str, column: int, kind: Kind, **kw: Any) -> StatusColumn:
    return StatusColumn(
        label,
        f"{U}.{table}.{column}",
        kind,
        kw.pop("enum", OPERABILITY),
        name=kw.pop("name", _dn(table)),
        name_fmt="{name}",
        **kw,
    )


CIMC = Profile(
    name="cisco-cimc",
    subtrees=(),
    status=(
        _col("cucsEquipmentFanOperability", "15.12.1", 10, Kind.FAN, slot=_fan_slot),
        _col("cucsEquipmentPsuOperability", "15.56.1", 8, Kind.PSU, slot=_rn("psu-", "PSU")),
        _col(
            "cucsMemoryUnitOperability", "30.11.1", 14, Kind.DIMM, enum=MEMORY, slot=lambda n: n, name=f"{U}.30.11.1.11"
        ),
        _col("cucsProcessorUnitOperability", "41.9.1", 10, Kind.CPU, slot_col=f"{U}.41.9.1.16"),
        _col("cucsStorageControllerOperability", "45.1.1", 7, Kind.RAID, slot=_rn("storage-", "")),
        _col("cucsStorageFlexFlashControllerOperability", "45.35.1", 11, Kind.RAID, slot=_rn("storage-", "")),
        _col("cucsStorageLocalDiskOperability", "45.4.1", 9, Kind.DISK, slot=_rn("pd-", "Disk ")),
        _col("cucsStorageLocalLunOperability", "45.8.1", 9, Kind.RAID, slot=_rn("vd-", "VD ")),
        _col("cucsStorageRaidBatteryOperability", "45.11.1", 9, Kind.BATTERY, slot=lambda n: "RAID battery"),
    ),
)
