"""`fleet poll --db URL`: the check's event cursor in the database (table check_cursor) instead of a state file.

Loaded only with --db: a plain check never imports SQLAlchemy.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from fleet.cli.common import open_db
from fleet.clock import utcnow
from fleet.store.db import read_session, write_session
from fleet.store.models import CheckCursor


class DbCursors:
    def __init__(self, db: str) -> None:
        self.engine = open_db(db)

    def load(self, key: str) -> dict[str, Any] | None:
        with read_session(self.engine) as session:
            row = session.get(CheckCursor, key)
            data = row.cursor if row is not None else None
        return data if isinstance(data, dict) else None

    def save(self, key: str, cursor: dict[str, Any]) -> None:
        try:
            with write_session(self.engine) as session:
                row = session.get(CheckCursor, key)
                if row is None:
                    session.add(CheckCursor(key=key, cursor=dict(cursor), updated_at=utcnow()))
                else:
                    row.cursor, row.updated_at = dict(cursor), utcnow()
        except IntegrityError:
            pass  # a check of the same controller inserted its row at the same moment: its cursor is as recent
