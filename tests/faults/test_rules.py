"""The rules, table-driven: each part kind against each redundancy layout. Expectations come from the SLA's meaning
of "critical" (the server is down or going down because of the part), written out by hand per case."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fleet.health.layout import Installed, Layout
from fleet.health.model import Kind
from fleet.health.rules import RuleParams, assess
from tests.faults.helpers import T0, ev, inv, poll, rd

C, N = "critical", "non-critical"


def run(result, layout=None, installed=(), **kw):
    found = assess(result, layout or Layout(), installed, now=T0, **kw)
    return sorted((f.slot, f.problem, f.severity) for f in found)


def installed(*slots: tuple[str, str]) -> list[Installed]:
    return [Installed(slot=s, kind=Kind(k), serial=None) for s, k in slots]


PSU_CASES = [
    # (layout psu_count, readings, installed slots, expected)
    ("one of two failed", 2, [rd("PSU1", "psu"), rd("PSU2", "psu", "critical")], [], [("PSU2", "failed", N)]),
    (
        "both of a pair failed",
        2,
        [rd("PSU1", "psu", "critical"), rd("PSU2", "psu", "critical")],
        [],
        [("PSU1", "failed", C), ("PSU2", "failed", C)],
    ),
    ("the only PSU", 1, [rd("PSU1", "psu", "critical")], [], [("PSU1", "failed", C)]),
    (
        "one of two pulled (presence cleared)",
        2,
        [rd("PSU1", "psu"), rd("PSU2", "psu", "absent")],
        [("PSU1", "psu"), ("PSU2", "psu")],
        [("PSU2", "absent", N)],
    ),
    (
        "one failed, the other pulled",
        2,
        [rd("PSU1", "psu", "critical"), rd("PSU2", "psu", "absent")],
        [("PSU1", "psu"), ("PSU2", "psu")],
        [("PSU1", "failed", C), ("PSU2", "absent", C)],
    ),
    ("an empty bay is not a fault", 2, [rd("PSU1", "psu"), rd("PSU2", "psu", "absent")], [("PSU1", "psu")], []),
    ("predictive failure", 2, [rd("PSU1", "psu", "warning"), rd("PSU2", "psu")], [], [("PSU1", "predictive", N)]),
    (
        "three of four lost",
        4,
        [rd(f"PSU{i}", "psu", "critical") for i in (1, 2, 3)] + [rd("PSU4", "psu")],
        [],
        [("PSU1", "failed", N), ("PSU2", "failed", N), ("PSU3", "failed", N)],
    ),
]


@pytest.mark.parametrize(("case", "count", "readings", "inst", "expected"), PSU_CASES, ids=[c[0] for c in PSU_CASES])
def test_psu(case, count, readings, inst, expected):
    assert run(poll(*readings), Layout(psu_count=count), installed(*inst)) == expected


def fans(n: int, bad: set[int], state: str = "critical") -> list:
    return [rd(f"FAN{i}", "fan", state if i in bad else "ok") for i in range(1, n + 1)]


FAN_CASES = [
    ("one fan of six", Layout(fan_count=6), fans(6, {3}), [("FAN3", "failed", N)]),
    ("all six fans", Layout(fan_count=6), fans(6, set(range(1, 7))), [(f"FAN{i}", "failed", C) for i in range(1, 7)]),
    (
        "the last fan of a zone (4 fans, 2 zones: 1-2 and 3-4)",
        Layout(fan_count=4, fan_zones=2),
        fans(4, {1, 2}),
        [("FAN1", "failed", C), ("FAN2", "failed", C)],
    ),
    (
        "one fan in each zone",
        Layout(fan_count=4, fan_zones=2),
        fans(4, {1, 3}),
        [("FAN1", "failed", N), ("FAN3", "failed", N)],
    ),
    ("a zone of one fan", Layout(fan_count=2, fan_zones=2), fans(2, {2}), [("FAN2", "failed", C)]),
    (
        "both rotors of one fan of two: one part",
        Layout(fan_count=2),
        [rd("FAN1A", "fan", "critical"), rd("FAN1B", "fan", "critical"), rd("FAN2A", "fan"), rd("FAN2B", "fan")],
        [("FAN1", "failed", N)],
    ),
    (
        "one rotor of the last fan",
        Layout(fan_count=1),
        [rd("FAN1A", "fan", "critical"), rd("FAN1B", "fan")],
        [("FAN1", "failed", C)],
    ),
    ("a slow fan", Layout(fan_count=6), fans(6, {2}, "warning"), [("FAN2", "predictive", N)]),
]


@pytest.mark.parametrize(("case", "layout", "readings", "expected"), FAN_CASES, ids=[c[0] for c in FAN_CASES])
def test_fan(case, layout, readings, expected):
    assert run(poll(*readings), layout) == expected


def disks(n: int, bad: set[int], state: str = "critical") -> list:
    return [rd(f"Disk {i}", "disk", state if i in bad else "ok") for i in range(n)]


DISK_CASES = [
    ("RAID0: any disk", "RAID0", disks(2, {1}), [("Disk 1", "failed", C)]),
    ("no array: any disk", "none", disks(1, {0}), [("Disk 0", "failed", C)]),
    ("RAID1: one of the pair", "RAID1", disks(2, {0}), [("Disk 0", "failed", N)]),
    ("RAID1: both of the pair", "RAID1", disks(2, {0, 1}), [("Disk 0", "failed", C), ("Disk 1", "failed", C)]),
    ("RAID10: one in each pair", "RAID10", disks(4, {0, 2}), [("Disk 0", "failed", N), ("Disk 2", "failed", N)]),
    ("RAID10: a whole pair", "RAID10", disks(4, {2, 3}), [("Disk 2", "failed", C), ("Disk 3", "failed", C)]),
    ("RAID5: one", "RAID5", disks(4, {1}), [("Disk 1", "failed", N)]),
    ("RAID5: two", "RAID5", disks(4, {1, 3}), [("Disk 1", "failed", C), ("Disk 3", "failed", C)]),
    ("RAID6: two", "RAID6", disks(6, {0, 5}), [("Disk 0", "failed", N), ("Disk 5", "failed", N)]),
    (
        "RAID6: three",
        "RAID6",
        disks(6, {0, 2, 5}),
        [("Disk 0", "failed", C), ("Disk 2", "failed", C), ("Disk 5", "failed", C)],
    ),
    ("predictive on RAID0 is not a failure", "RAID0", disks(2, {0}, "warning"), [("Disk 0", "predictive", N)]),
    (
        "array offline",
        "RAID5",
        [*disks(4, {1}), rd("VD0", "raid", "critical", name="Virtual Disk 0")],
        [("Disk 1", "failed", C), ("VD0", "offline", C)],
    ),
    (
        "array degraded, no disk named",
        "RAID1",
        [*disks(2, set()), rd("VD0", "raid", "warning")],
        [("VD0", "degraded", N)],
    ),
    (
        "array degraded by a failed disk",
        "RAID1",
        [*disks(2, {1}), rd("VD0", "raid", "warning")],
        [("Disk 1", "failed", N)],
    ),
]


@pytest.mark.parametrize(("case", "level", "readings", "expected"), DISK_CASES, ids=[c[0] for c in DISK_CASES])
def test_disk(case, level, readings, expected):
    assert run(poll(*readings), Layout(raid_level=level, disk_slots=len(readings))) == expected


def test_raid_level_spellings_mean_the_same():
    readings = poll(*disks(2, {0}))
    assert run(readings, Layout(raid_level="raid-1")) == run(readings, Layout(raid_level="RAID1"))
    assert run(readings, Layout(raid_level="1"))[0][2] == N


OTHER_CASES = [
    ("CPU IERR reading", poll(rd("CPU1", "cpu", "critical", detail="IERR")), [("CPU1", "mce", C)]),
    (
        "CPU machine check event",
        poll(rd("CPU1", "cpu"), events=[ev("CPU1", "cpu", "Machine Check Exception asserted")]),
        [("CPU1", "mce", C)],
    ),
    ("CPU warning", poll(rd("CPU2", "cpu", "warning")), [("CPU2", "predictive", N)]),
    (
        "uncorrectable ECC that halted the host",
        poll(events=[ev("DIMM_A1", "dimm", "Uncorrectable ECC")], power="off"),
        [("DIMM_A1", "uncorrectable", C)],
    ),
    (
        "uncorrectable ECC, host still running",
        poll(rd("DIMM_A1", "dimm"), events=[ev("DIMM_A1", "dimm", "Uncorrectable ECC")]),
        [("DIMM_A1", "uncorrectable", N)],
    ),
    ("DIMM reading critical, host up", poll(rd("DIMM_B2", "dimm", "critical")), [("DIMM_B2", "failed", N)]),
    (
        "ECC logging limit reached",
        poll(events=[ev("DIMM_A1", "dimm", "Correctable ECC logging limit reached")]),
        [("DIMM_A1", "ecc", N)],
    ),
    (
        "thermal trip event",
        poll(events=[ev("CPU1", "temperature", "Thermal Trip asserted")]),
        [("CPU1", "thermal-trip", C)],
    ),
    ("temperature warning", poll(rd("", "temperature", "warning", name="Inlet Temp")), [("INLET TEMP", "overtemp", N)]),
    (
        "temperature past non-recoverable",
        poll(rd("CPU1", "temperature", "critical", detail="above upper non-recoverable")),
        [("CPU1", "thermal-trip", C)],
    ),
    ("RAID battery failed", poll(rd("BAT", "battery", "critical")), [("BAT", "failed", N)]),
    ("RAID battery weak", poll(rd("BBU", "battery", "warning")), [("BAT", "predictive", N)]),
    ("NIC failed", poll(rd("NIC1", "nic", "critical")), [("NIC1", "failed", N)]),
    ("voltage out of range", poll(rd("", "voltage", "critical", name="12V")), [("12V", "failed", N)]),
    ("deasserted events are not faults", poll(events=[ev("CPU1", "cpu", "IERR deasserted")]), []),
    (
        "redundancy sensors are not parts",
        poll(rd("", "psu", "warning", name="PS Redundancy"), rd("", "fan", "critical", name="Fan Redundancy")),
        [],
    ),
    ("all healthy", poll(rd("PSU1", "psu"), rd("FAN1", "fan"), rd("Disk 0", "disk"), rd("CPU1", "cpu")), []),
]


@pytest.mark.parametrize(("case", "result", "expected"), OTHER_CASES, ids=[c[0] for c in OTHER_CASES])
def test_other_parts(case, result, expected):
    assert run(result) == expected


BROKEN = [rd("PSU1", "psu", "critical"), rd("PSU2", "psu", "critical"), rd("CPU1", "cpu", "critical")]


@pytest.mark.parametrize(
    "result",
    [
        poll(*BROKEN, reachable=False, error="unreachable"),
        poll(*BROKEN, error="auth"),
        poll(*BROKEN, error="timeout"),
        poll(*BROKEN, error="protocol: bad session"),
    ],
    ids=["unreachable", "auth", "timeout", "protocol"],
)
def test_collector_problems_are_never_faults(result):
    assert run(result) == []


def test_slot_spellings_from_both_protocols_give_one_slot():
    ipmi = run(poll(rd("PSU2", "psu", "critical"), rd("PSU1", "psu")))
    snmp = run(poll(rd("Power Supply 2", "psu", "critical"), rd("Power Supply 1", "psu"), protocol="snmp"))
    assert ipmi == snmp == [("PSU2", "failed", N)]


# --- ECC rate ----------------------------------------------------------------------------------------------------


def ecc(n: int, *, start=T0 - timedelta(hours=1)) -> list:
    return [ev("DIMM_A1", "dimm", "Correctable ECC", at=start + timedelta(minutes=i), record_id=i) for i in range(n)]


@pytest.mark.parametrize(
    ("events", "history", "params", "expected"),
    [
        (ecc(1), {}, RuleParams(), []),
        (ecc(2), {}, RuleParams(), [("DIMM_A1", "ecc", N)]),
        (ecc(2), {}, RuleParams(ecc_limit=3), []),
        (ecc(1), {"DIMM A1": [T0 - timedelta(hours=20)]}, RuleParams(), [("DIMM_A1", "ecc", N)]),
        (ecc(1), {"DIMM_A1": [T0 - timedelta(hours=25)]}, RuleParams(), []),
        (
            ecc(1),
            {"DIMM_A1": [T0 - timedelta(hours=25)]},
            RuleParams(ecc_window=timedelta(hours=48)),
            [("DIMM_A1", "ecc", N)],
        ),
        ([*ecc(1), ev("DIMM_B1", "dimm", "Correctable ECC", at=T0)], {}, RuleParams(), []),
    ],
    ids=[
        "one",
        "two: the default limit",
        "two under a limit of 3",
        "history inside the window",
        "history outside the window",
        "a wider window",
        "two DIMMs, one each",
    ],
)
def test_correctable_ecc_rate(events, history, params, expected):
    assert run(poll(rd("DIMM_A1", "dimm"), events=events), params=params, ecc_history=history) == expected


# --- vanished and changed parts ----------------------------------------------------------------------------------


def test_a_part_no_longer_reported_is_a_finding():
    result = poll(rd("PSU1", "psu"), inventory=[inv("PSU1", "psu", "A1")])
    inst = [Installed("PSU1", Kind.PSU, "A1"), Installed("PSU 2", Kind.PSU, "A2")]
    found = assess(result, Layout(psu_count=2), inst, now=T0)
    assert [(f.slot, f.problem, f.severity) for f in found] == [("PSU2", "absent", N)]
    assert "A2" in found[0].evidence


def test_a_vanished_psu_counts_against_redundancy():
    result = poll(rd("PSU1", "psu", "critical"), inventory=[inv("PSU1", "psu")])
    inst = [Installed("PSU1", Kind.PSU), Installed("PSU2", Kind.PSU)]
    assert run(result, Layout(psu_count=2), inst) == [("PSU1", "failed", C), ("PSU2", "absent", C)]


def test_kinds_the_controller_does_not_list_are_not_vanished():
    result = poll(rd("PSU1", "psu"), inventory=[inv("PSU1", "psu")])
    assert run(result, Layout(), [Installed("DIMM_A1", Kind.DIMM), Installed("PSU1", Kind.PSU)]) == []


def test_a_serial_changed_without_a_swap_is_flagged():
    result = poll(rd("Disk 1", "disk"), inventory=[inv("Physical Disk 1", "disk", "NEW9")])
    inst = [Installed("Disk 1", Kind.DISK, "OLD1")]
    found = assess(result, Layout(), inst, now=T0)
    assert [(f.slot, f.problem, f.severity) for f in found] == [("Disk 1", "serial-changed", N)]
    assert "NEW9" in found[0].evidence and "OLD1" in found[0].evidence


def test_the_same_serial_in_other_case_is_not_a_change():
    result = poll(inventory=[inv("PSU1", "psu", " ab12 ")])
    assert run(result, Layout(), [Installed("PSU1", Kind.PSU, "AB12")]) == []


def test_a_controller_rollup_is_not_a_second_fault_when_a_part_explains_it():
    # HPE and Dell report an overall "System health" next to the failed part: one fault to swap, not two.
    readings = [rd("PSU1", "psu"), rd("PSU2", "psu", "critical"), rd("", "board", "critical", name="System health")]
    assert run(poll(*readings), Layout(psu_count=2)) == [("PSU2", "failed", N)]


def test_a_rollup_alone_is_still_a_finding():
    # A controller that says only "critical" without naming the part must not be silenced.
    found = run(poll(rd("PSU1", "psu"), rd("", "board", "critical", name="System health")), Layout(psu_count=2))
    assert len(found) == 1 and found[0][0] == "SYSTEM HEALTH"
