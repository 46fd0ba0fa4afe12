"""What `apply_poll` reads of the database, loaded for a whole batch of servers in one query per table.

A sweep stores results a batch at a time; asked server by server, the same reads (the server's lock, its open
faults, its installed parts, its correctable-ECC history) are some five statements per server, most of a quiet
server's cost. Loaded here once per batch, in the caller's transaction, they are the same rows `apply_poll` would
have read itself: the batch's servers are locked first (PostgreSQL: FOR UPDATE, in id order so two batches never
wait on each other crosswise), and no other writer changes their faults before the transaction ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select, SelectOfScalar

from fleet.health.layout import Installed
from fleet.health.model import Kind
from fleet.store.models import Component, Fault, PartModel, SensorChange, Server

ECC_PREFIX = "sel:ecc:"  # SensorChange.name of a correctable-ECC event, kept to count the rate over the window
CHUNK = 500  # ids per IN (...): well under SQLite's and PostgreSQL's limits on bound parameters


@dataclass
class Preloaded:
    """One server's rows `apply_poll` needs; its server row is locked already."""

    faults: list[Fault] = field(default_factory=list)  # open, by id
    installed: list[Installed] = field(default_factory=list)
    ecc: list[SensorChange] = field(default_factory=list)  # correctable-ECC rows within the window


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    ordered = sorted(set(ids))
    return [ordered[i : i + CHUNK] for i in range(0, len(ordered), CHUNK)]


def lock_servers(session: Session, server_ids: Sequence[int]) -> list[Server]:
    """The servers, loaded and locked for this transaction (FOR UPDATE renders as nothing on SQLite, whose write
    sessions are serialised already)."""
    out: list[Server] = []
    for ids in _chunks(server_ids):
        q = select(Server).where(col(Server.id).in_(ids)).order_by(col(Server.id)).with_for_update()
        out.extend(session.exec(q).all())
    return out


def installed_query(server_ids: Sequence[int]) -> Select[Component, PartModel]:
    return (
        select(Component, PartModel)
        .join(PartModel, col(PartModel.id) == col(Component.part_model_id))
        .where(col(Component.server_id).in_(server_ids), col(Component.removed_at).is_(None))
        .order_by(col(Component.server_id), col(Component.id))
    )


def as_installed(comp: Component, part: PartModel) -> Installed:
    kind = Kind(part.kind) if part.kind in Kind._value2member_map_ else Kind.OTHER
    return Installed(slot=comp.slot, kind=kind, serial=comp.serial)


def ecc_query(server_ids: Sequence[int], *, now: datetime, window: timedelta) -> SelectOfScalar[SensorChange]:
    return select(SensorChange).where(
        col(SensorChange.server_id).in_(server_ids),
        col(SensorChange.name).startswith(ECC_PREFIX),
        SensorChange.at > now - window,
    )


def preload(
    session: Session, server_ids: Sequence[int], *, now: datetime, window: timedelta, locked: bool = False
) -> dict[int, Preloaded]:
    """server id -> its open faults, installed parts and ECC history, for every server in `server_ids`, locked
    first (`locked`: the caller locked them with `lock_servers` in this transaction already)."""
    if not locked:
        lock_servers(session, server_ids)
    out = {sid: Preloaded() for sid in server_ids}
    for ids in _chunks(server_ids):
        q = select(Fault).where(col(Fault.server_id).in_(ids), col(Fault.resolved_at).is_(None))
        for fault in session.exec(q.order_by(col(Fault.id))):
            out[fault.server_id].faults.append(fault)
        for comp, part in session.exec(installed_query(ids)):
            out[comp.server_id].installed.append(as_installed(comp, part))
        for row in session.exec(ecc_query(ids, now=now, window=window)):
            out[row.server_id].ecc.append(row)
    return out
