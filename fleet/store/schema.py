"""The schema revision this fleet runs on, checked with one query: every command opens the database through it.

Asking alembic (fleet/store/migrate.py) means importing it and reading every migration script, a few hundred
milliseconds at each start of a command, a large share of a five-minute sweep's own CPU. A database at HEAD, the
everyday case, needs none of it; any other answer (an older schema, a newer one, no schema, no database) goes to
alembic for the full check and its error. tests/core/test_db.py keeps HEAD equal to the migrations' head.
"""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

HEAD = "0012"  # the newest migration's `revision`: a new migration changes it (the test above fails until then)


def at_head(engine: Engine) -> bool:
    """The database's schema is at HEAD; False for anything else, an error included (the full check says why)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:
        return False
    return [r[0] for r in rows] == [HEAD]
