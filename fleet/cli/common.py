"""What the commands share: the --db option, opening a database that exists, JSON out."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from fleet.errors import DatabaseError
from fleet.store.db import make_engine, resolve_url, sqlite_path

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL or SQLite path (default ./inventory.db, or FLEET_DB).", show_default=False),
]
SiteOption = Annotated[str | None, typer.Option("--site", help="Only this site (code).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def open_db(db: str | None) -> Engine:
    """An engine on an existing, migrated database; a clear error otherwise (never an empty new file)."""
    from fleet.store.migrate import current_revision, head_revision

    url = resolve_url(db)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise DatabaseError(f"no database at {path}: run `fleet init` (or `fleet init --sample`) first")
    engine = make_engine(url)
    try:
        current = current_revision(engine)
    except OperationalError as exc:
        raise DatabaseError(f"cannot open the database: {str(exc.orig).splitlines()[0]}") from None
    if current is None:
        raise DatabaseError("the database has no fleet schema: run `fleet init`")
    if current != head_revision(engine):
        raise DatabaseError(
            f"the database schema is at {current}, this fleet needs {head_revision(engine)}: "
            "run `fleet init` to upgrade"
        )
    return engine


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
