"""The data layer on SQLite and on the real PostgreSQL: what the database itself refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from fleet.store.db import make_engine, read_session, write_session
from fleet.store.migrate import current_revision, head_revision, upgrade
from fleet.store.models import Component, Fault, PartModel, Server, Stock
from fleet.store.schema import HEAD, at_head
from tests.factories import T0, make_fleet


def test_migrations_reach_head_and_rerun_harmlessly(engine):
    assert current_revision(engine) == head_revision(engine)
    before = current_revision(engine)
    assert upgrade(engine) == (before, before)


def test_the_quick_schema_check_knows_the_migrations_head(engine):
    # Every command checks the schema against schema.HEAD without alembic: a new migration must move HEAD with it,
    # or every command would take the slow path (and a fleet with a stale HEAD could never say "at head" quickly).
    assert head_revision(engine) == HEAD
    assert at_head(engine)
    with write_session(engine) as s:
        s.execute(text("UPDATE alembic_version SET version_num = '0010'"))
    assert not at_head(engine)


@pytest.mark.parametrize(
    ("on_hand", "reserved"),
    [(-1, 0), (1, -1), (1, 2)],
    ids=["negative-on-hand", "negative-reserved", "reserved-above-on-hand"],
)
def test_stock_invariants_are_database_constraints(engine, on_hand, reserved):
    make_fleet(engine, servers=1)
    with pytest.raises(IntegrityError), write_session(engine) as s:
        # Straight SQL, bypassing every check the code makes: the database alone must refuse.
        s.execute(text("UPDATE stock SET on_hand = :o, reserved = :r"), {"o": on_hand, "r": reserved})
    with read_session(engine) as s:
        assert all(st.on_hand == 2 and st.reserved == 0 for st in s.exec(select(Stock)))


def test_serials_and_hostnames_are_unique(engine):
    make_fleet(engine, servers=2)
    with read_session(engine) as s:
        a, b = s.exec(select(Server).order_by(Server.id)).all()
    with pytest.raises(IntegrityError), write_session(engine) as s:
        s.execute(text("UPDATE server SET serial = :s WHERE id = :id"), {"s": a.serial, "id": b.id})
    with read_session(engine) as s:
        part = s.exec(select(PartModel)).one()
    with pytest.raises(IntegrityError), write_session(engine) as s:
        s.add(Component(server_id=a.id, slot="PSU1", part_model_id=part.id, serial="X1", installed_at=T0))
        s.add(Component(server_id=b.id, slot="PSU1", part_model_id=part.id, serial="X1", installed_at=T0))


def test_one_open_fault_per_server_slot_problem_but_history_is_kept(engine):
    make_fleet(engine, servers=1)
    with read_session(engine) as s:
        server = s.exec(select(Server)).one()

    def fault(**kw):
        return Fault(server_id=server.id, slot="PSU2", kind="psu", problem="failed", severity="non-critical",
                     detected_at=T0, notified_at=T0, **kw)  # fmt: skip

    with write_session(engine) as s:
        s.add(fault(resolved_at=T0 + timedelta(hours=1), state="resolved"))
        s.add(fault())  # a resolved one does not block a new open one
    with pytest.raises(IntegrityError), write_session(engine) as s:
        s.add(fault())


def test_foreign_keys_are_enforced(engine):
    with pytest.raises(IntegrityError), write_session(engine) as s:
        s.add(Stock(site_id=999, part_model_id=999, bin="X", on_hand=1))


def test_times_come_back_aware_utc(engine):
    make_fleet(engine, servers=1)
    paris_time = datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2)))
    with write_session(engine) as s:
        server = s.exec(select(Server)).one()
        server.last_polled_at = paris_time
        s.add(server)
    with read_session(engine) as s:
        got = s.exec(select(Server)).one().last_polled_at
    assert got == paris_time and got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got.hour == 1  # 03:30 at +02:00 is 01:30 UTC


def test_naive_datetimes_are_refused(engine):
    make_fleet(engine, servers=1)
    with pytest.raises(Exception, match="naive"), write_session(engine) as s:
        server = s.exec(select(Server)).one()
        server.last_polled_at = datetime(2026, 1, 1, 12, 0)
        s.add(server)
        s.flush()


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(sqlite_url):
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_a_failed_write_session_leaves_nothing_behind(engine):
    make_fleet(engine, servers=1)
    with pytest.raises(RuntimeError), write_session(engine) as s:
        st = s.exec(select(Stock)).first()
        st.on_hand = 7
        s.add(st)
        s.flush()
        raise RuntimeError("crash mid-transaction")
    with read_session(engine) as s:
        assert s.exec(select(Stock)).first().on_hand == 2


def test_bare_path_and_env_mean_sqlite(tmp_path, monkeypatch):
    from fleet.store.db import resolve_url, sqlite_path

    assert sqlite_path(resolve_url(str(tmp_path / "a.db"))) == tmp_path / "a.db"
    # A bare path is a path: no query string, no %-escapes.
    assert sqlite_path(resolve_url(str(tmp_path / "we?ird.db"))) == tmp_path / "we?ird.db"
    assert sqlite_path(resolve_url(str(tmp_path / "a%41.db"))) == tmp_path / "a%41.db"
    monkeypatch.setenv("FLEET_DB", str(tmp_path / "b.db"))
    assert sqlite_path(resolve_url(None)) == tmp_path / "b.db"
    assert resolve_url("postgresql://u@h/db").startswith("postgresql+psycopg://")


def test_clock_helpers():
    from fleet.clock import FrozenClock, parse_time

    clock = FrozenClock(datetime(2026, 11, 27, 2, 10, tzinfo=UTC))
    clock.advance(timedelta(minutes=4))
    assert clock() == datetime(2026, 11, 27, 2, 14, tzinfo=UTC)
    assert parse_time("2026-11-27T03:10+01:00") == datetime(2026, 11, 27, 2, 10, tzinfo=UTC)
    assert parse_time("now", clock) == clock()
    with pytest.raises(ValueError):
        parse_time("yesterday-ish")


def test_migrations_describe_exactly_the_models(engine):
    # A column added to models.py without a migration would work in tests (fresh schema) and break a user's upgrade.
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []
