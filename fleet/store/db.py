"""Engines and sessions. SQLite is the embedded default; PostgreSQL is for several consoles and sites.

SQLite: WAL (readers never block the writer), a busy timeout (a second writer waits instead of failing at once),
foreign keys on, and write sessions take the write lock up front (BEGIN IMMEDIATE) so two writers never both read
and then both try to upgrade their lock, the classic SQLite deadlock that ends in "database is locked".
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlmodel import Session

from fleet.errors import DatabaseError

DEFAULT_DB = "inventory.db"
BUSY_TIMEOUT_MS = 10_000


def resolve_url(db: str | URL | None = None) -> str | URL:
    """--db, else FLEET_DB, else ./inventory.db. A bare path means SQLite, and is a path: `we?ird.db` or `a%41.db`
    name those files (an URL object, never a string that would parse `?` as a query and `%41` as an escape)."""
    if isinstance(db, URL):
        return db
    raw = db or os.environ.get("FLEET_DB") or DEFAULT_DB
    if "://" not in raw:
        try:
            return URL.create("sqlite", database=str(Path(raw).expanduser().resolve()))
        except (ValueError, RuntimeError) as exc:  # a NUL in the path, a symlink loop
            raise DatabaseError(f"not a usable database path: {raw!r} ({exc})") from None
    if raw.startswith("postgresql://") or raw.startswith("postgres://"):
        # psycopg 3 is the driver we ship with the [postgres] extra.
        raw = "postgresql+psycopg://" + raw.split("://", 1)[1]
    return raw


def parse_url(url: str | URL) -> URL:
    """The URL, or one clear error for text that is not one."""
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        raise DatabaseError(f"not a database URL: {url!r} (a path, sqlite:///PATH or postgresql://...)") from None


def sqlite_path(url: str | URL) -> Path | None:
    u = parse_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def make_engine(db: str | URL | None = None, *, echo: bool = False) -> Engine:
    url = parse_url(resolve_url(db))
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, echo)
    if backend == "postgresql":
        try:
            return create_engine(url, echo=echo, pool_pre_ping=True, connect_args={"connect_timeout": 5})
        except ModuleNotFoundError:
            raise DatabaseError("PostgreSQL needs the driver: pip install 'fleet[postgres]'") from None
    raise DatabaseError(f"unsupported database {backend!r} (SQLite or PostgreSQL)")


def _sqlite_engine(url: URL, echo: bool) -> Engine:
    engine = create_engine(url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (so BEGIN IMMEDIATE is ours).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("fleet_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A transaction that writes: committed on success, rolled back on any error (nothing half-written)."""
    bind = engine.execution_options(fleet_write=True) if engine.dialect.name == "sqlite" else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def db_error_line(exc: SQLAlchemyError) -> str:
    """One line a person can act on, for any error the database driver raised (never the SQL, never a traceback)."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    low = first.lower()
    if "file is not a database" in low or "malformed" in low or "not a database" in low:
        return f"not a fleet database (the file is damaged or not SQLite: {first})"
    if "readonly" in low or "read-only" in low:
        return f"the database is read-only for this user ({first})"
    return f"database error: {first}"
