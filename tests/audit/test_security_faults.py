"""Audit findings become security faults with work orders, and the next audit verifies them: against real ipmi_sim
controllers, through the public command line (`fleet audit bmc`, `fleet faults`, `fleet swaps`), the console under
Textual's pilot, and the sweep's weekly audit on an injected clock.

The weak controller is the lab's anonymous-login configuration; its fix is the lab's hardened one (the negative
control), as if the board were reconfigured. ipmi_sim cannot switch cipher suite 0 off (the lab's README), so the
cipher-0 fault stays open on both: it is the "still there, kept" case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from fleet.clock import FrozenClock
from fleet.config import Settings
from fleet.store.db import make_engine, read_session, write_session
from fleet.store.migrate import upgrade
from fleet.store.models import Fault, Server, Swap, SwapState
from fleet.sweep.audit import run_audit
from fleet.sweep.run import run_sweep
from fleet.tui.livetable import LiveTable
from tests.audit.conftest import lab_sims
from tests.conftest import REPO, free_port
from tests.factories import make_fleet
from tests.tui.scene import NOW, build_scene
from tests.tui.test_flows import console, settle, status

pytestmark = pytest.mark.ipmi
WEAK, HARDENED = "2_anonymous_null_user", "0_negative_control"
USER = {WEAK: "admin", HARDENED: "opsbot"}  # the account fleet polls with on each (a valid user name)


@pytest.fixture(scope="module")
def sims(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    with lab_sims([WEAK, HARDENED], tmp_path_factory) as ports:
        yield ports


def one_server_db(path: Path) -> Engine:
    engine = make_engine(str(path))
    upgrade(engine)
    make_fleet(engine, servers=1, sites=("PAR1",))
    return engine


def point_at(engine: Engine, port: int, user: str | None) -> None:
    """The server's controller is now this one (a board reconfigured, or replaced)."""
    with write_session(engine) as s:
        server = s.exec(select(Server)).one()
        server.controller_port, server.controller_user = port, user


