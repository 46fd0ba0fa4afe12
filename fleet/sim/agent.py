"""A simulated SNMP agent (v1/v2c: GET, GETNEXT, GETBULK) serving a Dell iDRAC-like or HPE iLO-like table set.

The tables are small and written for fleet (not copied from device recordings); their columns are the ones the
vendors' MIBs define and that monitoring tools read (status, location/name, reading, serial). They are rebuilt from
the `MachineState` whenever a fault is injected or repaired, so the next request shows the change.

The protocol layer is pysnmp's message API (pysnmp.proto.api) on an asyncio datagram endpoint: a full pysnmp
`SnmpEngine` per device would cost megabytes and a MIB load each, and a demo runs hundreds of devices.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable
from typing import Any

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api
from pysnmp.proto.api import v2c
from pysnmp.proto.api.verdec import decode_message_version

from fleet.sim.faults import MachineState, Problem
from fleet.sim.layout import BATTERY, CPU, DIMM, DISK, FAN, PSU, TEMPERATURE

log = logging.getLogger(__name__)

Oid = tuple[int, ...]
Table = dict[Oid, Any]

MAX_RESPONSE_VARBINDS = 60  # keeps a GETBULK answer inside one UDP datagram


def oid(text: str) -> Oid:
    return tuple(int(p) for p in text.strip(".").split("."))


SYS = oid("1.3.6.1.2.1.1")
DELL = oid("1.3.6.1.4.1.674.10892.5")
DELL_DRS = oid("1.3.6.1.4.1.674.10892.2")
HP = oid("1.3.6.1.4.1.232")

# Dell ObjectStatusEnum and HP condition values.
D_OK, D_NONCRITICAL, D_CRITICAL = 3, 4, 5
H_OK, H_DEGRADED, H_FAILED = 2, 3, 4


def _system(state: MachineState, descr: str, object_id: str) -> Table:
    server = state.server
    return {
        (*SYS, 1, 0): v2c.OctetString(descr),
        (*SYS, 2, 0): v2c.ObjectIdentifier(oid(object_id)),
        (*SYS, 3, 0): v2c.TimeTicks(8640000),
        (*SYS, 4, 0): v2c.OctetString("datacenter operations"),
        (*SYS, 5, 0): v2c.OctetString(f"bmc-{server.chassis_serial.lower()}"),
        (*SYS, 6, 0): v2c.OctetString("simulated"),
    }


def _slots(state: MachineState, kind: str) -> list[str]:
    return [s for s, k in state.server.layout.slots() if k == kind]


def _int(v: int) -> Any:
    return v2c.Integer(v)


def _str(v: str) -> Any:
    return v2c.OctetString(v)


def dell_table(state: MachineState) -> Table:
    """iDRAC (IDRAC-MIB-SMIv2) view of the machine."""
    problems = state.problems()
    t: Table = _system(state, "Dell Out-of-band SNMP Agent for Remote Access Controller", "1.3.6.1.4.1.674.10892.5")
    t[(*DELL, 1, 3, 2, 0)] = _str(state.server.chassis_serial)  # systemServiceTag
    t[(*DELL, 1, 3, 12, 0)] = _str(state.server.model)  # systemModelName
    worst = D_OK
    storage = D_OK

    def note(status: int, *, disk: bool = False) -> None:
        nonlocal worst, storage
        worst = max(worst, status)
        if disk:
            storage = max(storage, status)

    psu = (*DELL, 4, 600, 12, 1)
    for i, slot in enumerate(_slots(state, PSU), start=1):
        p = problems.get(slot)
        status = {None: D_OK, Problem.PREDICTIVE: D_NONCRITICAL}.get(p, D_CRITICAL)
        present = p is not Problem.REMOVED
        bits = {Problem.FAILED: 2, Problem.PREDICTIVE: 4, Problem.INPUT_LOST: 8}
        sensor_state = (1 if present else 0) | (bits.get(p, 0) if p else 0)  # presence, failure, predictive, AC lost
        note(status)
        for col, value in (
            (1, _int(1)),
            (2, _int(i)),
            (5, _int(status)),
            (7, _int(9)),  # powerSupplyTypeIsAC
            (8, _str(f"PS{i} Status")),
            (11, _int(sensor_state)),
            (15, _str(f"PSU.Slot.{i}")),
        ):
            t[(*psu, col, 1, i)] = value

    fan = (*DELL, 4, 700, 12, 1)
    for i, slot in enumerate(_slots(state, FAN), start=1):
        p = problems.get(slot)
        rpm = {None: 8400 + 40 * i, Problem.BELOW_CRITICAL: 400}.get(p, 0)
        status = D_OK if p is None else D_CRITICAL
        note(status)
        for col, value in (
            (1, _int(1)),
            (2, _int(i)),
            (5, _int(status)),
            (6, _int(rpm)),
            (7, _int(3)),  # coolingDeviceTypeIsAFan
            (8, _str(f"System Board Fan{i}")),
            (13, _int(600)),  # lowerCriticalThreshold (RPM)
            (19, _str(f"Fan.Embedded.{i}")),
        ):
            t[(*fan, col, 1, i)] = value

    temp = (*DELL, 4, 700, 20, 1)
    probes = [(f"{c} Temp", c, 480, 900, 850) for c in _slots(state, CPU)]
    for name in _slots(state, TEMPERATURE):
        inlet = name.lower() == "inlet"
        probes.append(
            (f"System Board {name} Temp", name, 230 if inlet else 350, 420 if inlet else 750, 380 if inlet else 700)
        )
    for i, (location, slot, normal, upper_crit, upper_warn) in enumerate(probes, start=1):
        hot = problems.get(slot) is Problem.OVER_TEMPERATURE
        status = D_CRITICAL if hot else D_OK
        note(status)
        for col, value in (
            (1, _int(1)),
            (2, _int(i)),
            (5, _int(status)),
            (6, _int(upper_crit + 50 if hot else normal + 10 * (i % 3))),  # tenths of a degree C
            (7, _int(3)),
            (8, _str(location)),
            (10, _int(upper_crit)),
            (11, _int(upper_warn)),
            (12, _int(30)),
            (13, _int(-70)),
        ):
            t[(*temp, col, 1, i)] = value

    cpu = (*DELL, 4, 1100, 30, 1)
    for i, slot in enumerate(_slots(state, CPU), start=1):
        status = D_CRITICAL if problems.get(slot) is Problem.IERR else D_OK
        note(status)
        for col, value in (
            (1, _int(1)),
            (2, _int(i)),
            (5, _int(status)),
            (8, _str("Intel")),
            (23, _str("Intel(R) Xeon(R) Silver 4316 CPU @ 2.30GHz")),
            (26, _str(f"CPU.Socket.{i}")),
        ):
            t[(*cpu, col, 1, i)] = value

    mem = (*DELL, 4, 1100, 50, 1)
    for i, slot in enumerate(_slots(state, DIMM), start=1):
        p = problems.get(slot)
        status = {None: D_OK, Problem.CORRECTABLE_ECC: D_NONCRITICAL}.get(p, D_CRITICAL)
        note(status)
        socket = slot.removeprefix("DIMM_")
        for col, value in (
            (1, _int(1)),
            (2, _int(i)),
            (5, _int(status)),
            (7, _int(26)),  # DDR4
            (8, _str(f"DIMM.Socket.{socket}")),
            (10, _str(socket[0])),
            (14, _int(33554432)),  # KB
            (21, _str("Simulated Memory")),
            (22, _str("SIM-DIMM-32G")),
            (23, _str(state.serial(slot))),
            (26, _str(f"DIMM.Socket.{socket}")),
        ):
            t[(*mem, col, 1, i)] = value

    pd = (*DELL, 5, 1, 20, 130, 4, 1)
    disks = _slots(state, DISK)
    broken = 0
    for i, slot in enumerate(disks, start=1):
        n = i - 1
        p = problems.get(slot)
        disk_state = {None: 3, Problem.PREDICTIVE: 3, Problem.FAILED: 7, Problem.REMOVED: 9}[p]
        component = {None: D_OK, Problem.PREDICTIVE: D_NONCRITICAL}.get(p, D_CRITICAL)
        broken += p in (Problem.FAILED, Problem.REMOVED)
        note(component, disk=True)
        for col, value in (
            (1, _int(i)),
            (2, _str(f"Physical Disk 0:1:{n}")),
            (3, _str("SIMDISK")),
            (4, _int(disk_state)),
            (6, _str("SIM-HDD-2TB")),
            (7, _str(state.serial(slot))),
            (24, _int(component)),
            (31, _int(1 if p is Problem.PREDICTIVE else 0)),
            (54, _str(f"Disk.Bay.{n}:Enclosure.Internal.0-1:RAID.Integrated.1-1")),
            (55, _str(f"Disk {n} in Backplane 1 of Integrated RAID Controller 1")),
        ):
            t[(*pd, col, i)] = value
    if disks:
        ctl = (*DELL, 5, 1, 20, 130, 1, 1)
        t[(*ctl, 1, 1)] = _int(1)
        t[(*ctl, 2, 1)] = _str("PERC H730P Mini")
        t[(*ctl, 38, 1)] = _int(D_OK)
        # One virtual disk over all drives: degraded with one drive out, failed with more (RAID-1/5-like).
        vd = (*DELL, 5, 1, 20, 140, 1, 1)
        vd_state, vd_status = (2, D_OK) if broken == 0 else (4, D_NONCRITICAL) if broken == 1 else (3, D_CRITICAL)
        note(vd_status, disk=True)
        for col, value in ((1, _int(1)), (2, _str("Virtual Disk 0")), (4, _int(vd_state)), (20, _int(vd_status))):
            t[(*vd, col, 1)] = value

    for slot in _slots(state, BATTERY):
        p = problems.get(slot)
        status = {None: D_OK, Problem.PREDICTIVE: D_NONCRITICAL}.get(p, D_CRITICAL)
        note(status, disk=True)
        bat = (*DELL, 5, 1, 20, 130, 15, 1)
        t[(*bat, 1, 1)] = _int(1)
        t[(*bat, 6, 1)] = _int(status)  # raidBatteryComponentStatus
    t[(*DELL, 2, 1, 0)] = _int(worst)  # globalSystemStatus
    t[(*DELL, 2, 3, 0)] = _int(storage)  # globalStorageStatus
    t[(*DELL, 4, 200, 10, 1, 2, 1)] = _int(worst)  # systemStateGlobalSystemStatus
    t[(*DELL_DRS, 2, 1, 0)] = _int(worst)  # drsGlobalSystemStatus
    return t


def hpe_table(state: MachineState) -> Table:
    """iLO (CPQHLTH-MIB, CPQIDA-MIB, CPQSTDEQ-MIB) view of the machine."""
    problems = state.problems()
    t: Table = _system(state, "Integrated Lights-Out 5 2.72", "1.3.6.1.4.1.232.9.4.11")
    t[(*HP, 2, 2, 2, 1, 0)] = _str(state.server.chassis_serial)  # cpqSiSysSerialNum
    t[(*HP, 2, 2, 4, 2, 0)] = _str(state.server.model)  # cpqSiProductName
    worst = thermal = power = H_OK

    fan = (*HP, 6, 2, 6, 7, 1)
    for i, slot in enumerate(_slots(state, FAN), start=1):
        p = problems.get(slot)
        cond = H_OK if p is None else H_FAILED
        thermal = max(thermal, cond)
        for col, value in ((1, 0), (2, i), (3, 3), (4, 2 if p is Problem.REMOVED else 3), (9, cond)):
            t[(*fan, col, 0, i)] = _int(value)

    temp = (*HP, 6, 2, 6, 8, 1)
    probes = [(c, 6, 90) for c in _slots(state, CPU)] + [
        (name, 11 if name.lower() == "inlet" else 3, 42 if name.lower() == "inlet" else 75)
        for name in _slots(state, TEMPERATURE)
    ]
    for i, (slot, locale, limit) in enumerate(probes, start=1):
        hot = problems.get(slot) is Problem.OVER_TEMPERATURE
        cond = H_FAILED if hot else H_OK
        thermal = max(thermal, cond)
        celsius = limit + 5 if hot else limit // 2
        for col, value in ((1, 0), (2, i), (3, locale), (4, celsius), (5, limit), (6, cond)):
            t[(*temp, col, 0, i)] = _int(value)

    ps = (*HP, 6, 2, 9, 3, 1)
    for i, slot in enumerate(_slots(state, PSU), start=1):
        p = problems.get(slot)
        cond = {None: H_OK, Problem.PREDICTIVE: H_DEGRADED}.get(p, H_FAILED)
        status = {None: 1, Problem.PREDICTIVE: 1, Problem.INPUT_LOST: 17}.get(p, 2)
        power = max(power, H_DEGRADED if cond != H_OK else H_OK)  # a redundant supply lost: degraded
        for col, value in (
            (1, _int(0)),
            (2, _int(i)),
            (3, _int(2 if p is Problem.REMOVED else 3)),
            (4, _int(cond)),
            (5, _int(status)),
            (10, _str("865414-B21")),
            (11, _str(state.serial(slot))),
        ):
            t[(*ps, col, 0, i)] = value

    mem = (*HP, 6, 2, 14, 13, 1)
    dimms = _slots(state, DIMM)
    per_cpu = max(1, -(-len(dimms) // max(1, state.server.layout.cpus)))
    for i, slot in enumerate(dimms):
        p = problems.get(slot)
        cond = {None: H_OK, Problem.CORRECTABLE_ECC: H_DEGRADED}.get(p, H_FAILED)
        worst = max(worst, cond)
        for col, value in (
            (1, _int(i)),
            (13, _str(f"PROC {i // per_cpu + 1} DIMM {i % per_cpu + 1}")),
            (12, _str(state.serial(slot))),
            (19, _int(4 if p is None else 11)),
            (20, _int(cond)),
        ):
            t[(*mem, col, i)] = value

    cpu = (*HP, 1, 2, 2, 1, 1)
    for i, slot in enumerate(_slots(state, CPU)):
        status = 4 if problems.get(slot) is Problem.IERR else 2
        worst = max(worst, H_FAILED if status == 4 else H_OK)
        for col, value in ((1, _int(i)), (3, _str("Intel(R) Xeon(R) Gold 5220 CPU @ 2.20GHz")), (6, _int(status))):
            t[(*cpu, col, i)] = value

    disks = _slots(state, DISK)
    if disks:
        t[(*HP, 3, 2, 2, 1, 1, 6, 0)] = _int(H_OK)  # cpqDaCntlrCondition
        pd = (*HP, 3, 2, 5, 1, 1)
        broken = 0
        for i, slot in enumerate(disks):
            p = problems.get(slot)
            status = {None: 2, Problem.PREDICTIVE: 4}.get(p, 3)
            cond = {None: H_OK, Problem.PREDICTIVE: H_DEGRADED}.get(p, H_FAILED)
            broken += p in (Problem.FAILED, Problem.REMOVED)
            worst = max(worst, cond)
            for col, value in (
                (1, _int(0)),
                (2, _int(i)),
                (3, _str("EH0146FBQDC")),
                (6, _int(status)),
                (37, _int(cond)),
                (51, _str(state.serial(slot))),
                (57, _int(3 if p is Problem.PREDICTIVE else 2)),
                (64, _str(f"Port=1I:Box=1:Bay={i + 1}")),
            ):
                t[(*pd, col, 0, i)] = value
        ld = (*HP, 3, 2, 3, 1, 1)
        ld_status, ld_cond = (2, H_OK) if broken == 0 else (3, H_DEGRADED) if broken == 1 else (3, H_FAILED)
        ld_status = 2 if broken == 0 else (7 if broken == 1 else 3)  # ok, rebuilding-ready, failed
        worst = max(worst, ld_cond)
        t[(*ld, 4, 0, 1)] = _int(ld_status)
        t[(*ld, 11, 0, 1)] = _int(ld_cond)

    for slot in _slots(state, BATTERY):
        p = problems.get(slot)
        # cpqDaAccelBattery: ok, failed, degraded, notPresent (a missing battery is "notPresent", not a failure)
        value = {None: 2, Problem.FAILED: 4, Problem.PREDICTIVE: 5, Problem.REMOVED: 6}[p]
        worst = max(worst, {2: H_OK, 4: H_FAILED, 5: H_DEGRADED, 6: H_OK}[value])
        t[(*HP, 3, 2, 2, 2, 1, 6, 0)] = _int(value)
    if not state.power_on():
        power = H_FAILED  # no supply left delivering power
    t[(*HP, 6, 2, 6, 1, 0)] = _int(thermal)  # cpqHeThermalCondition
    t[(*HP, 6, 2, 9, 1, 0)] = _int(power)  # cpqHeFltTolPwrSupplyCondition
    t[(*HP, 6, 1, 3, 0)] = _int(max(worst, thermal, power))  # cpqHeMibCondition
    return t


def _health(p: Problem | None) -> int:
    """0 healthy, 1 warning (predictive, correctable), 2 failed: the three levels every vendor below distinguishes."""
    if p is None:
        return 0
    return 1 if p in (Problem.PREDICTIVE, Problem.CORRECTABLE_ECC) else 2


def lenovo_table(state: MachineState) -> Table:
    """XClarity Controller (LENOVO-XCC-MIB): per-part tables give names and readings; what failed is told by the
    system health summary rows, as on a real XCC."""
    problems = state.problems()
    x = (1, 3, 6, 1, 4, 1, 19046, 11, 1, 1)
    t: Table = _system(state, "Linux XCC", "1.3.6.1.4.1.19046.11.1")
    probes = [f"{c} Temp" for c in _slots(state, CPU)] + [f"{n} Temp" for n in _slots(state, TEMPERATURE)]
    for i, name in enumerate(probes, start=1):
        hot = problems.get(name.removesuffix(" Temp")) is Problem.OVER_TEMPERATURE
        for col, value in (
            (1, _int(i)),
            (2, _str(name)),
            (3, _str("95" if hot else "31")),
            (11, _str("Critical" if hot else "Normal")),
        ):
            t[(*x, 1, 2, 1, col, i)] = value
    for i, slot in enumerate(_slots(state, FAN), start=1):
        p = problems.get(slot)
        speed = " 38% of maximum" if p is None else " 0% of maximum"
        for col, value in (
            (1, _int(i)),
            (2, _str(f"Fan {i} Tach")),
            (3, _str(speed)),
            (10, _str("Normal" if p is None else "Critical")),
        ):
            t[(*x, 3, 2, 1, col, i)] = value
    rows = sorted((slot, p) for slot, p in problems.items())
    for i, (slot, p) in enumerate(rows, start=1):
        severity = "Warning" if _health(p) == 1 else "Critical"
        for col, value in ((1, _int(i)), (2, _str(severity)), (3, _str(f"{slot}: {p.value}"))):
            t[(*x, 4, 2, 1, col, i)] = value
    worst = max((_health(p) for p in problems.values()), default=0)
    t[(*x, 4, 1, 0)] = _int({0: 255, 1: 4, 2: 2}[worst])  # systemHealthStat
    return t


def cisco_table(state: MachineState) -> Table:
    """CIMC (CISCO-UNIFIED-COMPUTING-*-MIB): an operability column per part (1 operable, 2 inoperable, 3 degraded,
    6 removed) with the part's DN and name."""
    problems = state.problems()
    c = (1, 3, 6, 1, 4, 1, 9, 9, 719, 1)
    t: Table = _system(
        state, f"Cisco Integrated Management Controller(CIMC) [{state.server.model}]", "1.3.6.1.4.1.9.1.2178"
    )

    def operability(p: Problem | None) -> int:
        return 6 if p is Problem.REMOVED else {0: 1, 1: 3, 2: 2}[_health(p)]

    def rows(
        kind: str, table: tuple[int, ...], op_col: int, dn: str, rn: str, extra: dict[int, Callable[[str], Any]]
    ) -> None:
        for i, slot in enumerate(_slots(state, kind), start=1):
            t[(*c, *table, 2, i)] = _str(f"sys/rack-unit-1/{dn.format(i=i)}")
            t[(*c, *table, 3, i)] = _str(rn.format(i=i))
            t[(*c, *table, op_col, i)] = v2c.Integer(operability(problems.get(slot)))
            for col, make in extra.items():
                t[(*c, *table, col, i)] = make(slot)

    rows(FAN, (15, 12, 1), 10, "fan-module-1-{i}/fan-1", "fan-{i}", {})
    rows(PSU, (15, 56, 1), 8, "psu-{i}", "psu-{i}", {13: lambda slot: _str(state.serial(slot))})
    rows(
        DIMM,
        (30, 11, 1),
        14,
        "board/memarray-1/mem-{i}",
        "mem-{i}",
        {11: lambda slot: _str(slot), 19: lambda slot: _str(state.serial(slot))},
    )
    rows(DISK, (45, 4, 1), 9, "board/storage-SAS-MRAID/pd-{i}", "pd-{i}", {12: lambda slot: _str(state.serial(slot))})
    rows(CPU, (41, 9, 1), 10, "board/cpu-{i}", "cpu-{i}", {16: lambda slot: _str(slot)})
    rows(BATTERY, (45, 11, 1), 9, "board/storage-SAS-MRAID/raid-battery", "raid-battery", {})
    return t


