"""Every bad input of the command line: exactly one line `fleet: ...`, no traceback, the status docs/CLI.md gives.

One table of cases; each runs the real command line (`fleet.cli.main`, in this process for speed; the read-only case
in a child process that drops to another user, because root writes anywhere).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fleet.cli import main
from fleet.store.db import make_engine
from fleet.store.migrate import upgrade
from tests.conftest import REPO
from tests.factories import make_fleet

TOO_BIG = str(2**64)  # beyond any 64-bit id


@pytest.fixture(scope="module")
def dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A good database and its broken cousins, made once for the table."""
    d = tmp_path_factory.mktemp("dbs")
    good = d / "good.db"
    engine = make_engine(str(good))
    upgrade(engine)
    make_fleet(engine, servers=2)
    engine.dispose()
    corrupt = d / "corrupt.db"
    data = bytearray(good.read_bytes())
    data[100:4096] = b"\xab" * (4096 - 100)  # page 1 holds the schema: damaged beyond reading
    corrupt.write_bytes(bytes(data))
    truncated = d / "truncated.db"
    truncated.write_bytes(good.read_bytes()[:5000])
    foreign = d / "notes.db"
    foreign.write_text("this is a text file, not a database\n" * 50)
    newer = d / "newer.db"
    shutil.copy(good, newer)
    with sqlite3.connect(newer) as conn:  # as a newer fleet would leave it: a revision this one does not know
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    folder = d / "folder.db"
    folder.mkdir()
    csv = d / "stock.csv"
    csv.write_text("site,part_number,bin,on_hand\nPAR1,0PJMDN,B-1,3\n")
    return {"good": good, "corrupt": corrupt, "truncated": truncated, "foreign": foreign, "newer": newer,
            "folder": folder, "csv": csv, "dir": d}  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else 1), out, err


