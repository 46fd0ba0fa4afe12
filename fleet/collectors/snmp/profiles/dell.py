"""Dell: iDRAC 7/8/9 (IDRAC-MIB-SMIv2, 1.3.6.1.4.1.674.10892.5) and OpenManage Server Administrator on the host
(MIB-Dell-10892, 1.3.6.1.4.1.674.10892.1)."""

from __future__ import annotations

from fleet.collectors.snmp.decode import (
    ABSENT,
    CRIT,
    OK,
    UNKNOWN,
    WARN,
    StatusColumn,
    as_int,
    enum_of,
    oid,
)
from fleet.collectors.snmp.engine import WalkResult
from fleet.collectors.snmp.profiles import Profile
from fleet.health.model import Kind

# ObjectStatusEnum of both MIBs.
STATUS = enum_of(
    (1, "other", UNKNOWN),
    (2, "unknown", UNKNOWN),
    (3, "ok", OK),
    (4, "nonCritical", WARN),
    (5, "critical", CRIT),
    (6, "nonRecoverable", CRIT),
)
# StatusProbeEnum: threshold probes (temperature, voltage, amperage, fans, batteries).
PROBE = enum_of(
    (1, "other", UNKNOWN),
    (2, "unknown", UNKNOWN),
    (3, "ok", OK),
    (4, "nonCriticalUpper", WARN),
    (5, "criticalUpper", CRIT),
    (6, "nonRecoverableUpper", CRIT),
    (7, "nonCriticalLower", WARN),
    (8, "criticalLower", CRIT),
    (9, "nonRecoverableLower", CRIT),
    (10, "failed", CRIT),
)
PD_STATE = enum_of(
    (1, "unknown", UNKNOWN),
    (2, "ready", OK),
    (3, "online", OK),
    (4, "foreign", WARN),
    (5, "offline", CRIT),
    (6, "blocked", CRIT),
    (7, "failed", CRIT),
    (8, "nonraid", OK),
    (9, "removed", ABSENT),
    (10, "readonly", WARN),
)
SMART = enum_of((0, "false", OK), (1, "true: predictive failure", WARN))
VD_STATE = enum_of((1, "unknown", UNKNOWN), (2, "online", OK), (3, "failed", CRIT), (4, "degraded", WARN))
BATTERY_STATE = enum_of(
    (1, "unknown", UNKNOWN),
    (2, "ready", OK),
    (3, "failed", CRIT),
    (4, "degraded", WARN),
    (5, "missing", CRIT),
    (6, "charging", OK),
    (7, "belowThreshold", WARN),
)
INTRUSION = enum_of(
    (1, "chassisNotBreached", OK),
    (2, "chassisBreached", CRIT),
    (3, "chassisBreachedPrior", WARN),
    (4, "chassisBreachSensorFailure", WARN),
)

D = "1.3.6.1.4.1.674.10892.5"  # iDRAC
S = f"{D}.4"  # its system tables
R = f"{D}.5.1.20"  # its storage (RAID) tables


def _limits(table: str) -> tuple[str, str, str, str]:
    """IDRAC-MIB probe tables: .10 upper critical, .11 upper non-critical, .12 lower non-critical, .13 lower
    critical (same unit as the reading). As (warn_low, warn_high, crit_low, crit_high)."""
    return f"{table}.12", f"{table}.11", f"{table}.13", f"{table}.10"


def _amperage_kind(name: str) -> Kind:
    return Kind.PSU if name.upper().startswith("PS") else Kind.BOARD


def _voltage_kind(name: str) -> Kind:
    return Kind.PSU if name.upper().startswith("PS") else Kind.VOLTAGE


def _power(walk: WalkResult) -> str | None:
    # systemStatePowerState: 3 off, 4 on (1 other, 2 unknown).
    for _index, cell in walk.column(oid(f"{S}.200.10.1.4")):
        return {3: "off", 4: "on"}.get(as_int(cell) or 0)
    return None


