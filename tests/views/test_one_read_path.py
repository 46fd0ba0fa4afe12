"""One read path: `fleet faults --json`, `fleet stock --json` (and `--low`), `fleet swaps --json` and the console's
faults, stock, work-queue and dashboard views list the same rows in the same order for the same database."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from fleet.cli import main
from fleet.clock import utcnow
from fleet.config import Settings
from fleet.store.db import make_engine, read_session, write_session
from fleet.store.migrate import upgrade
from fleet.store.models import Fault, Server
from fleet.tui.views import DashboardView, FaultsView, QueueView, StockView
from tests.tui.scene import NOW, build_scene


@pytest.fixture
def db(sqlite_url):
    engine = make_engine(sqlite_url)
    upgrade(engine)
    scene = build_scene(engine)
    with write_session(engine) as s:
        # A second critical fault whose clock started earlier than the scene's PSU fault, with a higher id: the
        # nearest hard limit comes first, not the lowest id nor the oldest row.
        other = s.exec(select(Server).where(Server.id != scene.psu_server)).first()
        assert other is not None
        start = NOW - timedelta(hours=3)
        s.add(Fault(server_id=other.id, slot="PSU2", kind="psu", problem="failed", severity="critical",
                    detected_at=start, notified_at=start, critical_since=start))  # fmt: skip
    yield sqlite_url, engine
    engine.dispose()


def cli_json(capsys, *args: str) -> dict:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    assert exc.value.code == 0, err
    return json.loads(out)


def console(engine, view_cls):
    """What the console's view loads in its worker (the data it draws, in its order)."""
    with read_session(engine) as s:
        return view_cls().load(s, now=utcnow(), settings=Settings(), technician=None)


def test_command_line_and_console_list_the_same_rows_in_the_same_order(db, capsys):
    url, engine = db
    faults = cli_json(capsys, "faults", "--json", "--db", url)["faults"]
    stock = cli_json(capsys, "stock", "--json", "--db", url)["stock"]
    low = cli_json(capsys, "stock", "--low", "--json", "--db", url)["low"]
    swaps = cli_json(capsys, "swaps", "--json", "--db", url)["swaps"]

    # Faults: both critical ones first, the one nearer its hard limit before the other, then the non-critical.
    assert [f["severity"] for f in faults] == ["critical", "critical", "non-critical", "non-critical"]
    assert faults[0]["hard_limit_at"] < faults[1]["hard_limit_at"] and faults[0]["id"] > faults[1]["id"]
    assert [f["id"] for f in faults] == [f.id for f in console(engine, FaultsView)]

    # Stock: one predicate for "low" (available at or below the level), low lines first, the same lines.
    keys = [(r["site"], r["part_number"]) for r in stock]
    board = console(engine, StockView)
    assert keys == [(x.site, x.part_number) for x in board.levels]
    assert all(r["low"] == (r["available"] <= r["reorder_level"]) for r in stock)
    psu = next(r for r in stock if r["site"] == "PAR1" and r["kind"] == "psu")
    assert psu["available"] == 1 and psu["reorder_level"] == 1 and psu["low"]  # at the level is low
    low_keys = [(r["site"], r["part_number"]) for r in low]
    assert low_keys == [(r["site"], r["part_number"]) for r in stock if r["low"]] and low_keys
    dashboard = console(engine, DashboardView)
    assert [(a.site, a.part_number) for a in dashboard.stock_alerts] == low_keys
    assert sum(s.stock_alerts for s in dashboard.sites) == len(low_keys)

    # Swaps: the critical swap (it has a hard limit) before the one waiting for the customer, everywhere.
    assert [s["critical"] for s in swaps] == [True, False]
    ids = [s["id"] for s in swaps]
    assert ids == [w.swap_id for w in console(engine, QueueView)] == [w.swap_id for w in dashboard.swaps]


def test_json_times_are_utc_with_z(db, capsys):
    url, _ = db
    data = cli_json(capsys, "faults", "--json", "--db", url)
    assert data["generated_at"].endswith("Z")
    for f in data["faults"]:
        assert f["notified_at"].endswith("Z") and f["ack_due_at"].endswith("Z")
    swaps = cli_json(capsys, "swaps", "--json", "--db", url)["swaps"]
    assert swaps[0]["hard_limit_at"].endswith("Z") and "+00:00" not in json.dumps(swaps)
