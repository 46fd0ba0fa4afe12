"""The sample fleet: a deterministic generator, the loader behind `fleet init --sample`, and the tool that
regenerates the committed `inventory.db.sample` (`python -m fleet.sim.sample OUT.db`).

The same seeded generator writes straight into any migrated database (SQLite or PostgreSQL), so the sample needs no
file at run time; the committed file is what it produces on a fresh SQLite database, kept for `fleet demo` and for
browsing with any SQLite tool.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
from pathlib import Path

from sqlalchemy import JSON, Engine, insert, select, text
from sqlmodel import Session

from fleet.errors import FleetError, InputError
from fleet.sim.catalogue import SITES
from fleet.sim.history import add_history
from fleet.sim.people import customers, technicians
from fleet.sim.rows import TABLES, Rows
from fleet.sim.servers import Serials, add_catalogue, add_servers, add_stock
from fleet.store.db import make_engine, write_session

SEED = 20261101
ALREADY_LOADED = "the database already holds a fleet; sample not loaded"


def build_sample(seed: int = SEED) -> Rows:
    """Every row of the sample fleet, from one seeded generator: same seed, same rows."""
    rng = random.Random(seed)
    rows = Rows()
    cat = add_catalogue(rows)
    names: set[str] = set()
    for site in SITES:
        cat.customers_by_site[site.code] = [rows.add("customer", **c) for c in customers(rng, site, names)]
    for site in SITES:
        for tech in technicians(site):
            rows.add("technician", site_id=cat.site_ids[site.code], **tech)
    serials = Serials(rng)
    add_servers(rows, rng, cat, serials)
    add_stock(rows, rng, cat)
    add_history(rows, rng, cat, serials)
    return rows


def holds_fleet(session: Session) -> bool:
    """Whether any fleet table has a row: then the sample stays out."""
    for model in TABLES:
        table = model.__table__  # type: ignore[attr-defined]
        if session.execute(select(text("1")).select_from(table).limit(1)).first() is not None:
            return True
    return False


def _advance_sequences(session: Session, rows: Rows) -> None:
    """PostgreSQL: the ids were given, so move each id sequence past them, or the next insert would collide."""
    for model in TABLES:
        table = model.__table__  # type: ignore[attr-defined]
        data = rows[table.name]
        if "id" not in table.c or not data:
            continue
        session.execute(
            text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"),
            {"t": table.name, "v": max(r["id"] for r in data)},
        )


def _copy_into_postgres(session: Session, rows: Rows) -> None:
    """PostgreSQL: COPY instead of INSERTs, several times faster for the thousands of components. The values are
    already what the columns hold (aware UTC times, ints, text), so the driver's own adaptation is enough, except for
    the JSON columns, whose lists and dicts are marked as JSON for it."""
    from psycopg.types.json import Json  # the [postgres] extra: only here, SQLite needs no psycopg

    driver = session.connection().connection.driver_connection
    assert driver is not None
    with driver.cursor() as cur:
        for model in TABLES:
            table = model.__table__  # type: ignore[attr-defined]
            data = rows[table.name]
            if not data:
                continue
            columns = [c.name for c in table.columns]
            json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
            names = ", ".join(f'"{c}"' for c in columns)
            with cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in data:
                    values = [row[c] for c in columns]
                    copy.write_row(
                        [
                            Json(v) if c in json_columns and v is not None else v
                            for c, v in zip(columns, values, strict=True)
                        ]
                    )


def load_sample(engine: Engine, *, seed: int = SEED) -> str:
    """Load the sample fleet into a migrated database, all in one transaction. A database that already holds
    anything is left alone (so `fleet init --sample` twice is harmless). Returns a one-line message."""
    rows = build_sample(seed)
    with write_session(engine) as session:
        if engine.dialect.name == "postgresql":
            # Two loaders at once: the second waits here, then sees the first one's fleet.
            session.execute(text("LOCK TABLE site IN SHARE ROW EXCLUSIVE MODE"))
        if holds_fleet(session):
            return ALREADY_LOADED
        if engine.dialect.name == "postgresql":
            _copy_into_postgres(session, rows)
            _advance_sequences(session, rows)
        else:
            for model in TABLES:
                table = model.__table__  # type: ignore[attr-defined]
                if rows[table.name]:
                    session.execute(insert(table), rows[table.name])
    n = rows.counts()
    return (
        f"loaded the sample fleet: {n['site']} sites, {n['server']} servers, {n['component']} components, "
        f"{n['customer']} customers, {n['technician']} technicians, {n['stock']} stock lines, "
        f"{n['fault']} past faults, {n['swap']} past swaps"
    )


def write_sample_file(out: Path, *, seed: int = SEED) -> str:
    """A fresh SQLite file with the schema and the sample, compacted; replaces `out` only once complete."""
    from fleet.store.migrate import upgrade

    if not out.parent.is_dir():
        raise InputError(f"folder {out.parent} does not exist")
    tmp = out.with_name(out.name + ".part")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    try:
        engine = make_engine(str(tmp))
        try:
            upgrade(engine)
            message = load_sample(engine, seed=seed)
        finally:
            engine.dispose()
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            # A single self-contained file: no WAL beside it, no free pages.
            con.execute("PRAGMA journal_mode=DELETE")
            con.execute("VACUUM")
        finally:
            con.close()
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return f"{message}; wrote {out}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fleet.sim.sample", description="Regenerate the sample fleet file.")
    parser.add_argument("out", type=Path, help="the SQLite file to write (replaced if it exists)")
    parser.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        print(write_sample_file(args.out, seed=args.seed))
    except FleetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
