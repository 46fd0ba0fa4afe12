"""`fleet init`, `fleet import`, `fleet export`, `fleet db backup`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from fleet.cli import app
from fleet.cli.common import DbOption, open_db, say
from fleet.errors import DatabaseError, InputError
from fleet.store.db import db_error_line, make_engine, resolve_url, sqlite_path

import_app = typer.Typer(help="Import servers, components or stock from CSV (all or nothing).")
export_app = typer.Typer(help="Export servers, components or stock as CSV (the format import reads).")
db_app = typer.Typer(help="Database maintenance.")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(db_app, name="db")


@app.command()
def init(
    db: DbOption = None,
    sample: Annotated[bool, typer.Option("--sample", help="Load the sample fleet into an empty database.")] = False,
) -> None:
    """Create the database, or upgrade its schema; never drops anything."""
    from fleet.store.migrate import head_revision, upgrade

    url = resolve_url(db)
    path = sqlite_path(url)
    if path is not None and not path.parent.is_dir():
        raise DatabaseError(f"folder {path.parent} does not exist")
    if path is not None and path.is_dir():
        raise DatabaseError(f"{path} is a folder, not a database file")
    engine = make_engine(url)
    try:
        before, after = upgrade(engine)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot create or upgrade the database: {db_error_line(exc)}") from None
    where = str(path) if path else engine.url.render_as_string(hide_password=True)
    if before is None:
        say(f"created {where} (schema {after})")
    elif before != after:
        say(f"upgraded {where} from schema {before} to {after}")
    else:
        say(f"{where} is up to date (schema {head_revision(engine)})")
    if sample:
        from fleet.sim.sample import load_sample

        loaded = load_sample(engine)
        say(loaded)


@import_app.command("servers")
def import_servers(file: Path, db: DbOption = None) -> None:
    """Servers: hostname, asset_tag, serial, model, site, rack, unit, controller_host, ... (see docs/CLI.md)."""
    _import("servers", file, db)


@import_app.command("components")
def import_components(file: Path, db: DbOption = None) -> None:
    """Installed components: hostname, slot, part_number, serial, installed_at."""
    _import("components", file, db)


@import_app.command("stock")
def import_stock(file: Path, db: DbOption = None) -> None:
    """Stock: site, part_number, bin, on_hand, reserved, reorder_level."""
    _import("stock", file, db)


def _import(kind: str, file: Path, db: str | None) -> None:
    from fleet.exchange.csv import import_csv

    engine = open_db(db)
    result = import_csv(engine, kind, file)
    say(f"imported {kind} from {file}: {result.created} created, {result.updated} updated")


def _export(kind: str, out: Path | None, db: str | None) -> None:
    from fleet.exchange.csv import export_csv

    engine = open_db(db)
    if out is None:
        export_csv(engine, kind, sys.stdout, terminal=sys.stdout.isatty())
        return
    tmp = out.with_name(out.name + ".part")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            n = export_csv(engine, kind, fh)
        tmp.replace(out)  # a reader never sees half a file
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {out}: {exc.strerror}") from None
    say(f"exported {n} {kind} rows to {out}", err=True)


OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")]


@export_app.command("servers")
def export_servers(out: OutOption = None, db: DbOption = None) -> None:
    """All servers."""
    _export("servers", out, db)


@export_app.command("components")
def export_components(out: OutOption = None, db: DbOption = None) -> None:
    """Installed components."""
    _export("components", out, db)


@export_app.command("stock")
def export_stock(out: OutOption = None, db: DbOption = None) -> None:
    """Stock per site and part."""
    _export("stock", out, db)


@db_app.command("backup")
def db_backup(dest: Path, db: DbOption = None) -> None:
    """A consistent copy of a SQLite database while it is in use (SQLite online backup)."""
    import sqlite3

    engine = open_db(db)
    src = sqlite_path(engine.url)
    if src is None:
        raise DatabaseError(
            "backup of PostgreSQL is pg_dump's job: pg_dump --format=custom --file=DEST 'postgresql://...'"
        )
    if dest.exists():
        raise InputError(f"{dest} exists; choose a new file")
    tmp = dest.with_name(dest.name + ".part")
    try:
        with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as source, sqlite3.connect(tmp) as target:
            source.backup(target)
        tmp.replace(dest)
    except (sqlite3.Error, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise DatabaseError(f"backup failed: {exc}") from None
    say(f"backed up {src} to {dest}")