def fujitsu_table(state: MachineState) -> Table:
    """iRMC (FSC-SERVERCONTROL2-MIB): fans, PSUs, temperatures and a component status table, indexed by cabinet."""
    problems = state.problems()
    f = (1, 3, 6, 1, 4, 1, 231, 2, 10, 2, 2, 10)
    t: Table = _system(state, "Primergy iRMC S5", "1.3.6.1.4.1.231.1.28.1")
    for i, slot in enumerate(_slots(state, FAN), start=1):
        p = problems.get(slot)
        status = {None: 3, Problem.REMOVED: 8}.get(p, 4)  # ok, not-present, failed  # type: ignore[call-overload]
        for col, value in ((1, 1), (2, i), (5, status), (6, 5280 if p is None else 0)):
            t[(*f, 5, 2, 1, col, 1, i)] = _int(value)
        t[(*f, 5, 2, 1, 3, 1, i)] = _str(f"FAN{i} SYS")
    for i, slot in enumerate(_slots(state, PSU), start=1):
        p = problems.get(slot)
        status = {None: 3, Problem.REMOVED: 2, Problem.INPUT_LOST: 5, Problem.PREDICTIVE: 9}.get(p, 4)
        for col, value in ((1, 1), (2, i), (5, status), (7, 800)):
            t[(*f, 6, 2, 1, col, 1, i)] = _int(value)
        t[(*f, 6, 2, 1, 3, 1, i)] = _str(slot)
    probes = [(f"{c} Temp", c) for c in _slots(state, CPU)] + [(n, n) for n in _slots(state, TEMPERATURE)]
    for i, (name, slot) in enumerate(probes, start=1):
        hot = problems.get(slot) is Problem.OVER_TEMPERATURE
        for col, value in ((1, 1), (2, i), (5, 7 if hot else 8), (6, 95 if hot else 30), (7, 80), (8, 90)):
            t[(*f, 5, 1, 1, col, 1, i)] = _int(value)
        t[(*f, 5, 1, 1, 3, 1, i)] = _str(name)
    parts = [s for s, k in state.server.layout.slots() if k in (DIMM, DISK, CPU, BATTERY)]
    for i, slot in enumerate(parts, start=1):
        p = problems.get(slot)
        status = 6 if p is Problem.REMOVED else {0: 2, 1: 3, 2: 5}[_health(p)]  # ok, degraded, failed, not-present
        for col, value in ((1, _int(1)), (2, _int(i)), (3, _str(slot)), (8, _int(status)), (9, _str(slot))):
            t[(*f, 8, 3, 1, col, 1, i)] = value
    return t


