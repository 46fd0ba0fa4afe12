"""APC Smart-UPS with a Network Management Card (PowerNet-MIB, 1.3.6.1.4.1.318.1.1.1)."""

from __future__ import annotations

from fleet.collectors.snmp.decode import CRIT, OK, UNKNOWN, WARN, StatusColumn, ValueColumn, enum_of
from fleet.collectors.snmp.profiles import Profile
from fleet.health.model import Kind

U = "1.3.6.1.4.1.318.1.1.1"

OUTPUT = enum_of(
    (1, "unknown", UNKNOWN),
    (2, "onLine", OK),
    (3, "onBattery", WARN),
    (4, "onSmartBoost", OK),
    (5, "timedSleeping", WARN),
    (6, "softwareBypass", WARN),
    (7, "off", CRIT),
    (8, "rebooting", WARN),
    (9, "switchedBypass", WARN),
    (10, "hardwareFailureBypass", CRIT),
    (11, "sleepingUntilPowerReturn", WARN),
    (12, "onSmartTrim", OK),
    (13, "ecoMode", OK),
    (14, "hotStandby", OK),
    (15, "onBatteryTest", WARN),
    (16, "emergencyStaticBypass", CRIT),
    (17, "staticBypassStandby", WARN),
    (18, "powerSavingMode", OK),
    (19, "spotMode", OK),
    (20, "eConversion", OK),
    (21, "chargerSpotmode", OK),
    (22, "inverterSpotmode", OK),
)
# A battery that needs replacing still carries the load: a planned swap, not an outage.
REPLACE = enum_of((1, "noBatteryNeedsReplacing", OK), (2, "batteryNeedsReplacing", WARN))
BATTERY = enum_of(
    (1, "unknown", UNKNOWN), (2, "batteryNormal", OK), (3, "batteryLow", WARN), (4, "batteryInFaultCondition", CRIT)
)

APC = Profile(
    name="apc-ups",
    subtrees=(),
    status=(
        StatusColumn(
            "upsBasicOutputStatus",
            f"{U}.4.1.1",
            Kind.PSU,
            OUTPUT,
            name_fmt="Output Status",
            slot=lambda n: "UPS output",
        ),
        StatusColumn(
            "upsBasicBatteryStatus",
            f"{U}.2.1.1",
            Kind.BATTERY,
            BATTERY,
            name_fmt="Battery Status",
            slot=lambda n: "UPS battery",
        ),
        StatusColumn(
            "upsAdvBatteryReplaceIndicator",
            f"{U}.2.2.4",
            Kind.BATTERY,
            REPLACE,
            name_fmt="UPS Battery Replacement Status",
            slot=lambda n: "UPS battery",
        ),
    ),
    values=(
        ValueColumn(
            "upsAdvBatteryTemperature", f"{U}.2.2.2", Kind.TEMPERATURE, name_fmt="Battery temperature", unit="C"
        ),
    ),
)
