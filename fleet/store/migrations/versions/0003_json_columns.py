"""JSON columns: shifts, on-call hours, preferred windows, poll cursor, sweep report, audit before/after

The text these columns held was already JSON (written by json.dumps), so it is kept as it is: on SQLite the column
only changes its declared type (JSON is stored as text there); on PostgreSQL it becomes `json`, cast from the text.
Two kinds of old value are made valid on the way, nothing is dropped: an empty text becomes NULL (an empty list for
the list columns), and a text that is not JSON becomes a JSON string holding that text.

Revision ID: 0003
Revises: 0002f
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (column, nullable): the NOT NULL ones are lists and default to [].
COLUMNS: dict[str, list[tuple[str, bool]]] = {
    "customer": [("preferred_windows", False)],
    "technician": [("shifts", False), ("on_call", False)],
    "server": [("poll_cursor", True)],
    "sweep_run": [("report", True)],
    "audit": [("before", True), ("after", True)],
}

PG_AS_JSON = """
CREATE FUNCTION pg_temp.fleet_as_json(t text) RETURNS json AS $$
BEGIN
    RETURN t::json;
EXCEPTION WHEN others THEN
    RETURN to_json(t);
END
$$ LANGUAGE plpgsql IMMUTABLE
"""


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_AS_JSON)
        for table, columns in COLUMNS.items():
            for column, nullable in columns:
                cast = f"pg_temp.fleet_as_json(NULLIF({column}, ''))"
                using = cast if nullable else f"COALESCE({cast}, '[]'::json)"
                op.alter_column(table, column, type_=_json(), existing_nullable=nullable, postgresql_using=using)
        op.execute("DROP FUNCTION pg_temp.fleet_as_json(text)")
        return
    for table, columns in COLUMNS.items():
        for column, nullable in columns:
            empty = "NULL" if nullable else "'[]'"
            op.execute(
                f'UPDATE "{table}" SET "{column}" = CASE WHEN "{column}" = \'\' THEN {empty} '
                f'WHEN json_valid("{column}") THEN "{column}" ELSE json_quote("{column}") END '
                f'WHERE "{column}" IS NOT NULL'
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, nullable in columns:
                batch_op.alter_column(column, type_=_json(), existing_nullable=nullable)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, nullable in columns:
                batch_op.alter_column(
                    column,
                    type_=sqlmodel.sql.sqltypes.AutoString(),
                    existing_type=_json(),
                    existing_nullable=nullable,
                    postgresql_using=f"{column}::text" if postgres else None,
                )
