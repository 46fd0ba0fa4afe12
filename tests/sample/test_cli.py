"""`fleet init --sample` then `fleet stock --json`, on SQLite and PostgreSQL; a second `init --sample` is harmless."""

from __future__ import annotations

import json
import subprocess
import sys

from sqlalchemy import func, select
from sqlmodel import SQLModel

# Registers every table on SQLModel.metadata, so counts() sees them all.
import fleet.store.models  # noqa: F401
from fleet.store.db import make_engine
from tests.conftest import REPO


def run_fleet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fleet", *args], cwd=REPO, capture_output=True, text=True, timeout=120)


def counts(url: str) -> dict[str, int]:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in SQLModel.metadata.sorted_tables
            }
    finally:
        eng.dispose()


def test_init_sample_then_stock_json(db_url: str) -> None:
    init = run_fleet("init", "--sample", "--db", db_url)
    assert init.returncode == 0, init.stderr
    assert "loaded the sample fleet" in init.stdout
    n = counts(db_url)
    assert n["server"] >= 300 and n["stock"] > 0

    out = run_fleet("stock", "--json", "--db", db_url)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["stock"]
    assert len(rows) == n["stock"]
    assert {r["site"] for r in rows} == {"PAR1", "NYC1", "SIN1"}
    for r in rows:
        assert r["available"] == r["on_hand"] - r["reserved"]
        assert r["low"] == (r["available"] <= r["reorder_level"])
    out_of_stock = [r for r in rows if r["on_hand"] == 0]
    assert len(out_of_stock) == 1 and out_of_stock[0]["low"]
    assert sum(r["low"] for r in rows) >= 4

    one_site = run_fleet("stock", "--json", "--site", "SIN1", "--db", db_url)
    assert json.loads(one_site.stdout)["stock"] == [r for r in rows if r["site"] == "SIN1"]


def test_init_sample_twice_changes_nothing(db_url: str) -> None:
    first = run_fleet("init", "--sample", "--db", db_url)
    assert first.returncode == 0, first.stderr
    before = counts(db_url)
    assert before["server"] > 0

    second = run_fleet("init", "--sample", "--db", db_url)
    assert second.returncode == 0, second.stderr
    assert "already holds a fleet; sample not loaded" in second.stdout
    assert counts(db_url) == before
