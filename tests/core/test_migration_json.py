"""Migration 0003 on a database written by the previous schema: the JSON-in-text columns come back as lists and
dicts, on SQLite and on PostgreSQL, and nothing that was stored is lost."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import Session, select

from fleet.store.db import make_engine
from fleet.store.migrate import alembic_config, current_revision, upgrade
from fleet.store.models import Audit, Customer, Server, SweepRun, Technician
from fleet.swaps.windows import parse_weekly

SHIFTS = '[{"weekday": 0, "start": "08:00", "end": "18:00"}, {"weekday": 1, "start": "22:00", "end": "06:00"}]'
CURSOR = '{"fru_chunk": 32, "sel": {"next": 7}, "suite": 17}'
REPORT = '{"polled": 3, "spares_reserved": 1, "status": 2}'


def _old_rows(engine) -> None:
    """Rows as the 0002f schema held them: JSON written by json.dumps, plus the odd values found in the wild."""
    at = datetime(2026, 11, 1, 12, 0)
    rows = [
        "INSERT INTO site (id, code, name, timezone) VALUES (1, 'PAR1', 'Paris', 'Europe/Paris')",
        "INSERT INTO server_model (id, vendor, name, u_height, psu_count, fan_count, fan_zones, dimm_slots, "
        "disk_slots, raid_level, raid_battery, controller) VALUES (1, 'Dell', 'R650', 1, 2, 6, 1, 16, 4, 'RAID1', "
        "true, 'idrac')",
        f"INSERT INTO technician (id, name, site_id, shifts, on_call, active) VALUES (1, 'Marie', 1, '{SHIFTS}', "
        "'', true)",
        "INSERT INTO customer (id, name, contact_name, email, timezone, preferred_windows) VALUES (1, 'Dupont', "
        "'Mme Dupont', 'ops@dupont.example', 'Europe/Paris', '[{\"weekday\": 5, \"start\": \"22:00\", "
        '"end": "23:59"}]\')',
        "INSERT INTO server (id, hostname, asset_tag, serial, model_id, site_id, rack, unit, plan, backup_option, "
        "monthly_fee_cents, billing, controller_host, controller_port, controller_protocol, status, health, "
        f"poll_cursor) VALUES (1, 'web1', 'A1', 'S1', 1, 1, 'R1', 1, 'dedicated', false, 0, 'monthly', "
        f"'127.0.0.1', 623, 'ipmi', 'active', 'ok', '{CURSOR}')",
        "INSERT INTO server (id, hostname, asset_tag, serial, model_id, site_id, rack, unit, plan, backup_option, "
        "monthly_fee_cents, billing, controller_host, controller_port, controller_protocol, status, health, "
        "poll_cursor) VALUES (2, 'web2', 'A2', 'S2', 1, 1, 'R1', 2, 'dedicated', false, 0, 'monthly', "
        "'127.0.0.1', 623, 'ipmi', 'active', 'ok', NULL)",
        "INSERT INTO sweep_run (started_at, servers, polled, unreachable, faults_opened, faults_resolved, report) "
        f"VALUES (:at, 3, 3, 0, 1, 0, '{REPORT}')",
        "INSERT INTO audit (at, actor, action, entity, entity_id, before, after) VALUES (:at, 'ada', "
        "'stock.import', 'stock', 1, '{\"on_hand\": 2}', '{\"on_hand\": 5}')",
        "INSERT INTO audit (at, actor, action, entity, entity_id, before, after) VALUES (:at, 'tom', "
        "'fault.note', 'fault', 1, 'typed by hand, not JSON', NULL)",
    ]
    with engine.begin() as conn:
        for sql in rows:
            conn.execute(text(sql), {"at": at} if ":at" in sql else {})


def test_upgrade_from_0002f_keeps_every_value(db_url):
    engine = make_engine(db_url)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002f")
    _old_rows(engine)

    before, after = upgrade(engine)
    # Up to the newest revision, whatever later migrations add after 0003.
    assert (before, after) == ("0002f", ScriptDirectory.from_config(cfg).get_current_head())
    with Session(engine) as s:
        marie = s.exec(select(Technician)).one()
        assert [(w.weekday, w.start.hour, w.end.hour) for w in parse_weekly(marie.shifts)] == [(0, 8, 18), (1, 22, 6)]
        assert marie.on_call == []  # an empty text was "no hours"
        assert s.exec(select(Customer)).one().preferred_windows == [{"weekday": 5, "start": "22:00", "end": "23:59"}]
        cursors = {sv.hostname: sv.poll_cursor for sv in s.exec(select(Server))}
        assert cursors == {"web1": {"fru_chunk": 32, "sel": {"next": 7}, "suite": 17}, "web2": None}
        assert s.exec(select(SweepRun)).one().report == {"polled": 3, "spares_reserved": 1, "status": 2}
        audits = {a.actor: (a.before, a.after) for a in s.exec(select(Audit))}
        assert audits == {"ada": ({"on_hand": 2}, {"on_hand": 5}), "tom": ("typed by hand, not JSON", None)}
        # SQL NULL stays NULL: "no cursor yet" is still found with IS NULL.
        assert s.exec(select(Server.hostname).where(Server.poll_cursor.is_(None))).all() == ["web2"]  # type: ignore[union-attr]

    # And the new schema takes structured values from the code and gives them back.
    with Session(engine) as s:
        s.add(SweepRun(started_at=datetime(2026, 11, 2, tzinfo=UTC), report={"swaps_planned": 2}))
        s.commit()
    with Session(engine) as s:
        reports = [r.report for r in s.exec(select(SweepRun).order_by(SweepRun.id))]  # type: ignore[arg-type]
        assert reports[-1] == {"swaps_planned": 2}
    engine.dispose()


def test_downgrade_gives_the_text_back(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    with Session(engine) as s:
        s.add(SweepRun(started_at=datetime(2026, 11, 2, tzinfo=UTC), report={"polled": 4}))
        s.commit()
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002f")
    assert current_revision(engine) == "0002f"
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT report FROM sweep_run")).scalar_one()
    assert isinstance(raw, str) and raw.replace(" ", "") == '{"polled":4}'
    engine.dispose()
