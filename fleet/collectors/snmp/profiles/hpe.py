"""HPE ProLiant iLO 4/5/6 and Insight agents: CPQHLTH-MIB (health), CPQIDA-MIB (Smart Array), CPQSTDEQ-MIB (CPUs)."""

from __future__ import annotations

from fleet.collectors.snmp.decode import (
    ABSENT,
    CRIT,
    OK,
    UNKNOWN,
    WARN,
    StatusColumn,
    ValueColumn,
    enum_of,
)
from fleet.collectors.snmp.profiles import Profile
from fleet.health.model import Kind

H = "1.3.6.1.4.1.232.6"  # CPQHLTH
DA = "1.3.6.1.4.1.232.3.2"  # CPQIDA

# The CPQ "condition" of every table: other(1) means the agent cannot tell, typically an empty or unmanaged slot.
CONDITION = enum_of((1, "other", UNKNOWN), (2, "ok", OK), (3, "degraded", WARN), (4, "failed", CRIT))
# DIMM and fan rows for empty slots report other(1): not a failure.
SLOT_CONDITION = enum_of((1, "other (empty slot)", ABSENT), (2, "ok", OK), (3, "degraded", WARN), (4, "failed", CRIT))
CPU_STATUS = enum_of(
    (1, "unknown", UNKNOWN), (2, "ok", OK), (3, "degraded", WARN), (4, "failed", CRIT), (5, "disabled", WARN)
)
ACCEL_BATTERY = enum_of(
    (1, "other", UNKNOWN),
    (2, "ok", OK),
    (3, "recharging", WARN),
    (4, "failed", CRIT),
    (5, "degraded", WARN),
    (6, "notPresent", ABSENT),
    (7, "capacitorFailed", CRIT),
)
LOGDRV_STATUS = enum_of(
    (1, "other", UNKNOWN),
    (2, "ok", OK),
    (3, "failed", CRIT),
    (4, "unconfigured", UNKNOWN),
    (5, "recovering", WARN),
    (6, "readyForRebuild", WARN),
    (7, "rebuilding", WARN),
    (8, "wrongDrive", CRIT),
    (9, "badConnect", CRIT),
    (10, "overheating", CRIT),
    (11, "shutdown", CRIT),
    (12, "expanding", OK),
    (13, "notAvailable", UNKNOWN),
    (14, "queuedForExpansion", OK),
)
PHYDRV_STATUS = enum_of(
    (1, "other", UNKNOWN),
    (2, "ok", OK),
    (3, "failed", CRIT),
    (4, "predictiveFailure", WARN),
    (5, "erasing", OK),
    (6, "eraseDone", OK),
    (7, "eraseQueued", OK),
    (8, "ssdWearOut", WARN),
    (9, "notAuthenticated", WARN),
)
SMART = enum_of((1, "other", UNKNOWN), (2, "ok", OK), (3, "replaceDrive", WARN), (4, "replaceDriveSSDWearOut", WARN))
SYS_BATTERY_STATUS = enum_of(
    (1, "noError", OK),
    (2, "generalFailure", CRIT),
    (3, "shutdownHighResistance", CRIT),
    (4, "shutdownLowVoltage", CRIT),
    (5, "shutdownShortCircuit", CRIT),
    (6, "shutdownChargeTimeout", CRIT),
    (7, "shutdownOverTemperature", CRIT),
    (8, "shutdownDischargeMinVoltage", CRIT),
    (9, "shutdownDischargeCurrent", CRIT),
    (10, "shutdownLoadCountHigh", CRIT),
    (11, "shutdownEnablePin", CRIT),
    (12, "shutdownOverCurrent", CRIT),
    (13, "shutdownPermanentFailure", CRIT),
    (14, "shutdownBackupTimeExceeded", CRIT),
    (15, "predictiveFailure", WARN),
)
NOT_PRESENT = frozenset({2})  # cpqHeFltTol{Fan,PowerSupply}Present: notPresent(2)

