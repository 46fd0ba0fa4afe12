"""Plain hosts running net-snmp: HOST-RESOURCES (processors, disks), UCD (disk space errors), LM-SENSORS readings,
ENTITY-SENSOR status, and LSI MegaRAID's agent (LSI-MegaRAID-SAS-MIB, 1.3.6.1.4.1.3582.4.1.4)."""

from __future__ import annotations

from fleet.collectors.snmp.decode import (
    ABSENT,
    CRIT,
    OK,
    UNKNOWN,
    WARN,
    StatusColumn,
    ValueColumn,
    as_int,
    as_text,
    dotted,
    enum_of,
    oid,
)
from fleet.collectors.snmp.engine import WalkResult
from fleet.collectors.snmp.profiles import Profile
from fleet.health.model import Kind, Reading, State, worst_state

HR = "1.3.6.1.2.1.25.3.2.1"  # hrDeviceTable
LM = "1.3.6.1.4.1.2021.13.16"
LSI = "1.3.6.1.4.1.3582.4.1.4"
ENT = "1.3.6.1.2.1.99.1.1.1"

HR_STATUS = enum_of(
    (1, "unknown", UNKNOWN), (2, "running", OK), (3, "warning", WARN), (4, "testing", OK), (5, "down", CRIT)
)
ENT_STATUS = enum_of((1, "ok", OK), (2, "unavailable", ABSENT), (3, "nonoperational", CRIT))
DSK_ERROR = enum_of((0, "noError", OK), (1, "error: below the configured free space", WARN))
ALARM = enum_of((0, "disabled", WARN), (1, "enabled", OK), (2, "silenced", WARN))
CHARGER = enum_of((-1, "notAvailable", UNKNOWN), (0, "off", WARN), (1, "complete", OK), (2, "inProgress", OK))
REPLACEMENT = enum_of((-1, "notAvailable", UNKNOWN), (0, "ok", OK), (1, "needsReplacement", CRIT))
# MegaRAID physical disk firmware states.
PD_STATE = {
    0: ("unconfigured-good", OK),
    1: ("unconfigured-bad", CRIT),
    2: ("hot-spare", OK),
    16: ("offline", CRIT),
    17: ("failed", CRIT),
    20: ("rebuild", WARN),
    24: ("online", OK),
    32: ("copyback", WARN),
    64: ("system", OK),
}
_HR_KINDS = {(1, 3, 6, 1, 2, 1, 25, 3, 1, 3): Kind.CPU, (1, 3, 6, 1, 2, 1, 25, 3, 1, 6): Kind.DISK}


def _hr_devices(walk: WalkResult) -> list[Reading]:
    """hrDeviceStatus of processors and disks only: network and other pseudo-devices are not spare parts."""
    out: list[Reading] = []
    status_col = oid(f"{HR}.5")
    for index, cell in walk.column(status_col):
        type_oid = walk.get((*oid(f"{HR}.2"), *index))
        kind = _HR_KINDS.get(tuple(type_oid.asTuple()) if hasattr(type_oid, "asTuple") else ())
        if kind is None:
            continue
        name = as_text(walk.get((*oid(f"{HR}.3"), *index))) or f"device {index[-1]}"
        raw = as_int(cell)
        text, state = (
            HR_STATUS.get(raw, ("not in enumeration", UNKNOWN)) if raw is not None else ("not INTEGER", UNKNOWN)
        )
        out.append(
            Reading(
                name,
                kind,
                name if kind is Kind.DISK else f"CPU{len(out)}",
                state,
                None,
                None,
                f"hrDeviceStatus {text} ({raw}) oid {dotted((*status_col, *index))}",
            )
        )
    return out


def _count(walk: WalkResult, column: str, index: tuple[int, ...]) -> int:
    return as_int(walk.get((*oid(column), *index))) or 0


