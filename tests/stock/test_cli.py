"""The technician's commands end to end on SQLite: reserve, start, done, RMA; and their one-line errors."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys

import pytest
from sqlmodel import select

from fleet.cli import main
from fleet.store.db import make_engine, read_session, write_session
from fleet.store.models import Audit, Component, Fault, Rma, Stock, Swap
from tests.conftest import REPO
from tests.stock import helpers as h


def fleet_process(*args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "fleet", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60)  # fmt: skip


def fleet(*args: str) -> subprocess.CompletedProcess[str]:
    """The same command line in this process (a fresh interpreter per call costs seconds)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "inventory.db"
    assert fleet("init", "--db", str(path)).returncode == 0
    engine = make_engine(str(path))
    with write_session(engine) as s:
        par = h.site(s, "PAR1")
        model = h.server_model(s)
        disk = h.part(s, "DISK-4T", "disk", fits=[model])
        srv = h.server(s, par, model, hostname="web-042")
        h.component(s, srv, "Disk 0:1:4", disk, serial="ZC1OLD")
        h.stock(s, par, disk, 3)
        f = h.fault(s, srv, "Disk 0:1:4", "disk")
        sw = h.swap(s, f)
        h.technician(s, par, "Bob")
        ids = {"fault": f.id, "swap": sw.id}
    yield str(path), engine, ids
    engine.dispose()


def test_swap_done_end_to_end(db):
    path, engine, ids = db
    swap = str(ids["swap"])

    reserved = fleet("spare", "reserve", str(ids["fault"]), "--db", path, "--json")
    assert reserved.returncode == 0, reserved.stderr
    assert json.loads(reserved.stdout)["status"] == "reserved"

    started = fleet("swap", "start", swap, "--technician", "Bob", "--db", path)
    assert started.returncode == 0, started.stderr

    done = fleet_process("swap", "done", swap, "--new-serial", "ZC1NEW", "--technician", "Bob", "--db", path, "--json")
    assert done.returncode == 0, done.stderr
    rma_id = json.loads(done.stdout)["rma_id"]

    with read_session(engine) as s:
        st = s.exec(select(Stock)).one()
        assert (st.on_hand, st.reserved) == (2, 0)
        installed = s.exec(select(Component).where(Component.removed_at.is_(None))).one()
        assert (installed.slot, installed.serial) == ("Disk 0:1:4", "ZC1NEW")
        assert s.get(Swap, ids["swap"]).state == "done"
        assert s.get(Fault, ids["fault"]).resolution == "swapped"
        assert s.get(Rma, rma_id).serial == "ZC1OLD"
        assert "Bob" in set(s.exec(select(Audit.actor).where(Audit.action == "swap.done")).all())

    listed = fleet("rma", "list", "--db", path, "--json")
    assert [(r["id"], r["state"], r["serial"]) for r in json.loads(listed.stdout)["rmas"]] == [
        (rma_id, "open", "ZC1OLD")
    ]
    assert fleet("rma", "ship", str(rma_id), "--db", path).returncode == 0
    assert fleet("rma", "credit", str(rma_id), "--db", path).returncode == 0
    with read_session(engine) as s:
        assert s.get(Rma, rma_id).state == "credited"

    again = fleet("swap", "done", swap, "--new-serial", "ZC1OTHER", "--db", path)
    assert again.returncode == 1
    assert again.stderr.strip() == f"fleet: swap {swap} is already done"


def test_swap_done_errors_are_one_line_and_write_nothing(db):
    path, engine, ids = db
    with read_session(engine) as s:
        audit_before = len(s.exec(select(Audit)).all())

    dup = fleet_process("swap", "done", str(ids["swap"]), "--new-serial", "ZC1OLD", "--db", path)
    assert dup.returncode == 2  # InputError
    assert dup.stderr.count("\n") == 1 and "ZC1OLD is already recorded" in dup.stderr
    assert "Traceback" not in dup.stderr

    unknown = fleet("swap", "done", "9999", "--new-serial", "X1", "--db", path)
    assert unknown.returncode == 4  # NotFound
    assert unknown.stderr.strip() == "fleet: no swap 9999"

    rma = fleet("rma", "credit", "77", "--db", path)
    assert (rma.returncode, rma.stderr.strip()) == (4, "fleet: no RMA 77")

    with read_session(engine) as s:
        assert len(s.exec(select(Audit)).all()) == audit_before
        assert s.exec(select(Stock)).one().reserved == 0
        assert s.get(Swap, ids["swap"]).state == "planned"