HPE = Profile(
    name="hpe",
    subtrees=(),
    status=(
        StatusColumn("cpqHeMibCondition", f"{H}.1.3", Kind.BOARD, CONDITION, name_fmt="System health"),
        StatusColumn("cpqHeThermalCondition", f"{H}.2.6.1", Kind.BOARD, CONDITION, name_fmt="Thermal"),
        StatusColumn("cpqHeFltTolPwrSupplyCondition", f"{H}.2.9.1", Kind.BOARD, CONDITION, name_fmt="Power supplies"),
        StatusColumn(
            "cpqHeFltTolFanCondition",
            f"{H}.2.6.7.1.9",
            Kind.FAN,
            SLOT_CONDITION,
            name_fmt="Fan {last}",
            absent_when=(f"{H}.2.6.7.1.4", NOT_PRESENT),
        ),
        StatusColumn(
            "cpqHeTemperatureCondition",
            f"{H}.2.6.8.1.6",
            Kind.TEMPERATURE,
            CONDITION,
            name_fmt="Temperature {last}",
            value=f"{H}.2.6.8.1.4",
            unit="C",
        ),
        StatusColumn(
            "cpqHeFltTolPowerSupplyCondition",
            f"{H}.2.9.3.1.4",
            Kind.PSU,
            CONDITION,
            name_fmt="Power Supply {last}",
            value=f"{H}.2.9.3.1.7",
            unit="W",
            absent_when=(f"{H}.2.9.3.1.3", NOT_PRESENT),
        ),
        StatusColumn(
            "cpqHeResMem2ModuleCondition",
            f"{H}.2.14.13.1.20",
            Kind.DIMM,
            SLOT_CONDITION,
            name=f"{H}.2.14.13.1.13",
            absent_when=(f"{H}.2.14.13.1.19", NOT_PRESENT),
        ),
        StatusColumn(
            "cpqHeSysBatteryCondition",
            f"{H}.2.17.2.1.4",
            Kind.BATTERY,
            CONDITION,
            name=f"{H}.2.17.2.1.7",
            name_fmt="{name} {last}",
            slot=lambda n: "Smart Storage Battery",
        ),
        StatusColumn(
            "cpqHeSysBatteryStatus",
            f"{H}.2.17.2.1.5",
            Kind.BATTERY,
            SYS_BATTERY_STATUS,
            name=f"{H}.2.17.2.1.7",
            name_fmt="{name} {last}",
            slot=lambda n: "Smart Storage Battery",
        ),
        StatusColumn(
            "cpqSeCpuStatus",
            "1.3.6.1.4.1.232.1.2.2.1.1.6",
            Kind.CPU,
            CPU_STATUS,
            name="1.3.6.1.4.1.232.1.2.2.1.1.3",
            name_fmt="Processor {last}: {name}",
            slot=lambda n: n.split(":")[0].replace("Processor ", "CPU"),
        ),
        StatusColumn(
            "cpqDaCntlrCondition",
            f"{DA}.2.1.1.6",
            Kind.RAID,
            CONDITION,
            name=f"{DA}.2.1.1.20",
            name_fmt="Array Controller {name}",
        ),
        StatusColumn(
            "cpqDaAccelBattery",
            f"{DA}.2.2.1.6",
            Kind.BATTERY,
            ACCEL_BATTERY,
            name_fmt="Cache battery {index}",
            slot=lambda n: n.replace("Cache battery", "RAID battery"),
        ),
        StatusColumn("cpqDaLogDrvStatus", f"{DA}.3.1.1.4", Kind.RAID, LOGDRV_STATUS, name_fmt="Logical Drive {index}"),
        StatusColumn("cpqDaLogDrvCondition", f"{DA}.3.1.1.11", Kind.RAID, CONDITION, name_fmt="Logical Drive {index}"),
        StatusColumn(
            "cpqDaPhyDrvStatus",
            f"{DA}.5.1.1.6",
            Kind.DISK,
            PHYDRV_STATUS,
            name=f"{DA}.5.1.1.64",
            name_fmt="Disk {name}",
        ),
        StatusColumn(
            "cpqDaPhyDrvCondition",
            f"{DA}.5.1.1.37",
            Kind.DISK,
            CONDITION,
            name=f"{DA}.5.1.1.64",
            name_fmt="Disk {name}",
        ),
        StatusColumn(
            "cpqDaPhyDrvSmartStatus", f"{DA}.5.1.1.57", Kind.DISK, SMART, name=f"{DA}.5.1.1.64", name_fmt="Disk {name}"
        ),
    ),
    values=(
        ValueColumn(
            "cpqDaPhyDrvCurrentTemperature",
            f"{DA}.5.1.1.70",
            Kind.TEMPERATURE,
            name=f"{DA}.5.1.1.64",
            name_fmt="Disk {name} temperature",
            unit="C",
        ),
    ),
)
