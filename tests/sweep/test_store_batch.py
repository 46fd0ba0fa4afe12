"""Storing a sweep's batch: a quiet server costs no statement of its own, so the database's work per batch does not
grow with the number of servers in it (what keeps a 5,000-BMC round's CPU in the IPMI client, not in SQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event
from sqlmodel import select

from fleet.config import Settings
from fleet.health.model import Kind, PollResult, Reading, State
from fleet.store.db import write_session
from fleet.store.models import SensorChange, SensorState, Server
from fleet.sweep.report import SweepReport
from fleet.sweep.store import store_batch
from tests.factories import T0, make_fleet


def _result(host: str) -> PollResult:
    readings = [
        Reading("PSU1 Status", Kind.PSU, "PSU1", State.OK),
        Reading("PSU2 Status", Kind.PSU, "PSU2", State.OK),
        Reading("Inlet Temp", Kind.TEMPERATURE, "", State.OK, 22.0, "C"),
        Reading("FAN1", Kind.FAN, "FAN1", State.OK, 5400.0, "RPM"),
    ]
    return PollResult(host=host, protocol="ipmi", reachable=True, readings=readings, polled_at=T0, power="on")


def _statements(engine, items, now) -> int:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_a) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with write_session(engine) as s:
            store_batch(s, items, now, Settings(), SweepReport(started_at=""), timedelta(minutes=5))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_a_quiet_batch_costs_the_same_statements_for_10_or_100_servers(engine) -> None:  # type: ignore[no-untyped-def]
    make_fleet(engine, servers=100)
    with write_session(engine) as s:
        servers = [(sv.id, sv.hostname) for sv in s.exec(select(Server).order_by(Server.id))]
    items = [(sid, _result(host)) for sid, host in servers]
    _statements(engine, items, T0)  # the first poll: every sensor is new
    with write_session(engine) as s:
        assert len(s.exec(select(SensorState)).all()) == 4 * 100

    later = T0 + timedelta(minutes=5)
    small = _statements(engine, items[:10], later)
    large = _statements(engine, items, later + timedelta(minutes=5))
    # Reading the batch: one query per table, not per server; writing it: the freshness updates go out together
    # (one executemany). Before, each server cost two or three statements more (its row and model read again).
    assert large <= small + 2, f"100 quiet servers took {large} statements, 10 took {small}"
    with write_session(engine) as s:
        fresh = s.exec(select(Server).where(Server.last_polled_at == later + timedelta(minutes=5))).all()
    assert len(fresh) == 100  # and each one's freshness was stored


def test_a_changed_sensor_is_stored_and_its_state_change_kept(engine) -> None:  # type: ignore[no-untyped-def]
    make_fleet(engine, servers=3)
    with write_session(engine) as s:
        servers = [(sv.id, sv.hostname) for sv in s.exec(select(Server).order_by(Server.id))]
    _statements(engine, [(sid, _result(host)) for sid, host in servers], T0)
    later = T0 + timedelta(minutes=5)
    changed = _result(servers[1][1])
    changed.readings[1] = Reading("PSU2 Status", Kind.PSU, "PSU2", State.CRITICAL, detail="failure detected")
    changed.readings[2] = Reading("Inlet Temp", Kind.TEMPERATURE, "", State.OK, 27.0, "C")
    items = [(servers[0][0], _result(servers[0][1])), (servers[1][0], changed), (servers[2][0], _result(servers[2][1]))]
    _statements(engine, items, later)
    with write_session(engine) as s:
        rows = {(r.server_id, r.name): r for r in s.exec(select(SensorState))}
        history = s.exec(select(SensorChange).where(SensorChange.server_id == servers[1][0])).all()
    psu2 = rows[(servers[1][0], "PSU2 Status")]
    assert (psu2.state, psu2.detail, psu2.changed_at) == ("critical", "failure detected", later)
    inlet = rows[(servers[1][0], "Inlet Temp")]
    assert (inlet.value, inlet.state, inlet.changed_at, inlet.seen_at) == (27.0, "ok", T0, later)
    assert rows[(servers[0][0], "Inlet Temp")].value == 22.0  # the other servers' rows untouched
    assert [(h.name, h.old_state, h.new_state) for h in history] == [("PSU2 Status", "ok", "critical")]
