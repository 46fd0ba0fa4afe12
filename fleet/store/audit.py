"""The audit trail: who changed what, before and after, when. Every change to stock, faults and swaps goes here."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from fleet.store.models import Audit


def snapshot(obj: Any, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The columns of a row as JSON-able values (for before/after)."""
    data = obj.model_dump() if hasattr(obj, "model_dump") else dict(obj)
    if fields:
        data = {k: data[k] for k in fields if k in data}
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}


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
        before=json.dumps(before, sort_keys=True, default=str) if before is not None else None,
        after=json.dumps(after, sort_keys=True, default=str) if after is not None else None,
    )
    session.add(entry)
    return entry
