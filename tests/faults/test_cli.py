"""`fleet ticket open`, `fleet faults [--json]`, `fleet faults ack`, `fleet faults resolve` as a user runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fleet.cli import main
from fleet.store.db import make_engine, write_session
from fleet.store.migrate import upgrade
from tests.faults.helpers import make_server


@pytest.fixture
def db(sqlite_url):
    engine = make_engine(sqlite_url)
    upgrade(engine)
    with write_session(engine) as s:
        make_server(s, "web1", components=[("PSU1", "psu", "P-1"), ("PSU2", "psu", "P-2")])
    engine.dispose()
    return sqlite_url


def fleet(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_ticket_then_faults_then_ack(db, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    at = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
    code, out, _ = fleet(capsys, "ticket", "open", "--server", "web1", "--slot", "Power Supply 2", "--text",
                         "PSU fault LED", "--at", at.isoformat(), "--db", db, "--json")  # fmt: skip
    assert code == 0
    opened = json.loads(out)
    assert opened["joined"] is False and opened["fault"]["slot"] == "PSU2"
    assert datetime.fromisoformat(opened["fault"]["notified_at"]) == at
    fault_id = opened["fault"]["id"]

    # A second ticket on the same part, spelled differently, earlier: joins, and the earlier time wins.
    earlier = at - timedelta(minutes=30)
    code, out, _ = fleet(capsys, "ticket", "open", "--server", "web1", "--slot", "psu 2", "--text", "still amber",
                         "--at", earlier.isoformat(), "--db", db, "--json")  # fmt: skip
    joined = json.loads(out)
    assert code == 0 and joined["joined"] is True and joined["fault"]["id"] == fault_id
    assert datetime.fromisoformat(joined["fault"]["notified_at"]) == earlier

    code, out, _ = fleet(capsys, "faults", "--json", "--db", db)
    [row] = json.loads(out)["faults"]
    assert code == 0 and row["id"] == fault_id and row["ack"] == "overdue"  # more than an hour since notification

    code, out, _ = fleet(capsys, "faults", "ack", str(fault_id), "--by", "alice", "--db", db)
    assert code == 0 and "alice" in out
    code, out, _ = fleet(capsys, "faults", "--db", db, "--json")
    [row] = json.loads(out)["faults"]
    assert row["ack"] == "done" and row["acknowledged_by"] == "alice" and row["state"] == "acknowledged"

    code, out, _ = fleet(capsys, "faults", "--db", db)  # the human table still works without a subcommand
    assert code == 0 and "PSU2" in out and "web1" in out
    # Local time only at the display: the site's wall clock (the test site is in Paris).
    assert earlier.astimezone(ZoneInfo("Europe/Paris")).strftime("%a %d %b %H:%M CET") in out

    code, out, _ = fleet(capsys, "faults", "resolve", str(fault_id), "--resolution", "swapped", "--by", "alice",
                         "--db", db)  # fmt: skip
    assert code == 0
    code, out, _ = fleet(capsys, "faults", "--db", db, "--json")
    assert json.loads(out)["faults"] == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["ticket", "open", "--server", "nosuch", "--slot", "PSU1", "--text", "x"], 4, "no server 'nosuch'"),
        (["ticket", "open", "--server", "web1", "--slot", "PSU1", "--text", "x", "--at", "yesterday"], 2, "--at"),
        (
            ["ticket", "open", "--server", "web1", "--slot", "PSU1", "--text", "x", "--at", "2999-01-01T00:00"],
            2,
            "future",
        ),
        (["faults", "ack", "999", "--by", "bob"], 4, "no fault 999"),
        (["faults", "resolve", "999", "--by", "bob", "--resolution", "magic"], 2, "resolution must be"),
    ],
    ids=["unknown server", "bad time", "future time", "unknown fault", "bad resolution"],
)
def test_errors_are_one_line_with_an_exit_status(db, capsys, args, code, message):
    got, out, err = fleet(capsys, *args, "--db", db)
    assert got == code
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    _, out, _ = fleet(capsys, "faults", "--json", "--db", db)
    assert json.loads(out)["faults"] == []  # nothing half-written
