"""Create or upgrade a database with alembic. Never drop-and-create: a user's data survives every upgrade."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from fleet.errors import DatabaseError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_known(engine: Engine, current: str | None) -> None:
    """A schema written by a newer fleet is refused by name: this fleet cannot read it, nor upgrade it."""
    if current is None:
        return
    script = ScriptDirectory.from_config(alembic_config(engine))
    if current not in {rev.revision for rev in script.walk_revisions()}:
        raise DatabaseError(
            f"the database schema is at revision {current}, which this fleet does not know (its newest is "
            f"{script.get_current_head()}): the database was written by a newer fleet; this fleet is older, upgrade it"
        )


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Bring the schema to the newest revision. Returns (before, after)."""
    before = current_revision(engine)
    check_known(engine, before)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return before, current_revision(engine)
