"""Fault-injected copies of real recordings come out with the right kind, slot and state."""

from __future__ import annotations

import asyncio

import pytest

from fleet.collectors.snmp import poll_snmp_many
from fleet.health.model import PollResult, State, exit_status
from tests.snmp.conftest import Sim
from tests.snmp.faults import FAULTS, WRONG_TYPE, Fault
from tests.snmp.helpers import by_oid, v2c

pytestmark = [pytest.mark.snmp, pytest.mark.corpus]


@pytest.fixture(scope="module")
def results(corpus_sim: Sim) -> dict[str, PollResult]:
    faults = [*FAULTS, WRONG_TYPE]
    polled = asyncio.run(poll_snmp_many([v2c(corpus_sim.port, f.name) for f in faults], timeout=30, concurrency=2))
    return {f.name: r for f, r in zip(faults, polled, strict=True)}


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_injected_fault_is_reported(results: dict[str, PollResult], fault: Fault) -> None:
    result = results[fault.name]
    assert result.error is None
    reading = by_oid(result)["." + fault.oid]
    assert (reading.kind, reading.slot, reading.state) == (fault.kind, fault.slot, fault.state)
    assert exit_status(result) == {State.CRITICAL: 2, State.WARNING: 1}[fault.state]


def test_wrong_type_in_a_status_column_is_unknown_with_a_note(results: dict[str, PollResult]) -> None:
    result = results[WRONG_TYPE.name]
    assert result.error is None
    reading = by_oid(result)["." + WRONG_TYPE.oid]
    assert (reading.kind, reading.slot, reading.state) == (WRONG_TYPE.kind, WRONG_TYPE.slot, State.UNKNOWN)
    assert "expected INTEGER" in (reading.detail or "") and "abc" in (reading.detail or "")
    # the other rows of the same table are still read
    assert sum(r.kind == WRONG_TYPE.kind and r.state is State.OK for r in result.readings) >= 3