TABLES: dict[str, Callable[[MachineState], Table]] = {
    "dell": dell_table,
    "hpe": hpe_table,
    "lenovo": lenovo_table,
    "cisco": cisco_table,
    "fujitsu": fujitsu_table,
}


class SnmpAgent:
    """asyncio datagram protocol answering one device's requests from its table."""

    def __init__(self, state: MachineState, community: str) -> None:
        self.state = state
        self.community = community.encode()
        self.build = TABLES[state.server.vendor]
        self.transport: Any = None
        self._version = -1
        self._oids: list[Oid] = []
        self._values: Table = {}

    # asyncio.DatagramProtocol interface
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def error_received(self, exc: Exception) -> None:
        log.debug("simulated agent %s: %s", self.state.server.key, exc)

    def _table(self) -> tuple[list[Oid], Table]:
        if self._version != self.state.version:
            self._version = self.state.version
            self._values = self.build(self.state)
            self._oids = sorted(self._values)
        return self._oids, self._values

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            answer = self.respond(data)
        except Exception as exc:  # a malformed datagram must never stop the loop serving every device
            log.debug("simulated agent %s: bad request from %s: %s", self.state.server.key, addr, exc)
            return
        if answer is not None and self.transport is not None:
            self.transport.sendto(answer, addr)

    def respond(self, data: bytes) -> bytes | None:
        """The encoded response to one request, or None to stay silent (wrong community, not a request)."""
        version = int(decode_message_version(data))
        if version not in api.PROTOCOL_MODULES:
            return None
        p_mod = api.PROTOCOL_MODULES[version]
        request, _ = decoder.decode(data, asn1Spec=p_mod.Message())
        if bytes(p_mod.apiMessage.get_community(request)) != self.community:
            return None  # agents do not answer a wrong community (nor should they say why)
        response = p_mod.apiMessage.get_response(request)
        req_pdu = p_mod.apiMessage.get_pdu(request)
        rsp_pdu = p_mod.apiMessage.get_pdu(response)
        oids, table = self._table()
        var_binds = [(tuple(o), v) for o, v in p_mod.apiPDU.get_varbinds(req_pdu)]
        out: list[tuple[Oid, Any]] = []
        v1 = version == api.SNMP_VERSION_1
        if req_pdu.isSameTypeWith(p_mod.GetRequestPDU()):
            for i, (o, _) in enumerate(var_binds):
                if o in table:
                    out.append((o, table[o]))
                elif v1:
                    p_mod.apiPDU.set_error_status(rsp_pdu, 2)  # noSuchName
                    p_mod.apiPDU.set_error_index(rsp_pdu, i + 1)
                    out = var_binds
                    break
                else:
                    out.append(
                        (o, v2c.NoSuchInstance("") if o[:-1] and _has_prefix(oids, o[:-1]) else v2c.NoSuchObject(""))
                    )
        elif req_pdu.isSameTypeWith(p_mod.GetNextRequestPDU()):
            for i, (o, _) in enumerate(var_binds):
                nxt = _next(oids, o)
                if nxt is None:
                    if v1:
                        p_mod.apiPDU.set_error_status(rsp_pdu, 2)
                        p_mod.apiPDU.set_error_index(rsp_pdu, i + 1)
                        out = var_binds
                        break
                    out.append((o, v2c.EndOfMibView("")))
                else:
                    out.append((nxt, table[nxt]))
        elif not v1 and req_pdu.isSameTypeWith(v2c.GetBulkRequestPDU()):
            non_rep = min(int(v2c.apiBulkPDU.get_non_repeaters(req_pdu)), len(var_binds))
            max_rep = int(v2c.apiBulkPDU.get_max_repetitions(req_pdu))
            for o, _ in var_binds[:non_rep]:
                nxt = _next(oids, o)
                out.append((o, v2c.EndOfMibView("")) if nxt is None else (nxt, table[nxt]))
            cursors = [o for o, _ in var_binds[non_rep:]]
            for _ in range(max(0, max_rep)):
                if not cursors or len(out) + len(cursors) > MAX_RESPONSE_VARBINDS:
                    break
                row_done = True
                for j, o in enumerate(cursors):
                    nxt = _next(oids, o)
                    if nxt is None:
                        out.append((o, v2c.EndOfMibView("")))
                    else:
                        out.append((nxt, table[nxt]))
                        cursors[j] = nxt
                        row_done = False
                if row_done:
                    break
        else:
            p_mod.apiPDU.set_error_status(rsp_pdu, 5 if v1 else 6)  # genErr / noAccess: the simulator is read-only
            p_mod.apiPDU.set_error_index(rsp_pdu, 1)
            out = var_binds
        p_mod.apiPDU.set_varbinds(rsp_pdu, out)
        return bytes(encoder.encode(response))


def _next(oids: list[Oid], after: Oid) -> Oid | None:
    i = bisect.bisect_right(oids, after)
    return oids[i] if i < len(oids) else None


def _has_prefix(oids: list[Oid], prefix: Oid) -> bool:
    i = bisect.bisect_left(oids, prefix)
    return i < len(oids) and oids[i][: len(prefix)] == prefix