def assert_one_line(code: int, err: str, status: int, *words: str) -> None:
    assert "Traceback" not in err
    assert err.startswith("fleet: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert code == status, err
    for w in words:
        assert w in err, err


# Every command that opens the database, with the arguments it needs to get that far.
DB_COMMANDS = [
    [], ["faults"], ["stock"], ["stock", "--low"], ["swaps"], ["rma", "list"], ["report", "sla", "--month", "2026-11"],
    ["swap", "plan"], ["sweep"], ["export", "servers"], ["import", "stock", "{csv}"],
    ["faults", "ack", "1", "--by", "x"], ["faults", "resolve", "1", "--by", "x"],
    ["ticket", "open", "--server", "h", "--slot", "PSU1", "--text", "t"],
    ["swap", "start", "1"], ["swap", "done", "1", "--new-serial", "S"], ["spare", "reserve", "1"],
    ["transfer", "ship", "1"], ["rma", "ship", "1"], ["db", "backup", "{dir}/backup.db"], ["init"],
]  # fmt: skip
BROKEN = {
    "corrupt": "not a fleet database",
    "truncated": "not a fleet database",
    "foreign": "not a fleet database",
    "folder": "is a folder",
    "newer": "newer fleet",
}


def _status(args: list[str], usual: int) -> int:
    # sweep and poll follow the monitoring-plugin convention: anything that is not a reading is "unknown" (3).
    return 3 if args and args[0] in ("sweep", "poll") else usual


@pytest.mark.parametrize("which", sorted(BROKEN))
def test_a_broken_database_is_one_line_for_every_command(capsys, dbs, which):
    for template in DB_COMMANDS:
        args = [a.format(csv=dbs["csv"], dir=dbs["dir"]) for a in template] + ["--db", str(dbs[which])]
        code, _out, err = run(capsys, args)
        assert_one_line(code, err, _status(template, 5), BROKEN[which])
        if which == "newer":
            assert "9999" in err and "this fleet is older" in err


@dataclass
class Case:
    args: list[str]
    status: int
    words: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


CASES = {
    "unparseable-url": Case(["stock", "--db", "::://"], 5, ("not a database URL",)),
    "unparseable-url-init": Case(["init", "--db", "::://"], 5, ("not a database URL",)),
    "month-year-0": Case(["report", "sla", "--month", "0000-01", "--db", "{good}"], 2, ("--month",)),
    "month-year-9999": Case(["report", "sla", "--month", "9999-12", "--db", "{good}"], 2, ("--month",)),
    "month-fullwidth": Case(["report", "sla", "--month", "２０２６-１１", "--db", "{good}"], 2, ("--month",)),
    "ticket-at-year-1": Case(
        [
            "ticket",
            "open",
            "--server",
            "srv00000.par1",
            "--slot",
            "PSU1",
            "--text",
            "t",
            "--at",
            "0001-01-01T00:00",
            "--db",
            "{good}",
        ],
        2,
        ("out of range",),
    ),
    "ack-at-year-9999": Case(
        ["faults", "ack", "1", "--by", "x", "--at", "9999-12-31T23:59", "--db", "{good}"], 2, ("out of range",)
    ),
    "fault-id-past-64-bits": Case(["faults", "ack", TOO_BIG, "--by", "x", "--db", "{good}"], 2, ("out of range",)),
    "swap-id-past-64-bits": Case(["swap", "start", TOO_BIG, "--db", "{good}"], 2, ("out of range",)),
    "spare-id-past-64-bits": Case(["spare", "reserve", TOO_BIG, "--db", "{good}"], 2, ("out of range",)),
    "every-inf": Case(["sweep", "--every", "inf", "--db", "{good}"], 3, ("--every",)),
    "every-nan": Case(["sweep", "--every", "nan", "--db", "{good}"], 3, ("--every",)),
    "every-0": Case(["sweep", "--every", "0", "--db", "{good}"], 3, ("--every",)),
    "sweep-timeout-inf": Case(["sweep", "--timeout", "inf", "--db", "{good}"], 3, ("--timeout",)),
    "sweep-timeout-nan": Case(["sweep", "--timeout", "nan", "--db", "{good}"], 3, ("--timeout",)),
    "poll-timeout-inf": Case(["poll", "127.0.0.1", "--password-env", "HOME", "--timeout", "inf"], 3, ("--timeout",)),
    "poll-timeout-nan": Case(["poll", "127.0.0.1", "--password-env", "HOME", "--timeout", "nan"], 3, ("--timeout",)),
    "monitoring-interval-0": Case(
        ["sweep", "--db", "{good}"], 3, ("MONITORING_INTERVAL",), env={"FLEET_MONITORING_INTERVAL_MIN": "0"}
    ),
    "port-0": Case(["poll", "127.0.0.1", "--port", "0", "--password-env", "HOME"], 3, ("--port",)),
    "port-65536": Case(["poll", "127.0.0.1", "--port", "65536", "--password-env", "HOME"], 3, ("--port",)),
    "sweep-unknown-site": Case(["sweep", "--site", "MARS", "--db", "{good}"], 3, ("no site 'MARS'", "PAR1")),
    "faults-unknown-site": Case(["faults", "--site", "MARS", "--db", "{good}"], 4, ("no site 'MARS'",)),
    "missing-database": Case(["faults", "--db", "{dir}/nothing-here.db"], 5, ("no database at",)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_line_with_its_status(capsys, monkeypatch, dbs, name):
    case = CASES[name]
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    args = [a.format(**{k: str(v) for k, v in dbs.items()}) for a in case.args]
    code, out, err = run(capsys, args)
    if args[0] == "poll":
        # A monitoring plugin answers on stdout, its status word first (docs/MONITORING.md); still one line, still 3.
        assert code == case.status and err == "" and out.startswith("UNKNOWN: ") and out.count("\n") == 1, out
        assert all(w in out for w in case.words), out
        return
    assert_one_line(code, err, case.status, *case.words)


def test_a_bare_path_is_a_path(capsys, tmp_path):
    for name in ("we?ird.db", "a%41.db"):
        code, _out, err = run(capsys, ["init", "--db", str(tmp_path / name)])
        assert code == 0, err
        assert (tmp_path / name).is_file()
        code, _out, err = run(capsys, ["stock", "--db", str(tmp_path / name)])
        assert code == 0, err
    # Neither the part before `?` nor the %-decoded name was created.
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db" or p.name == "we") == ["a%41.db", "we?ird.db"]


def _as_other_user() -> tuple[int, int] | None:
    """A uid/gid to drop to: root writes through any file mode, so the check needs another user."""
    if os.geteuid() != 0:
        return None  # already not root: file modes apply to us
    import pwd

    for name in ("nobody", "daemon"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    pytest.skip("running as root and no unprivileged user (nobody, daemon) exists to drop to")


# The child imports everything it needs while still root (the interpreter may live in a folder only root can read),
# then drops to the other user and runs the command line.
DROP = """
import os, sys
uid, gid = int(sys.argv[1]), int(sys.argv[2])
import importlib, pkgutil, fleet
from fleet.cli import main
# Every module of fleet (and so every library module they load), lazy imports of the commands included.
for mod in pkgutil.walk_packages(fleet.__path__, "fleet."):
    if ".migrations" not in mod.name and not mod.name.startswith("fleet.tui"):
        importlib.import_module(mod.name)
import sqlalchemy.dialects.sqlite, sqlite3, alembic.command
if uid >= 0:
    os.setgroups([]); os.setgid(gid); os.setuid(uid)
main(sys.argv[3:])
"""


def test_a_read_only_database_refuses_a_write_in_one_line(dbs):
    who = _as_other_user()
    uid, gid = who if who else (-1, -1)
    # The folder is open to the other user (SQLite keeps its -wal/-shm beside the file); the file is not theirs.
    folder = Path(tempfile.mkdtemp(prefix="fleet-ro-"))
    try:
        folder.chmod(0o777)
        db = folder / "ro.db"
        shutil.copy(dbs["good"], db)
        db.chmod(0o444)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        base = [sys.executable, "-c", DROP, str(uid), str(gid)]
        read = subprocess.run([*base, "stock", "--db", str(db)], capture_output=True, text=True, env=env, timeout=60)
        assert read.returncode == 0, read.stderr  # reading is allowed
        write = subprocess.run(
            [*base, "ticket", "open", "--server", "srv00000.par1", "--slot", "PSU1", "--text", "t", "--db", str(db)],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert_one_line(write.returncode, write.stderr, 5, "read-only")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
