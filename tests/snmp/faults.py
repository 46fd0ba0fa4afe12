"""Fault-injected copies of the real recordings: one row's status changed, the copy named after the change.

Each fault says which cell it changed and what a user must then see: the reading for that cell with its kind,
slot and state. Expected slots come from the recording's own name column for that row (read by hand), expected
states from the MIB meaning of the injected value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fleet.health.model import Kind, State


@dataclass(frozen=True)
class Fault:
    name: str  # community / file name of the copy
    base: str  # recording it is made from
    oid: str  # the status cell changed
    value: str  # new "type|value" of that cell
    kind: Kind
    slot: str
    state: State


FAULTS = [
    # Dell iDRAC9 R640: disk 0:1:1 online(3) -> failed(7)
    Fault(
        "drac_r640-disk-0-1-1-failed",
        "drac_r640",
        "1.3.6.1.4.1.674.10892.5.5.1.20.130.4.1.4.1",
        "2|7",
        Kind.DISK,
        "Disk 0:1:1",
        State.CRITICAL,
    ),
    # Dell iDRAC9 R640: DIMM.Socket.A2 ok(3) -> nonCritical(4)
    Fault(
        "drac_r640-dimm-a2-noncritical",
        "drac_r640",
        "1.3.6.1.4.1.674.10892.5.4.1100.50.1.5.1.3",
        "2|4",
        Kind.DIMM,
        "DIMM_A2",
        State.WARNING,
    ),
    # Dell iDRAC9 R640: virtual disk "NonRAID Disk 2" online(2) -> degraded(4)
    Fault(
        "drac_r640-vdisk-2-degraded",
        "drac_r640",
        "1.3.6.1.4.1.674.10892.5.5.1.20.140.1.1.4.2",
        "2|4",
        Kind.RAID,
        "NonRAID Disk 2",
        State.WARNING,
    ),
    # HPE iLO4: power supply 2 condition ok(2) -> failed(4)
    Fault(
        "hpe-ilo_4-psu-2-failed",
        "hpe-ilo_4",
        "1.3.6.1.4.1.232.6.2.9.3.1.4.0.2",
        "2|4",
        Kind.PSU,
        "PSU2",
        State.CRITICAL,
    ),
    # HPE iLO4: disk "Port 1I Box 6 Bay 4" status ok(2) -> predictiveFailure(4)
    Fault(
        "hpe-ilo_4-disk-1i-6-4-predictive",
        "hpe-ilo_4",
        "1.3.6.1.4.1.232.3.2.5.1.1.6.0.0",
        "2|4",
        Kind.DISK,
        "Disk 1I:6:4",
        State.WARNING,
    ),
    # HPE iLO5: cache (RAID) battery of controller 0 ok(2) -> failed(4)
    Fault(
        "hpe-ilo_5-raid-battery-0-failed",
        "hpe-ilo_5_with_bat_checks",
        "1.3.6.1.4.1.232.3.2.2.2.1.6.0",
        "2|4",
        Kind.BATTERY,
        "RAID battery 0",
        State.CRITICAL,
    ),
    # Lenovo XCC SR665: systemHealthStat normal(255) -> critical(2)
    Fault(
        "xclarity_sr665-health-critical",
        "xclarity_sr665",
        "1.3.6.1.4.1.19046.11.1.1.4.1.0",
        "2|2",
        Kind.BOARD,
        "",
        State.CRITICAL,
    ),
    # Cisco CIMC: fan-module-1-2/fan-1 operable(1) -> inoperable(2)
    Fault(
        "cimc-fan-2-1-inoperable",
        "cimc",
        "1.3.6.1.4.1.9.9.719.1.15.12.1.10.3",
        "2|2",
        Kind.FAN,
        "FAN2.1",
        State.CRITICAL,
    ),
    # Cisco CIMC: RAID battery operable(1) -> degraded(3)
    Fault(
        "cimc-raid-battery-degraded",
        "cimc",
        "1.3.6.1.4.1.9.9.719.1.45.11.1.9.1",
        "2|3",
        Kind.BATTERY,
        "RAID battery",
        State.WARNING,
    ),
    # Fujitsu iRMC S4: PSU2 ok(3) -> failed(4)
    Fault(
        "fujitsuiRMC_rx300-psu2-failed",
        "fujitsuiRMC_rx300",
        "1.3.6.1.4.1.231.2.10.2.2.10.6.2.1.5.1.2",
        "2|4",
        Kind.PSU,
        "PSU2",
        State.CRITICAL,
    ),
    # Fujitsu iRMC S4: DIMM-1A ok(2) -> degraded(3)
    Fault(
        "fujitsuiRMC_rx300-dimm-1a-degraded",
        "fujitsuiRMC_rx300",
        "1.3.6.1.4.1.231.2.10.2.2.10.8.3.1.8.1.1",
        "2|3",
        Kind.DIMM,
        "DIMM_1A",
        State.WARNING,
    ),
    # Supermicro X11: PSU 2 Present: OK(1) -> Present: Failed(3)
    Fault(
        "supermicro-bmc_x11-psu-2-failed",
        "supermicro-bmc_x11",
        "1.3.6.1.4.1.21317.1.14.2.1.2.2",
        "2|3",
        Kind.PSU,
        "PSU2",
        State.CRITICAL,
    ),
    # Linux + LSI MegaRAID: BBU 0 replacement ok/-1 -> needsReplacement(1)
    Fault(
        "linux_lsi-bbu-0-replace",
        "linux_lsi",
        "1.3.6.1.4.1.3582.4.1.4.1.6.2.1.27.0",
        "2|1",
        Kind.BATTERY,
        "RAID battery",
        State.CRITICAL,
    ),
]

# A value of the wrong type in a status column: an OCTET STRING where the MIB has an INTEGER.
WRONG_TYPE = Fault(
    "drac_r640-disk-state-is-a-string",
    "drac_r640",
    "1.3.6.1.4.1.674.10892.5.5.1.20.130.4.1.4.2",
    "4|abc",
    Kind.DISK,
    "Disk 0:1:2",
    State.UNKNOWN,
)


def write_copy(fault: Fault, corpus: Path, out_dir: Path) -> None:
    """Copy the base recording with the one cell changed; fail loudly if the cell is not in the recording."""
    lines = (corpus / f"{fault.base}.snmprec").read_text(encoding="utf-8").splitlines()
    prefix = fault.oid + "|"
    hits = [i for i, line in enumerate(lines) if line.startswith(prefix)]
    if len(hits) != 1:
        raise AssertionError(f"{fault.base} has {len(hits)} cells {fault.oid}")
    lines[hits[0]] = f"{fault.oid}|{fault.value}"
    (out_dir / f"{fault.name}.snmprec").write_text("\n".join(lines) + "\n", encoding="utf-8")
