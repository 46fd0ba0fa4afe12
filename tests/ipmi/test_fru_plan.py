"""FRU inventory is read only when it can have changed: first contact, a new SEL entry, a sensor going absent or
present, a serial the sweep saw disagree with its records, or a day after the last read (fleet's own simulated BMC,
whose part serials can be changed without any trace on the BMC)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from fleet.collectors.ipmi import force_read, poll_ipmi, serials_disagree
from fleet.collectors.ipmi.fruplan import FRU_MAX_AGE_S, due
from fleet.collectors.targets import IpmiTarget
from fleet.health.model import PollResult
from fleet.sim.layout import SimServer
from fleet.sim.run import SimFleet, start_simulators
from fleet.sweep.secrets import Secret
from tests.sim.conftest import free_udp_port

HOST = "127.0.5.1"
PW = secrets.token_urlsafe(10)


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[SimFleet, IpmiTarget]]:
    port = free_udp_port(HOST)
    fleet = start_simulators([SimServer(HOST, port)], users={"admin": PW})
    try:
        yield fleet, IpmiTarget(HOST, port, "admin", Secret(PW))
    finally:
        fleet.stop()


def psu2(result: PollResult) -> str | None:
    assert result.error is None, result.error
    return {i.slot: i.serial for i in result.inventory}["PSU2"]


def test_fru_is_read_only_when_it_can_have_changed(sim: tuple[SimFleet, IpmiTarget]) -> None:
    fleet, target = sim
    first = poll_ipmi(target, timeout=10)
    original = psu2(first)
    assert original and first.cursor is not None and first.cursor["fru"]["read_at"] > 0

    fleet.repair(HOST, "PSU2", serial="PSU-QUIET-0001")  # swapped without a trace in the SEL or the sensors
    second = poll_ipmi(target, timeout=10, cursor=first.cursor)
    assert psu2(second) == original  # nothing said it could have changed: the inventory kept from the last read
    assert second.cursor is not None and second.cursor["fru"]["read_at"] == first.cursor["fru"]["read_at"]

    # the sweep's records (the swap it booked) disagree with what the BMC last reported: read again
    assert serials_disagree(second.cursor, {"PSU2": "PSU-QUIET-0001"})
    assert not serials_disagree(second.cursor, {"PSU2": original})
    third = poll_ipmi(target, timeout=10, cursor=force_read(second.cursor))
    assert psu2(third) == "PSU-QUIET-0001"
    assert third.cursor is not None and "force" not in third.cursor["fru"]

    fleet.repair(HOST, "PSU2", serial="PSU-QUIET-0002")
    fleet.inject(HOST, "FAN1", "failed")  # a new SEL entry: anything may have happened
    fourth = poll_ipmi(target, timeout=10, cursor=third.cursor)
    assert fourth.events and psu2(fourth) == "PSU-QUIET-0002"
    fleet.repair(HOST, "FAN1")

    fifth = poll_ipmi(target, timeout=10, cursor=fourth.cursor)  # the repair's own SEL entry: read again
    fleet.repair(HOST, "PSU2", serial="PSU-QUIET-0003")
    assert fifth.cursor is not None
    day_old = {**fifth.cursor, "fru": {**fifth.cursor["fru"], "read_at": fifth.cursor["fru"]["read_at"] - 86400}}
    assert psu2(poll_ipmi(target, timeout=10, cursor=fifth.cursor)) == "PSU-QUIET-0002"
    assert psu2(poll_ipmi(target, timeout=10, cursor=day_old)) == "PSU-QUIET-0003"


def test_when_the_fru_is_due() -> None:
    kept = {"read_at": 1000, "absent": ["Drive 1"], "items": []}
    assert due(None, now=1001, new_records=False, absent=[]) == "no inventory yet"
    assert due(kept, now=1001, new_records=False, absent=["Drive 1"]) is None
    assert due(kept, now=1001, new_records=True, absent=["Drive 1"]) == "new SEL entry"
    assert due(kept, now=1001, new_records=False, absent=[]) == "a sensor went absent or present"
    assert due(kept, now=1001, new_records=False, absent=["Drive 1", "PSU2 Status"]) is not None
    assert due(kept, now=1000 + FRU_MAX_AGE_S, new_records=False, absent=["Drive 1"]) == "a day since the last read"
    assert due({**kept, "force": True}, now=1001, new_records=False, absent=["Drive 1"]) == "serial mismatch"
