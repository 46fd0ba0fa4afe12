"""The command line as scripts and cron see it: exit statuses, one-line errors, JSON."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

from tests.conftest import REPO


def fleet(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "fleet", *args], cwd=REPO, capture_output=True, text=True, timeout=60,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_init_creates_then_is_harmless(tmp_path):
    db = tmp_path / "inv.db"
    first = fleet("init", "--db", f"sqlite:///{db}")
    assert first.returncode == 0 and "created" in first.stdout
    second = fleet("init", "--db", str(db))
    assert second.returncode == 0 and "up to date" in second.stdout


def test_read_commands_on_a_missing_database_say_so(tmp_path):
    for cmd in ("faults", "stock", "swaps"):
        r = fleet(cmd, "--db", str(tmp_path / "nope.db"))
        assert r.returncode == 5
        assert r.stderr.startswith("fleet: no database at") and r.stderr.count("\n") == 1
        assert not (tmp_path / "nope.db").exists()  # reading never creates an empty database


def test_fleet_db_env_is_the_default(tmp_path):
    db = tmp_path / "env.db"
    assert fleet("init", env={"FLEET_DB": str(db)}).returncode == 0
    r = fleet("stock", "--json", env={"FLEET_DB": str(db)})
    assert r.returncode == 0 and json.loads(r.stdout)["stock"] == []


def test_the_root_db_option_reaches_every_command(tmp_path):
    # `fleet --db PATH COMMAND` (as `fleet --help` shows it) reads PATH, not ./inventory.db or FLEET_DB
    db, other = tmp_path / "root.db", tmp_path / "other.db"
    assert fleet("--db", str(db), "init", "--sample").returncode == 0 and db.exists()
    for cmd in (("stock", "--json"), ("faults", "--json"), ("swaps", "--json")):
        r = fleet(f"--db={db}", *cmd, env={"FLEET_DB": str(other)})
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)  # the sample's data, read from the root --db
    r = fleet("--db", str(db), "stock", "--json")
    assert len(json.loads(r.stdout)["stock"]) > 0
    # a command's own --db still wins
    missing = fleet("--db", str(db), "stock", "--db", str(tmp_path / "nope.db"))
    assert missing.returncode == 5 and "nope.db" in missing.stderr
    assert not other.exists()


def test_backup_is_a_consistent_copy(tmp_path):
    db = tmp_path / "inv.db"
    fleet("init", "--db", str(db))
    dest = tmp_path / "backup.db"
    r = fleet("db", "backup", str(dest), "--db", str(db))
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(dest) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
    again = fleet("db", "backup", str(dest), "--db", str(db))
    assert again.returncode == 2 and "exists" in again.stderr


def test_postgres_backup_points_to_pg_dump(pg_url):
    assert fleet("init", "--db", pg_url).returncode == 0
    r = fleet("db", "backup", "/nonexistent/x", "--db", pg_url)
    assert r.returncode == 5 and "pg_dump" in r.stderr


def test_poll_usage_errors_are_unknown_not_critical():
    # A monitoring system reads 2 as "critical": a typo in a check definition must not page anyone for a PSU.
    r = fleet("poll", "127.0.0.1", "--protocol", "carrier-pigeon", "--password-env", "NOPE")
    assert r.returncode == 3 and "Traceback" not in r.stderr
    r = fleet("poll", "--no-such-option")
    assert r.returncode == 3


def test_poll_needs_a_password_reference_not_a_password():
    r = fleet("poll", "127.0.0.1", "--protocol", "ipmi", "--password", "hunter2")
    assert r.returncode == 3 and "hunter2" not in r.stderr + r.stdout
