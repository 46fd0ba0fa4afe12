"""The console's read models on both engines, checked against the scene's known facts (not against their output)."""

from __future__ import annotations

from datetime import timedelta

from fleet.config import Settings
from fleet.store.db import read_session
from fleet.views.dashboard import load_dashboard
from fleet.views.faults import fault_rows
from fleet.views.queue import work_queue
from fleet.views.server import load_server_detail
from fleet.views.stock import load_stock_board
from fleet.views.timeline import load_timeline
from tests.tui.scene import DETECTED, NOW, build_scene


def test_dashboard_counts_per_site(engine):
    scene = build_scene(engine)
    with read_session(engine) as s:
        d = load_dashboard(s, now=NOW, settings=Settings())
    by = {x.code: x for x in d.sites}
    # The scene puts every third server in NYC1: web00, 03, 06, 09.
    assert by["NYC1"].servers == 4 and by["PAR1"].servers == 8
    assert by["PAR1"].health["critical"] == 1 and by["PAR1"].health["warning"] == 1
    assert by["NYC1"].health["unknown"] == 1  # web03: timeout
    assert by["PAR1"].faults == {"critical": 1, "non-critical": 2}
    assert by["PAR1"].unacknowledged == 2  # the disk fault was acknowledged by Marie
    assert [w.swap_id for w in d.swaps] == [scene.psu_swap, scene.disk_swap]  # the one with a hard limit first
    assert d.swaps[0].hard_limit_at == DETECTED + timedelta(hours=4)
    assert {(a.site, a.kind) for a in d.stock_alerts} == {("PAR1", "psu"), ("PAR1", "fan")}
    assert d.last_sweep is not None and d.last_sweep.unreachable == 1


def test_work_queue_has_where_what_and_which_bin(engine):
    scene = build_scene(engine)
    with read_session(engine) as s:
        queue = work_queue(s, now=NOW, settings=Settings())
        maries = work_queue(s, now=NOW, settings=Settings(), technician="Marie")
        toms = work_queue(s, now=NOW, settings=Settings(), technician="Tom")
    first = queue[0]
    assert (first.swap_id, first.hostname, first.slot) == (scene.psu_swap, scene.psu_server_host, "PSU1")
    assert (first.site, first.part_number, first.bin) == ("PAR1", "0PJMDN", "A-01-3")
    assert first.old_serial == scene.old_psu_serial
    assert "not backed up" in (queue[1].warning or "")
    # Marie: her swap and the unassigned one at her site; Tom (NYC1) has none.
    assert [w.swap_id for w in maries] == [scene.psu_swap, scene.disk_swap]
    assert toms == []


def test_faults_stock_timeline_detail(engine):
    scene = build_scene(engine)
    settings = Settings()
    with read_session(engine) as s:
        faults = fault_rows(s, now=NOW, settings=settings)
        board = load_stock_board(s, now=NOW, settings=settings)
        timeline = load_timeline(s, now=NOW)
        detail = load_server_detail(s, scene.psu_server)
    assert faults[0].id == scene.psu_fault and faults[0].severity == "critical"
    assert faults[0].ack_due_at == DETECTED + timedelta(minutes=settings.ack_within_min)
    assert faults[0].hard_limit_at == DETECTED + timedelta(minutes=settings.critical_limit_min)
    assert all(f.hard_limit_at is None for f in faults if f.severity != "critical")
    assert [x.low for x in board.levels[:2]] == [True, True] and not any(x.low for x in board.levels[2:])
    assert [r.fault_id for r in board.reservations] == [scene.psu_fault]
    assert [(t.from_site, t.to_site, t.state) for t in board.transfers] == [("NYC1", "PAR1", "in_transit")]
    assert [m.serial for m in board.rmas] == ["PSU-OLD-7"]
    assert [(x.technician, x.swap_id) for x in timeline.slots] == [("Marie", scene.psu_swap), ("", scene.disk_swap)]
    assert [w.state for w in timeline.windows] == ["proposed", "proposed"]
    assert detail.sensors[0].state == "critical"  # the failing sensor is listed first
    assert {c.serial for c in detail.components} >= {scene.old_psu_serial}
    assert [f.id for f in detail.faults] == [scene.psu_fault]
    assert any("critical" in h.what for h in detail.history)
