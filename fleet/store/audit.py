"""The audit trail: who changed what, before and after, when. Every change to stock, faults and swaps goes here."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from fleet.clock import iso
from fleet.store.models import Audit


def snapshot(obj: Any, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The columns of a row as JSON-able values (for before/after)."""
    data = obj.model_dump() if hasattr(obj, "model_dump") else dict(obj)
    if fields:
        data = {k: data[k] for k in fields if k in data}
    return {k: (iso(v) if isinstance(v, datetime) else v) for k, v in data.items()}


def _plain(values: dict[str, Any] | None) -> dict[str, Any] | None:
    # What the JSON column can hold: values it cannot (a Decimal, an enum) as their text, keys in a stable order.
    return None if values is None else dict(json.loads(json.dumps(values, sort_keys=True, default=str)))


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> Audit:
    entry = Audit(
        at=at,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=_plain(before),
        after=_plain(after),
    )
    session.add(entry)
    return entry
