"""CSV import at its edges: unknown columns, every reason of every bad row in one pass, numbers and text that do not
fit, files that are not UTF-8, formulas for spreadsheets, and a file of 100,000 rows in bounded memory."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select

from fleet.errors import InputError
from fleet.exchange.csv import export_csv, import_csv
from fleet.store.db import make_engine, read_session
from fleet.store.migrate import upgrade
from fleet.store.models import Server
from tests.conftest import REPO
from tests.factories import make_fleet

COLS = "hostname,asset_tag,serial,model,site,rack,unit,controller_host"
GOOD = "ok{n}.par1,AT-OK{n},SN-OK{n},PowerEdge R640,PAR1,R01,{n},127.0.0.7"


def servers(engine) -> dict[str, Server]:
    with read_session(engine) as s:
        return {x.hostname: x for x in s.exec(select(Server))}


def errors_of(engine, path: Path, kind: str = "servers") -> list[str]:
    before = sorted(servers(engine))
    with pytest.raises(InputError) as exc:
        import_csv(engine, kind, path)
    assert sorted(servers(engine)) == before  # all or nothing: not one row written
    return str(exc.value).splitlines()


def line_of(error: str) -> int:
    m = re.search(r"\.csv:(\d+): ", error)
    assert m, error
    return int(m.group(1))


@pytest.fixture
def fleet_engine(engine):
    make_fleet(engine, servers=1)
    return engine


def test_an_unknown_column_is_refused_by_name(fleet_engine, tmp_path):
    p = tmp_path / "s.csv"
    p.write_text(f"{COLS},backup_opton\n{GOOD.format(n=1)},yes\n")
    (err,) = errors_of(fleet_engine, p)
    assert "s.csv:1: unknown column(s): 'backup_opton'" in err


def test_every_bad_row_with_every_reason_in_one_pass(fleet_engine, tmp_path):
    header = f"{COLS},plan,backup_option,monthly_fee_cents,billing,controller_port,status"
    rows = [
        GOOD.format(n=1) + ",,,,,,",  # line 2: fine
        "short.par1,AT-S,SN-S",  # line 3: too few fields
        GOOD.format(n=4) + ",,,,,,",  # line 4: fine
        ",,,,,,,,,,,,,",  # line 5: every field empty
        # line 6: seven bad fields
        "bad.par1,AT-B,SN-B,PowerEdge R640,PAR1,R01,x,127.0.0.8,cloud,maybe,-5,weekly,70000,gone",
        "late.par1,AT-L,SN-L,NoSuchModel,PAR1,R01,1,127.0.0.9,,,,,,",  # line 7: after all that, still checked
    ]
    p = tmp_path / "s.csv"
    p.write_text(header + "\n" + "\n".join(rows) + "\n")
    errs = errors_of(fleet_engine, p)
    assert [line_of(e) for e in errs] == [3, 5, 6, 7]
    assert "expected 14 fields, got 3" in errs[0]
    assert "empty" in errs[1]
    bad = errs[2]
    for field in ("unit", "plan", "backup_option", "monthly_fee_cents", "billing", "controller_port", "status"):
        assert field in bad, (field, bad)
    assert len(bad.split(": ", 1)[1].split("; ")) == 7
    assert "NoSuchModel" in errs[3]


@pytest.mark.parametrize(
    ("unit", "reason"),
    [("12345678901234567890", "between 1 and"), ("１２", "digits 0-9"), ("99999999999", "between 1 and")],
    ids=["20-digits", "full-width", "past-32-bits"],
)
def test_numbers_that_do_not_fit_are_clear_errors(fleet_engine, tmp_path, unit, reason):
    p = tmp_path / "s.csv"
    p.write_text(f"{COLS}\nbig.par1,AT-X,SN-X,PowerEdge R640,PAR1,R01,{unit},127.0.0.7\n")
    (err,) = errors_of(fleet_engine, p)
    assert line_of(err) == 2 and "unit" in err and reason in err


def test_on_postgresql_big_numbers_and_nul_are_row_errors_not_driver_errors(pg_url, tmp_path):
    engine = make_engine(pg_url)
    upgrade(engine)
    make_fleet(engine, servers=1)
    p = tmp_path / "s.csv"
    p.write_text(f"{COLS},monthly_fee_cents\n"
                 f"big.par1,AT-X,SN-X,PowerEdge R640,PAR1,R01,1,127.0.0.7,12345678901234567890\n"
                 f"nul\x00.par1,AT-Y,SN-Y,PowerEdge R640,PAR1,R01,2,127.0.0.7,1\n")  # fmt: skip
    errs = errors_of(engine, p)
    assert [line_of(e) for e in errs] == [2, 3]
    assert "monthly_fee_cents" in errs[0] and "hostname holds a control character" in errs[1]
    engine.dispose()


def test_control_characters_in_identifiers_are_refused(fleet_engine, tmp_path):
    p = tmp_path / "s.csv"
    p.write_text(f"{COLS}\nesc\x1b]0;x\x07.par1,AT-E,SN-E,PowerEdge R640,PAR1,R01,1,127.0.0.7\n"
                 f"ok.par1,AT\x00N,SN-N,PowerEdge R640,PAR1,R01,1,127.0.0.7\n")  # fmt: skip
    errs = errors_of(fleet_engine, p)
    assert [line_of(e) for e in errs] == [2, 3]
    assert "hostname holds a control character" in errs[0] and "asset_tag holds a control character" in errs[1]


def test_a_huge_field_is_reported_on_its_own_line(fleet_engine, tmp_path):
    huge = "x" * (129 * 1024)
    lines = [COLS, GOOD.format(n=1), GOOD.format(n=2), GOOD.format(n=3),
             f"h.par1,AT-H,SN-H,PowerEdge R640,PAR1,{huge},1,127.0.0.7", GOOD.format(n=6)]  # fmt: skip
    p = tmp_path / "s.csv"
    p.write_text("\n".join(lines) + "\n")
    errs = errors_of(fleet_engine, p)
    assert [line_of(e) for e in errs] == [5]
    assert "field larger than field limit" in errs[0]


def test_a_quoted_field_over_several_lines_is_reported_where_its_row_starts(fleet_engine, tmp_path):
    p = tmp_path / "s.csv"
    p.write_text(f'{COLS}\n{GOOD.format(n=1)}\n"two\nlines.par1",AT-2,SN-2,PowerEdge R640,PAR1,R01,x,127.0.0.7\n')
    (err,) = errors_of(fleet_engine, p)
    assert line_of(err) == 3 and "unit" in err and "hostname holds a control character" in err


def test_a_file_that_is_not_utf8_says_which_line(fleet_engine, tmp_path):
    p = tmp_path / "s.csv"
    p.write_bytes(
        f"{COLS}\n{GOOD.format(n=1)}\n{GOOD.format(n=2)}\n".encode()
        + "caf\xe9.par1,A,S,M,PAR1,R,1,h\n".encode("latin-1")
    )
    (err,) = errors_of(fleet_engine, p)
    assert "s.csv:4: not UTF-8" in err


def test_formulas_are_exported_as_text_and_import_back_byte_for_byte(fleet_engine, tmp_path):
    p = tmp_path / "s.csv"
    p.write_text(
        f"{COLS},controller_user\n=cmd|' /C calc'!A0,+AT1,-SN1,PowerEdge R640,PAR1,@SUM(1+1),1,127.0.0.7,''=quoted\n"
    )
    import_csv(fleet_engine, "servers", p)
    # A file's leading quote before a formula character is the protection (one is taken off): `''=` is `'=`.
    stored = servers(fleet_engine)["=cmd|' /C calc'!A0"]
    assert (stored.asset_tag, stored.serial, stored.rack, stored.controller_user) == ("+AT1", "-SN1", "@SUM(1+1)",
                                                                                       "'=quoted")  # fmt: skip
    first = io.StringIO()
    export_csv(fleet_engine, "servers", first)
    row = next(line for line in first.getvalue().splitlines() if "calc" in line)
    # Every dangerous cell starts with a quote: a spreadsheet shows it as text instead of running it.
    assert row.startswith("'=cmd|' /C calc'!A0,'+AT1,'-SN1,") and ",'@SUM(1+1)," in row and ",''=quoted," in row
    again = tmp_path / "again.csv"
    again.write_text(first.getvalue())
    import_csv(fleet_engine, "servers", again)
    second = io.StringIO()
    export_csv(fleet_engine, "servers", second)
    assert second.getvalue() == first.getvalue()
    assert servers(fleet_engine)["=cmd|' /C calc'!A0"].controller_user == "'=quoted"


def test_a_hundred_thousand_rows_import_in_bounded_memory(tmp_path):
    """Streamed in batches: the import's peak memory does not grow with the file (the whole file in memory took
    about 900 MB for these 100,000 rows)."""
    db = tmp_path / "inv.db"
    engine = make_engine(str(db))
    upgrade(engine)
    make_fleet(engine, servers=1)
    engine.dispose()
    p = tmp_path / "big.csv"
    with p.open("w") as fh:
        fh.write(f"{COLS},controller_port,plan\n")
        for i in range(100_000):
            fh.write(f"h{i:06d}.par1,AT{i:07d},XS{i:08d},PowerEdge R640,PAR1,R{i % 40:02d},{1 + i % 40},"
                     f"127.0.0.1,623,dedicated\n")  # fmt: skip
    t0 = time.monotonic()
    # Its own output is one line, so waiting before reading the pipes cannot block; wait4 gives this child's peak.
    child = subprocess.Popen([sys.executable, "-m", "fleet", "import", "servers", str(p), "--db", str(db)], cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    _, status, usage = os.wait4(child.pid, 0)
    out, err = child.stdout.read(), child.stderr.read()  # type: ignore[union-attr]
    child.returncode = os.waitstatus_to_exitcode(status)
    peak_mb = usage.ru_maxrss // 1024
    assert child.returncode == 0, err
    assert "100000 created" in out
    print(f"100,000 rows: peak RSS {peak_mb} MB, {time.monotonic() - t0:.0f} s")
    assert peak_mb < 300, f"peak RSS {peak_mb} MB: the import is not streaming"
