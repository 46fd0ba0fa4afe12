"""The SEL is read incrementally: a poll returns only what arrived since the cursor it was given."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from fleet.collectors.ipmi import poll_ipmi
from fleet.health.model import Kind, State
from tests.ipmi.conftest import Bmc

pytestmark = pytest.mark.ipmi

A = "0x20"


def sel_ids(bmc: Bmc) -> list[int]:
    """Record ids as ipmitool lists them."""
    return [int(m.group(1), 16) for m in re.finditer(r"^\s*([0-9a-fA-F]+) \|", bmc.ipmitool("sel", "list"), re.M)]


@pytest.fixture
def bmc(start_bmc: Callable[[str, int], Bmc]) -> Bmc:
    b = start_bmc("2u", 30)
    b.ipmitool("sel", "time", "set", "now")  # else timestamps count seconds since the simulator started
    return b


def test_second_poll_returns_only_new_events(bmc: Bmc) -> None:
    psu2, drive1 = bmc.number("PSU2 Status"), bmc.number("Drive 1")
    bmc.console(f"sensor_set_bit {A} 0 {psu2} 1 1 1")  # PSU2 failure, before the first poll
    first = poll_ipmi(bmc.target(), timeout=10)
    # no cursor: the log as it is (documented), so nothing that happened before first contact is lost
    assert [e.slot for e in first.events] == ["PSU2"]
    assert first.events[0].kind is Kind.PSU and first.events[0].severity is State.CRITICAL
    assert first.events[0].time is not None and abs(first.events[0].time - datetime.now(UTC)) < timedelta(minutes=5)
    assert [e.record_id for e in first.events] == sel_ids(bmc)

    before = set(sel_ids(bmc))
    bmc.console(f"sensor_set_bit {A} 0 {drive1} 1 1 1")  # Drive 1 fault
    second = poll_ipmi(bmc.target(), timeout=10, cursor=first.cursor)
    new_ids = [i for i in sel_ids(bmc) if i not in before]
    assert [e.record_id for e in second.events] == new_ids
    assert [(e.kind, e.slot, e.severity) for e in second.events] == [(Kind.DISK, "Drive 1", State.CRITICAL)]

    third = poll_ipmi(bmc.target(), timeout=10, cursor=second.cursor)
    assert third.events == []


def test_cleared_sel_is_detected(bmc: Bmc) -> None:
    fan = bmc.number("FAN3")
    bmc.console(f"sensor_set_value {A} 0 {fan} 0x08 1")  # two threshold events: lnc and lc crossed
    first = poll_ipmi(bmc.target(), timeout=10)
    assert len(first.events) == 2 and {e.slot for e in first.events} == {"FAN3"}

    bmc.ipmitool("sel", "clear")
    # what a BMC writes after a clear: sensor type 0x10 (event logging), offset 2 "log area reset/cleared"
    bmc.console(f"sel_add {A} 0x02 0 0 0 0 0x20 0x00 0x04 0x10 0x00 0x6f 0x02 0xff 0xff")
    dimm = bmc.number("DIMM A1")
    bmc.console(f"sensor_set_bit {A} 0 {dimm} 1 1 1")  # uncorrectable ECC after the clear
    after = poll_ipmi(bmc.target(), timeout=10, cursor=first.cursor)
    # only the record written after the clear; the clear itself is bookkeeping, not an event
    assert [(e.kind, e.slot, e.severity) for e in after.events] == [(Kind.DIMM, "DIMM A1", State.CRITICAL)]
    assert "uncorrectable" in after.events[0].text.lower()
    assert len(sel_ids(bmc)) == 2  # ipmitool sees both records
    assert poll_ipmi(bmc.target(), timeout=10, cursor=after.cursor).events == []


def test_cursor_survives_a_failed_poll(bmc: Bmc) -> None:
    first = poll_ipmi(bmc.target(), timeout=10)
    failed = poll_ipmi(bmc.target(password="wrong"), timeout=10, cursor=first.cursor)
    assert failed.error == "auth" and failed.cursor == first.cursor


def test_last_seen_record_deleted_or_wrapped(bmc: Bmc) -> None:
    psu1, drive2 = bmc.number("PSU1 Status"), bmc.number("Drive 2")
    bmc.console(f"sensor_set_bit {A} 0 {psu1} 3 1 1")  # AC lost on PSU1
    first = poll_ipmi(bmc.target(), timeout=10)
    assert [e.slot for e in first.events] == ["PSU1"]
    # the record the cursor points at disappears, as when a full log wraps over its oldest entries
    bmc.ipmitool("sel", "delete", str(first.events[-1].record_id))
    bmc.console(f"sensor_set_bit {A} 0 {drive2} 2 1 1")  # predictive failure on Drive 2
    second = poll_ipmi(bmc.target(), timeout=10, cursor=first.cursor)
    assert [(e.slot, e.severity) for e in second.events] == [("Drive 2", State.WARNING)]


def test_long_backlog_is_read_over_several_polls(bmc: Bmc, monkeypatch: pytest.MonkeyPatch) -> None:
    from fleet.collectors.ipmi import sel

    monkeypatch.setattr(sel, "MAX_RECORDS", 3)
    drives = [bmc.number(f"Drive {i}") for i in range(5)]
    bmc.console(*(f"sensor_set_bit {A} 0 {n} 1 1 1" for n in drives))  # five drive faults, five records
    slots: list[str] = []
    result = poll_ipmi(bmc.target(), timeout=10)
    assert len(result.events) == 3
    slots += [e.slot for e in result.events]
    result = poll_ipmi(bmc.target(), timeout=10, cursor=result.cursor)
    slots += [e.slot for e in result.events]
    assert slots == [f"Drive {i}" for i in range(5)]
    assert poll_ipmi(bmc.target(), timeout=10, cursor=result.cursor).events == []
