"""Sensor history that stays small: the latest state of each sensor, and a row only when a state changes.

A year of 5-minute sweeps of 1,000 servers with ~40 sensors each is 4.2 billion readings; stored this way it is
40,000 latest-state rows plus one row per actual state change (docs/SWEEP.md has the measured sizes).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from fleet.health.model import Reading
from fleet.store.models import SensorChange, SensorState


def latest_states(session: Session, server_ids: Sequence[int]) -> dict[int, dict[str, SensorState]]:
    """server id -> {sensor name: its latest state}, for a batch of servers in one query per 500."""
    out: dict[int, dict[str, SensorState]] = {sid: {} for sid in server_ids}
    ordered = sorted(set(server_ids))
    for i in range(0, len(ordered), 500):
        q = select(SensorState).where(col(SensorState.server_id).in_(ordered[i : i + 500]))
        for s in session.exec(q):
            out[s.server_id][s.name] = s
    return out


def record_readings(
    session: Session,
    server_id: int,
    readings: Sequence[Reading],
    now: datetime,
    current: dict[str, SensorState] | None = None,
) -> int:
    """Upsert the latest state of each sensor; add a SensorChange per state change. Returns the number of changes.

    Rows are written only when something changed (state, value or detail): the sweep's freshness lives in
    Server.last_polled_at, so an unchanged sensor costs no write at all. `current`: the server's rows as
    `latest_states` loaded them with its batch (read here without it).
    """
    if current is None:
        current = {s.name: s for s in session.exec(select(SensorState).where(SensorState.server_id == server_id))}
    changes = 0
    seen: set[str] = set()
    for r in readings:
        if r.name in seen:  # controllers do repeat names; the first one wins, consistently
            continue
        seen.add(r.name)
        old = current.get(r.name)
        state = r.state.value
        if old is None:
            session.add(
                SensorState(
                    server_id=server_id,
                    name=r.name,
                    kind=r.kind.value,
                    slot=r.slot,
                    state=state,
                    value=r.value,
                    unit=r.unit,
                    detail=r.detail,
                    changed_at=now,
                    seen_at=now,
                )
            )
            if state not in ("ok", "absent"):
                session.add(
                    SensorChange(
                        server_id=server_id, name=r.name, old_state=None, new_state=state, value=r.value, at=now
                    )
                )
                changes += 1
            continue
        if old.state != state:
            session.add(
                SensorChange(
                    server_id=server_id, name=r.name, old_state=old.state, new_state=state, value=r.value, at=now
                )
            )
            old.state, old.changed_at = state, now
            changes += 1
        elif old.value == r.value and old.detail == r.detail and old.slot == r.slot:
            continue
        old.value, old.detail, old.slot, old.unit, old.kind, old.seen_at = (
            r.value,
            r.detail,
            r.slot,
            r.unit,
            r.kind.value,
            now,
        )
        session.add(old)
    return changes
