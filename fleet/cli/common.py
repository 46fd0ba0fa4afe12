"""What the commands share: the --db option, opening a database that exists, JSON out."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from fleet.clock import json_default
from fleet.errors import DatabaseError, NotFound
from fleet.store.db import db_error_line, make_engine, resolve_url, sqlite_path
from fleet.store.schema import at_head
from fleet.views.text import plain

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL or SQLite path (default ./inventory.db, or FLEET_DB).", show_default=False),
]
SiteOption = Annotated[str | None, typer.Option("--site", help="Only this site (code).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def open_db(db: str | None, *, site: str | None = None) -> Engine:
    """An engine on an existing, migrated database; a clear error otherwise (never an empty new file).

    With `site`, the site must exist: a typo in --site would otherwise select nothing and report success."""
    url = resolve_url(db)
    path = sqlite_path(url)
    if path is not None:
        check_file(path)
    engine = make_engine(url)
    if not at_head(engine):
        check_schema(engine)
    if site is not None:
        check_site(engine, site)
    return engine


def check_schema(engine: Engine) -> None:
    """Why a database is not at this fleet's schema, in one line (alembic's view: loaded only for this)."""
    from fleet.store.migrate import check_known, current_revision, head_revision

    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot open the database: {db_error_line(exc)}") from None
    if current is None:
        raise DatabaseError("the database has no fleet schema: run `fleet init`")
    check_known(engine, current)
    if current != head_revision(engine):
        raise DatabaseError(
            f"the database schema is at {current}, this fleet needs {head_revision(engine)}: "
            "run `fleet init` to upgrade"
        )


def check_file(path: Path) -> None:
    """The SQLite file exists, is a file, and this user may look at it."""
    try:
        exists, folder = path.exists(), path.is_dir()
    except OSError as exc:
        raise DatabaseError(f"cannot open the database {path}: {exc.strerror}") from None
    if not exists:
        raise DatabaseError(f"no database at {path}: run `fleet init` (or `fleet init --sample`) first")
    if folder:
        raise DatabaseError(f"{path} is a folder, not a database file")


def check_site(engine: Engine, site: str) -> None:
    from sqlmodel import select

    from fleet.store.db import read_session
    from fleet.store.models import Site

    with read_session(engine) as session:
        codes = sorted(session.exec(select(Site.code)).all())
    if site not in codes:
        raise NotFound(f"no site {site!r} (sites: {', '.join(codes) or 'none'})")


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=json_default)
    sys.stdout.write("\n")


def say(line: object, *, err: bool = False) -> None:
    """A message that embeds data (hostnames, serials, reasons): one line of inert text, never markup."""
    print(plain(line), file=sys.stderr if err else sys.stdout)
