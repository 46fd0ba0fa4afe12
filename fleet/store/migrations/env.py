"""Alembic environment: runs on the connection fleet hands it (see fleet/store/migrate.py)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import fleet.store.models  # noqa: F401 - registers the tables

target_metadata = SQLModel.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
        with engine.begin() as conn:
            _migrate(conn)
    else:
        _migrate(connection)


def _migrate(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: batch mode copies tables safely
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
