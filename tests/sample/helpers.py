"""Reading whole tables, so two databases can be compared row by row whatever engine holds them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select
from sqlmodel import SQLModel

import fleet.store.models  # noqa: F401 - registers every table on SQLModel.metadata

COMMITTED = Path(__file__).resolve().parents[2] / "inventory.db.sample"


def read_only(path: Path) -> Engine:
    """An engine that cannot change the file (no WAL switch, no journal): the committed sample stays as it is."""
    return create_engine(f"sqlite:///file:{path}?mode=ro&immutable=1&uri=true")


def all_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every fleet table's rows, ordered by primary key, values as the models' types give them back."""
    out = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            q = select(table).order_by(*table.primary_key.columns)
            out[table.name] = [tuple(r) for r in conn.execute(q)]
    return out
