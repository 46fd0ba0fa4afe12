"""Sensor history that stays small: the latest state of each sensor, and a row only when a state changes.

A year of 5-minute sweeps of 1,000 servers with ~40 sensors each is 4.2 billion readings; stored this way it is
40,000 latest-state rows plus one row per actual state change (docs/SWEEP.md has the measured sizes).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select as select_columns
from sqlalchemy import update
from sqlmodel import Session

from fleet.health.model import Reading
from fleet.store.models import SensorChange, SensorState


class Latest(NamedTuple):
    """A sensor's stored latest state, as compared with a new reading (a plain row: loading thousands of ORM objects
    per batch to find the few that changed was most of a quiet sweep's database time)."""

    name: str
    state: str
    value: float | None
    detail: str | None
    slot: str


def latest_states(session: Session, server_ids: Sequence[int]) -> dict[int, dict[str, Latest]]:
    """server id -> {sensor name: its latest state}, for a batch of servers in one query per 500."""
    out: dict[int, dict[str, Latest]] = {sid: {} for sid in server_ids}
    ordered = sorted(set(server_ids))
    t = SensorState.__table__.c  # type: ignore[attr-defined]
    for i in range(0, len(ordered), 500):
        q = select_columns(t.server_id, t.name, t.state, t.value, t.detail, t.slot).where(
            t.server_id.in_(ordered[i : i + 500])
        )
        for sid, *row in session.execute(q):
            out[sid][row[0]] = Latest(*row)
    return out


def record_readings(
    session: Session,
    server_id: int,
    readings: Sequence[Reading],
    now: datetime,
    current: dict[str, Latest] | None = None,
) -> int:
    """Upsert the latest state of each sensor; add a SensorChange per state change. Returns the number of changes.

    Rows are written only when something changed (state, value or detail): the sweep's freshness lives in
    Server.last_polled_at, so an unchanged sensor costs no write at all. `current`: the server's rows as
    `latest_states` loaded them with its batch (read here without it). Changed rows are updated by primary key in
    one statement per shape (a state change also moves `changed_at`).
    """
    if current is None:
        current = latest_states(session, [server_id])[server_id]
    changes = 0
    seen: set[str] = set()
    moved: list[dict[str, object]] = []  # state changed
    touched: list[dict[str, object]] = []  # value, detail or slot changed
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
        row: dict[str, object] = {"server_id": server_id, "name": r.name, "value": r.value, "detail": r.detail,
                                  "slot": r.slot, "unit": r.unit, "kind": r.kind.value, "seen_at": now}  # fmt: skip
        if old.state != state:
            session.add(
                SensorChange(
                    server_id=server_id, name=r.name, old_state=old.state, new_state=state, value=r.value, at=now
                )
            )
            moved.append({**row, "state": state, "changed_at": now})
            changes += 1
        elif old.value != r.value or old.detail != r.detail or old.slot != r.slot:
            touched.append(row)
    for rows in (moved, touched):
        if rows:
            session.execute(update(SensorState), rows)
    return changes