def _lsi_adapters(walk: WalkResult) -> list[Reading]:
    """Per-controller counters: failed and critical disks, degraded and offline virtual drives."""
    out = []
    for index, _cell in walk.column(oid(f"{LSI}.1.2.1.1")):
        counts = {
            "failed disks": (_count(walk, f"{LSI}.1.2.1.24", index), CRIT),
            "critical disks": (_count(walk, f"{LSI}.1.2.1.23", index), WARN),
            "degraded virtual drives": (_count(walk, f"{LSI}.1.2.1.19", index), WARN),
            "offline virtual drives": (_count(walk, f"{LSI}.1.2.1.20", index), CRIT),
        }
        bad = {k: v for k, v in counts.items() if v[0] > 0}
        state = worst_state(s for _n, s in bad.values()) if bad else State.OK
        detail = ", ".join(f"{n} {k}" for k, (n, _s) in bad.items()) or "no failed or degraded drives"
        name = f"MegaRAID adapter {index[-1]}"
        out.append(Reading(name, Kind.RAID, f"RAID adapter {index[-1]}", state, None, None, detail))
    return out


def _lsi_disks(walk: WalkResult) -> list[Reading]:
    out = []
    state_col = oid(f"{LSI}.2.1.2.1.10")
    for index, cell in walk.column(state_col):
        raw = as_int(cell)
        text, state = PD_STATE.get(raw, ("not in enumeration", UNKNOWN)) if raw is not None else ("?", UNKNOWN)
        predictive = _count(walk, f"{LSI}.2.1.2.1.9", index)
        detail = f"pdState {text} ({raw}) oid {dotted((*state_col, *index))}"
        if predictive > 0:
            state = worst_state((state, State.WARNING))
            detail += f"; {predictive} predictive failure(s)"
        name = f"MegaRAID disk {'.'.join(map(str, index))}"
        out.append(Reading(name, Kind.DISK, f"Disk {'.'.join(map(str, index))}", state, None, None, detail))
    return out


LINUX = Profile(
    name="linux",
    subtrees=(
        *(f"{HR}.{c}" for c in (2, 3, 5)),
        *(f"{LSI}.1.2.1.{c}" for c in (1, 19, 20, 23, 24)),
        *(f"{LSI}.2.1.2.1.{c}" for c in (9, 10)),
    ),
    status=(
        StatusColumn(
            "dskErrorFlag",
            "1.3.6.1.4.1.2021.9.1.100",
            Kind.OTHER,
            DSK_ERROR,
            name="1.3.6.1.4.1.2021.9.1.2",
            name_fmt="Filesystem {name}",
            slot=lambda n: "",
        ),
        StatusColumn(
            "entPhySensorOperStatus", f"{ENT}.5", Kind.OTHER, ENT_STATUS, name_fmt="Sensor {index}", slot=lambda n: ""
        ),
        StatusColumn(
            "alarmState",
            f"{LSI}.1.2.1.4",
            Kind.RAID,
            ALARM,
            name_fmt="MegaRAID adapter {last} alarm",
            slot=lambda n: n.replace("MegaRAID adapter", "RAID adapter").removesuffix(" alarm"),
        ),
        StatusColumn(
            "chargerStatus",
            f"{LSI}.1.6.2.1.20",
            Kind.BATTERY,
            CHARGER,
            name_fmt="BBU {last} charger",
            slot=lambda n: "RAID battery",
        ),
        StatusColumn(
            "batteryReplacement",
            f"{LSI}.1.6.2.1.27",
            Kind.BATTERY,
            REPLACEMENT,
            name_fmt="BBU {last} replacement",
            slot=lambda n: "RAID battery",
        ),
    ),
    values=(
        ValueColumn("lmTempSensorsValue", f"{LM}.2.1.3", Kind.TEMPERATURE, name=f"{LM}.2.1.2", divisor=1000, unit="C"),
        ValueColumn("lmFanSensorsValue", f"{LM}.3.1.3", Kind.FAN, name=f"{LM}.3.1.2", unit="RPM"),
        ValueColumn("lmVoltSensorsValue", f"{LM}.4.1.3", Kind.VOLTAGE, name=f"{LM}.4.1.2", divisor=1000, unit="V"),
    ),
    custom=(_hr_devices, _lsi_adapters, _lsi_disks),
    host_agent=True,
)