def fleet(db: Path, *args: str) -> tuple[int, dict[str, Any]]:
    env = {**os.environ, "FLEET_IPMI_BIND": "127.0.0.1"}
    out = subprocess.run([sys.executable, "-m", "fleet", *args, "--db", str(db), "--json"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert "Traceback" not in out.stderr, out.stderr
    return out.returncode, json.loads(out.stdout)


def security_faults(db: Path) -> dict[str, dict[str, Any]]:
    _, listed = fleet(db, "faults", "--security")
    return {f["problem"]: f for f in listed["faults"]}


def work_orders(db: Path) -> dict[int, dict[str, Any]]:
    _, queue = fleet(db, "swaps")
    return {w["fault_id"]: w for w in queue["swaps"]}


def test_a_weak_controller_is_a_critical_fault_with_a_work_order_until_an_audit_sees_it_fixed(
    sims: dict[str, int], tmp_path: Path
) -> None:
    db = tmp_path / "inv.db"
    engine = one_server_db(db)
    point_at(engine, sims[WEAK], USER[WEAK])

    code, report = fleet(db, "audit", "bmc")
    assert code == 2
    codes = {f["code"] for f in report["findings"]}
    assert {"anonymous-login", "cipher-zero"} <= codes
    assert report["recorded"]["faults_opened"] == report["recorded"]["work_orders"] == len(codes)

    faults = security_faults(db)
    assert set(faults) == codes
    anon = faults["anonymous-login"]
    assert (anon["severity"], anon["kind"], anon["source"], anon["slot"]) == ("critical", "security", "audit", "BMC")
    assert "user 1" in anon["evidence"]
    _, everything = fleet(db, "faults")
    assert anon["id"] in {f["id"] for f in everything["faults"]}  # `fleet faults` lists them with the others
    order = work_orders(db)[anon["id"]]
    assert order["critical"] and order["state"] == "planned" and order["part_number"] is None
    assert "user 1" in order["note"]

    # Only a report: nothing opened or closed.
    _, dry = fleet(db, "audit", "bmc", "--no-record")
    assert dry["recorded"] is None and security_faults(db) == faults

    # A controller that does not answer is not a fixed one: its faults stay as they are.
    point_at(engine, free_port(), USER[WEAK])
    code, report = fleet(db, "audit", "bmc", "--timeout", "0.5")
    assert code == 1 and report["errors"] and report["recorded"]["faults_resolved"] == 0
    assert {p: f["id"] for p, f in security_faults(db).items()} == {p: f["id"] for p, f in faults.items()}

    point_at(engine, sims[HARDENED], USER[HARDENED])
    code, report = fleet(db, "audit", "bmc")
    after = security_faults(db)
    assert "anonymous-login" not in after and set(after) == {"cipher-zero"}  # the simulator's limit, kept
    assert after["cipher-zero"]["id"] == faults["cipher-zero"]["id"]
    assert report["recorded"]["faults_resolved"] == len(codes) - 1 and report["recorded"]["faults_opened"] == 0
    assert anon["id"] not in work_orders(db)
    with read_session(engine) as s:
        fault = s.get(Fault, anon["id"])
        swap = s.exec(select(Swap).where(Swap.fault_id == anon["id"])).one()
    assert fault is not None and fault.resolution == "recovered" and swap.state == SwapState.DONE


async def test_the_console_shows_security_faults_and_their_work_orders(sims: dict[str, int], tmp_path: Path) -> None:
    engine = make_engine(str(tmp_path / "inv.db"))
    upgrade(engine)
    scene = build_scene(engine)
    with write_session(engine) as s:
        for server in s.exec(select(Server)).all():
            server.controller_protocol = "none"  # only the one below is audited
        weak = s.get(Server, scene.psu_server)
        assert weak is not None
        weak.controller_protocol, weak.controller_port, weak.controller_user = "ipmi", sims[WEAK], USER[WEAK]
    run_audit(engine, site=None, timeout=2.0, logins=None, now=NOW, actor="audit:test")
    with read_session(engine) as s:
        security = {f.id: f for f in s.exec(select(Fault).where(Fault.kind == "security")).all()}
        orders = {sw.id: sw for sw in s.exec(select(Swap).where(Swap.fault_id.in_(security))).all()}  # type: ignore[attr-defined]
    anon = next(i for i, f in security.items() if f.problem == "anonymous-login")

    app = console(engine, view="faults")
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one("#faults-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        shown = {int(k) for k, _ in table.shown}
        assert scene.psu_fault in shown and set(security) <= shown
        await pilot.press("x")
        await settle(pilot, app, lambda: scene.psu_fault not in {int(k) for k, _ in table.shown})
        assert {int(k) for k, _ in table.shown} == set(security)
        assert "security faults" in status(app)
        row = dict(table.shown)[str(anon)]
        assert "CRIT" in str(row[0]) and "BMC" in [str(c) for c in row] and "audit" in [str(c) for c in row]
        await pilot.press("x")
        await settle(pilot, app, lambda: scene.psu_fault in {int(k) for k, _ in table.shown})

        await pilot.press("3")
        queue = app.query_one("#queue-table", LiveTable)
        await settle(pilot, app, lambda: set(map(str, orders)) <= {k for k, _ in queue.shown})
        anon_order = next(str(i) for i, sw in orders.items() if sw.fault_id == anon)
        queue.move_cursor(row=[k for k, _ in queue.shown].index(anon_order))
        await settle(pilot, app, lambda: "user 1" in str(app.query_one("#queue-detail").render()))
        assert "security: anonymous-login" in str(app.query_one("#queue-detail").render())
        await pilot.press("d")  # no serial to ask for: the audit is the verification
        await settle(pilot, app, lambda: any("security work order" in n.message for n in app._notifications))
        assert any("next BMC audit closes it" in n.message for n in app._notifications)
        with read_session(engine) as s:
            assert s.get(Swap, int(anon_order)).state == SwapState.PLANNED  # type: ignore[union-attr]


def test_the_sweep_audits_once_a_week(sims: dict[str, int], tmp_path: Path) -> None:
    engine = one_server_db(tmp_path / "inv.db")
    point_at(engine, sims[WEAK], USER[WEAK])
    clock = FrozenClock(datetime(2026, 11, 2, 3, 0, tzinfo=UTC))
    settings = Settings(audit_every_days=7, poll_timeout_s=2.0, ipmi_bind="127.0.0.1")

    first = run_sweep(engine, settings, clock=clock, services=False)
    assert first.audit is not None and first.audit.controllers == 1 and first.audit.faults_opened >= 2
    assert first.to_dict()["audit"]["faults_opened"] == first.audit.faults_opened
    assert first.critical_servers == []  # the sweep's status stays the hardware's health

    clock.advance(timedelta(days=6, hours=23))
    assert run_sweep(engine, settings, clock=clock, services=False).audit is None  # within the week

    clock.advance(timedelta(hours=1))
    again = run_sweep(engine, settings, clock=clock, services=False).audit
    assert again is not None and again.faults_opened == 0 and again.faults_resolved == 0  # still there: kept
    with read_session(engine) as s:
        still = s.exec(select(Fault).where(Fault.kind == "security", Fault.resolved_at == None)).all()  # noqa: E711
    assert len(still) == first.audit.faults_opened
