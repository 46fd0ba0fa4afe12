"""CSV import is all or nothing; export writes what import reads back."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from fleet.errors import InputError
from fleet.exchange.csv import export_csv, import_csv
from fleet.store.db import make_engine, read_session
from fleet.store.migrate import upgrade
from fleet.store.models import Audit, Component, Server, Stock
from tests.conftest import REPO
from tests.factories import make_fleet

HEADER = "hostname,asset_tag,serial,model,site,rack,unit,controller_host,controller_port,plan,credential_ref\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def fleet_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fleet", *args], cwd=REPO, capture_output=True, text=True, timeout=60)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def sqlite_fleet(tmp_path):
    path = tmp_path / "inventory.db"
    engine = make_engine(str(path))
    upgrade(engine)
    make_fleet(engine, servers=3)
    engine.dispose()
    return path


def test_good_servers_csv_creates_and_updates(engine, tmp_path):
    make_fleet(engine, servers=1)
    csv = write(tmp_path, "s.csv", HEADER
                + "new1.par1,AT-N1,SN-N1,PowerEdge R640,PAR1,R01,10,127.0.0.5,16623,dedicated,env:BMC_PW\n"
                + "srv00000.par1,AT000000,SN00000000,PowerEdge R640,PAR1,R09,20,127.0.0.6,,vps,\n")  # fmt: skip
    result = import_csv(engine, "servers", csv)
    assert (result.created, result.updated) == (1, 1)
    with read_session(engine) as s:
        hosts = {x.hostname: x for x in s.exec(select(Server))}
    assert hosts["new1.par1"].controller_port == 16623 and hosts["new1.par1"].credential_ref == "env:BMC_PW"
    assert hosts["srv00000.par1"].rack == "R09" and hosts["srv00000.par1"].plan == "vps"


def test_broken_csv_reports_every_bad_row_and_leaves_the_file_byte_for_byte(sqlite_fleet, tmp_path):
    before = sha(sqlite_fleet)
    csv = write(
        tmp_path,
        "servers.csv",
        HEADER
        + "ok1.par1,AT-OK1,SN-OK1,PowerEdge R640,PAR1,R01,1,127.0.0.7,623,dedicated,\n"  # line 2: fine
        + "bad1.par1,AT-B1,SN-B1,NoSuchModel,PAR1,R01,1,127.0.0.8,623,dedicated,\n"  # line 3
        + "bad2.par1,AT-B2,SN-B2,PowerEdge R640,MARS,R01,1,127.0.0.9,623,dedicated,\n"  # line 4
        + "bad3.par1,AT-B3,SN-OK1,PowerEdge R640,PAR1,R01,x,127.0.0.9,623,dedicated,\n"  # line 5
        + "bad4.par1,AT-B4,SN-B4,PowerEdge R640,PAR1,R01,1,127.0.0.9,623,dedicated,hunter2\n",
    )  # line 6 fmt: skip
    r = fleet_cli("import", "servers", str(csv), "--db", str(sqlite_fleet))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert [re.search(r"servers\.csv:(\d+): ", ln).group(1) for ln in lines] == ["3", "4", "5", "6"]
    assert "NoSuchModel" in lines[0] and "MARS" in lines[1] and "SN-OK1" in lines[2] and "reference" in lines[3]
    assert "hunter2" not in r.stderr  # a secret pasted in the wrong column is not echoed
    assert sha(sqlite_fleet) == before  # not a byte changed
    engine = make_engine(str(sqlite_fleet))
    with read_session(engine) as s:
        assert len(s.exec(select(Server)).all()) == 3


@pytest.mark.parametrize(
    "body",
    ["hostname,serial\nx,y\n", 'hostname,asset_tag\n"unterminated\n', "\xff\xfe garbage"],
    ids=["missing-columns", "bad-quoting", "not-utf8"],
)
def test_unusable_files_are_one_clear_error(sqlite_fleet, tmp_path, body):
    before = sha(sqlite_fleet)
    p = tmp_path / "x.csv"
    p.write_bytes(body.encode("latin-1"))
    r = fleet_cli("import", "servers", str(p), "--db", str(sqlite_fleet))
    assert r.returncode == 2 and r.stderr.startswith("fleet: ") and "Traceback" not in r.stderr
    assert str(p) in r.stderr
    assert sha(sqlite_fleet) == before


def test_stock_import_is_audited_and_checks_reserved(engine, tmp_path):
    make_fleet(engine, servers=1)
    bad = write(tmp_path, "st.csv", "site,part_number,bin,on_hand,reserved\nPAR1,0PJMDN,B-1,1,3\n")
    with pytest.raises(InputError, match=r"st.csv:2: reserved \(3\) is more than on hand \(1\)"):
        import_csv(engine, "stock", bad)
    good = write(tmp_path, "st2.csv", "site,part_number,bin,on_hand,reorder_level\nPAR1,0PJMDN,B-9,5,2\n")
    import_csv(engine, "stock", good, actor="ada")
    with read_session(engine) as s:
        st = [x for x in s.exec(select(Stock)) if x.bin == "B-9"]
        audits = s.exec(select(Audit).where(Audit.action == "stock.import")).all()
    assert len(st) == 1 and st[0].on_hand == 5 and st[0].reorder_level == 2
    assert len(audits) == 1 and audits[0].actor == "ada" and audits[0].before["on_hand"] == 2
    assert audits[0].after["on_hand"] == 5


def test_components_import_refuses_a_serial_installed_elsewhere(engine, tmp_path):
    make_fleet(engine, servers=2)
    csv = write(tmp_path, "c.csv", "hostname,slot,part_number,serial\n"
                "srv00000.par1,PSU1,0PJMDN,CN-1\nsrv00001.nyc1,PSU1,0PJMDN,CN-2\n")  # fmt: skip
    assert import_csv(engine, "components", csv).created == 2
    clash = write(tmp_path, "c2.csv", "hostname,slot,part_number,serial\nsrv00001.nyc1,PSU2,0PJMDN,CN-1\n")
    with pytest.raises(InputError, match=r"c2\.csv:2: serial 'CN-1' is installed elsewhere"):
        import_csv(engine, "components", clash)
    with read_session(engine) as s:
        assert len(s.exec(select(Component)).all()) == 2


@pytest.mark.parametrize("kind", ["servers", "components", "stock"])
def test_export_then_import_is_a_round_trip(engine, tmp_path, kind):
    import io

    make_fleet(engine, servers=4)
    comps = write(tmp_path, "c.csv", "hostname,slot,part_number,serial\nsrv00000.par1,PSU1,0PJMDN,CN-1\n")
    import_csv(engine, "components", comps)
    first = io.StringIO()
    export_csv(engine, kind, first)
    path = write(tmp_path, f"{kind}.csv", first.getvalue())
    result = import_csv(engine, kind, path)
    assert result.created == 0 and result.updated == first.getvalue().count("\n") - 1
    again = io.StringIO()
    export_csv(engine, kind, again)
    assert again.getvalue() == first.getvalue()
