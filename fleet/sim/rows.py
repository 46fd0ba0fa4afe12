"""Plain rows for bulk inserts: every row of a table carries every column, ids are given, not left to the database.

Giving ids up front lets the generator link rows (a swap to its fault) without a round trip, and makes the
content identical on every engine.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticUndefined
from sqlmodel import SQLModel

from fleet.store import models

# Insert order: a table comes after every table it points to.
TABLES: tuple[type[SQLModel], ...] = (
    models.Site,
    models.Customer,
    models.Technician,
    models.ServerModel,
    models.PartModel,
    models.PartCompat,
    models.PartSubstitute,
    models.Server,
    models.Component,
    models.Stock,
    models.Fault,
    models.Ticket,
    models.MaintenanceWindow,
    models.Reservation,
    models.Transfer,
    models.Rma,
    models.Swap,
    models.Outage,
    models.SweepRun,
    models.Audit,
)


def _defaults(model: type[SQLModel]) -> dict[str, Any]:
    # A JSON list column's default comes from its factory (a fresh []), not PydanticUndefined.
    return {
        name: (None if value is PydanticUndefined else value)
        for name, field in model.model_fields.items()
        for value in (field.get_default(call_default_factory=True),)
    }


class Rows:
    """Rows per table name, each a dict with all the table's columns."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {str(m.__tablename__): [] for m in TABLES}
        self._defaults = {str(m.__tablename__): _defaults(m) for m in TABLES}

    def add(self, table: str, **values: Any) -> int:
        """Append a row; returns its id (1, 2, ... per table) when the table has an `id` column, else 0."""
        defaults = self._defaults[table]
        unknown = set(values) - set(defaults)
        if unknown:
            raise KeyError(f"{table} has no column {sorted(unknown)}")
        rows = self.tables[table]
        row = {**defaults, **values}
        if "id" in defaults:
            row["id"] = len(rows) + 1
        rows.append(row)
        return int(row.get("id") or 0)

    def __getitem__(self, table: str) -> list[dict[str, Any]]:
        return self.tables[table]

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables.items()}