IDRAC = Profile(
    name="dell-idrac",
    subtrees=(f"{S}.200.10.1.4",),
    status=(
        StatusColumn("globalSystemStatus", f"{D}.2.1", Kind.BOARD, STATUS, name_fmt="Global System"),
        StatusColumn("globalStorageStatus", f"{D}.2.3", Kind.BOARD, STATUS, name_fmt="Global Storage"),
        StatusColumn(
            "drsGlobalSystemStatus", "1.3.6.1.4.1.674.10892.2.2.1", Kind.BOARD, STATUS, name_fmt="Global System"
        ),
        StatusColumn("systemStateGlobalSystemStatus", f"{S}.200.10.1.2", Kind.BOARD, STATUS, name_fmt="System {index}"),
        StatusColumn(
            "powerSupplyStatus", f"{S}.600.12.1.5", Kind.PSU, STATUS, name=f"{S}.600.12.1.8", name_fmt="{name}"
        ),
        StatusColumn(
            "voltageProbeStatus",
            f"{S}.600.20.1.5",
            Kind.VOLTAGE,
            PROBE,
            name=f"{S}.600.20.1.8",
            value=f"{S}.600.20.1.6",
            divisor=1000,
            unit="V",
            kind_of=_voltage_kind,
            limits=_limits(f"{S}.600.20.1"),
        ),
        StatusColumn(
            "amperageProbeStatus", f"{S}.600.30.1.5", Kind.BOARD, PROBE, name=f"{S}.600.30.1.8", kind_of=_amperage_kind
        ),
        StatusColumn("systemBatteryStatus", f"{S}.600.50.1.5", Kind.BATTERY, PROBE, name=f"{S}.600.50.1.7"),
        StatusColumn(
            "coolingDeviceStatus",
            f"{S}.700.12.1.5",
            Kind.FAN,
            PROBE,
            name=f"{S}.700.12.1.8",
            value=f"{S}.700.12.1.6",
            unit="RPM",
            limits=_limits(f"{S}.700.12.1"),
        ),
        StatusColumn(
            "temperatureProbeStatus",
            f"{S}.700.20.1.5",
            Kind.TEMPERATURE,
            PROBE,
            name=f"{S}.700.20.1.8",
            value=f"{S}.700.20.1.6",
            divisor=10,
            unit="C",
            limits=_limits(f"{S}.700.20.1"),
        ),
        StatusColumn(
            "intrusionStatus", f"{S}.300.70.1.5", Kind.BOARD, STATUS, name=f"{S}.300.70.1.8", name_fmt="Intrusion"
        ),
        StatusColumn("intrusionReading", f"{S}.300.70.1.6", Kind.BOARD, INTRUSION, name_fmt="Intrusion Reading"),
        StatusColumn(
            "processorDeviceStatus",
            f"{S}.1100.30.1.5",
            Kind.CPU,
            STATUS,
            name=f"{S}.1100.30.1.23",
            name_fmt="{name}",
            slot_col=f"{S}.1100.30.1.26",
        ),
        StatusColumn("memoryDeviceStatus", f"{S}.1100.50.1.5", Kind.DIMM, STATUS, name=f"{S}.1100.50.1.8"),
        StatusColumn(
            "controllerComponentStatus",
            f"{R}.130.1.1.38",
            Kind.RAID,
            STATUS,
            name=f"{R}.130.1.1.2",
            extra_names=(f"{R}.130.1.1.79",),
        ),
        StatusColumn("physicalDiskState", f"{R}.130.4.1.4", Kind.DISK, PD_STATE, name=f"{R}.130.4.1.2"),
        StatusColumn("physicalDiskComponentStatus", f"{R}.130.4.1.24", Kind.DISK, STATUS, name=f"{R}.130.4.1.2"),
        StatusColumn("physicalDiskSmartAlertIndication", f"{R}.130.4.1.31", Kind.DISK, SMART, name=f"{R}.130.4.1.2"),
        StatusColumn("virtualDiskState", f"{R}.140.1.1.4", Kind.RAID, VD_STATE, name=f"{R}.140.1.1.2"),
        StatusColumn("virtualDiskComponentStatus", f"{R}.140.1.1.20", Kind.RAID, STATUS, name=f"{R}.140.1.1.2"),
        StatusColumn(
            "batteryState",
            f"{R}.130.15.1.4",
            Kind.BATTERY,
            BATTERY_STATE,
            name=f"{R}.130.15.1.21",
            name_fmt="{name}",
            slot=lambda n: "RAID battery",
        ),
        StatusColumn(
            "batteryComponentStatus",
            f"{R}.130.15.1.6",
            Kind.BATTERY,
            STATUS,
            name=f"{R}.130.15.1.21",
            slot=lambda n: "RAID battery",
        ),
    ),
    power=_power,
)

OM = "1.3.6.1.4.1.674.10892.1"  # OpenManage Server Administrator on the host

OMSA = Profile(
    name="dell-omsa",
    host_agent=True,
    subtrees=(),
    status=(
        StatusColumn("systemStateGlobalSystemStatus", f"{OM}.200.10.1.2", Kind.BOARD, STATUS, name_fmt="Global System"),
        StatusColumn("powerSupplyStatus", f"{OM}.600.12.1.5", Kind.PSU, STATUS, name=f"{OM}.600.12.1.8"),
        StatusColumn(
            "coolingDeviceStatus",
            f"{OM}.700.12.1.5",
            Kind.FAN,
            PROBE,
            name=f"{OM}.700.12.1.8",
            value=f"{OM}.700.12.1.6",
            unit="RPM",
        ),
        StatusColumn(
            "temperatureProbeStatus",
            f"{OM}.700.20.1.5",
            Kind.TEMPERATURE,
            PROBE,
            name=f"{OM}.700.20.1.8",
            value=f"{OM}.700.20.1.6",
            divisor=10,
            unit="C",
        ),
        StatusColumn("memoryDeviceStatus", f"{OM}.1100.50.1.5", Kind.DIMM, STATUS, name=f"{OM}.1100.50.1.8"),
    ),
)
