"""The console's flows under Textual's pilot, on the scene with a frozen clock: what a technician does and sees."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlmodel import select

from fleet.clock import FrozenClock
from fleet.config import Settings
from fleet.store.db import make_engine, read_session, write_session
from fleet.store.migrate import upgrade
from fleet.store.models import Audit, Component, Fault, Server, Stock, Swap, Ticket
from fleet.tui.app import FleetApp, make_app
from fleet.tui.livetable import LiveTable
from tests.tui.scene import NOW, build_scene


def scene_engine(tmp_path):
    engine = make_engine(str(tmp_path / "inv.db"))
    upgrade(engine)
    return engine, build_scene(engine)


def console(engine, **kw) -> FleetApp:
    return make_app(engine, FrozenClock(NOW), settings=Settings(), actor="marie", **kw)


async def settle(pilot, app: FleetApp, until=lambda: True, timeout: float = 10.0) -> None:
    """Let workers finish and their messages be drawn, until `until()` holds."""
    deadline = time.monotonic() + timeout
    while True:
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
        if until() or time.monotonic() > deadline:
            return


def cell(app: FleetApp, table_id: str, key: str, column: str) -> str:
    """The text of one cell, by row key and column name (columns move; names say what is checked)."""
    table = app.query_one(f"#{table_id}", LiveTable)
    index = [c.name for c in table.cols].index(column)
    return str(dict(table.shown)[key][index])


def status(app: FleetApp) -> str:
    return str(app.query_one("#status").render())


async def test_acknowledge_a_fault(tmp_path):
    engine, scene = scene_engine(tmp_path)
    app = console(engine, view="faults")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#faults-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        assert table.selected_key == str(scene.psu_fault)  # critical first
        assert (
            cell(app, "faults-table", str(scene.psu_fault), "ack in") == "0:35:00"
        )  # an hour to look at it, 25 min gone
        await pilot.press("a")
        await settle(pilot, app, lambda: cell(app, "faults-table", str(scene.psu_fault), "ack in") == "marie")
        assert cell(app, "faults-table", str(scene.psu_fault), "ack in") == "marie"
    with read_session(engine) as s:
        fault = s.get(Fault, scene.psu_fault)
        assert fault is not None and fault.acknowledged_at == NOW and fault.acknowledged_by == "marie"
        actions = [a.action for a in s.exec(select(Audit).where(Audit.entity_id == scene.psu_fault)).all()]
        assert any(a.startswith("fault.ack") for a in actions)


async def test_acknowledging_an_acknowledged_fault_keeps_the_first(tmp_path):
    engine, scene = scene_engine(tmp_path)
    app = console(engine, view="faults")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#faults-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        await pilot.press("down")  # the disk fault, acknowledged by Marie yesterday
        assert table.selected_key == str(scene.disk_fault)
        await pilot.press("a")
        await settle(pilot, app, lambda: bool(app._notifications))
        assert any("was acknowledged by Marie" in n.message for n in app._notifications)
        assert cell(app, "faults-table", str(scene.disk_fault), "ack in") == "Marie"
    with read_session(engine) as s:
        fault = s.get(Fault, scene.disk_fault)
        assert fault is not None and fault.acknowledged_by == "Marie"


async def test_escalate_a_minor_fault_starts_its_clock(tmp_path):
    engine, _ = scene_engine(tmp_path)
    app = console(engine, view="faults")
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one("#faults-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        fan = next(k for k, cells in table.shown if "FAN3" in map(str, cells))
        table.move_cursor(row=[k for k, _ in table.shown].index(fan))
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, app, lambda: cell(app, "faults-table", fan, "limit") != "")
        # Critical from now: the 4 h hard limit counts from the escalation.
        assert cell(app, "faults-table", fan, "limit") == "4:00:00"
        assert cell(app, "faults-table", fan, "sev") == "CRIT"


async def test_swap_end_to_end_start_then_done_with_the_new_serial(tmp_path):
    engine, scene = scene_engine(tmp_path)
    polled: list[int] = []

    def poll_server(engine_, server_id: int) -> str:
        polled.append(server_id)
        return "PSU1 ok"

    repaired: list[tuple[int, str, str]] = []
    app = console(engine, view="queue", technician="Marie", poll_server=poll_server,
                  on_swap_done=lambda *args: repaired.append(args))  # fmt: skip
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#queue-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        assert table.selected_key == str(scene.psu_swap)
        detail = str(app.query_one("#queue-detail").render())
        assert "bin A-01-3" in detail and "PAR1 R02 U3" in detail
        await pilot.press("s")
        await settle(pilot, app, lambda: cell(app, "queue-table", str(scene.psu_swap), "state") == "in_progress")
        await pilot.press("d")
        await pilot.pause()
        await pilot.press(*scene.new_psu_serial, "enter")
        await settle(pilot, app, lambda: polled and str(scene.psu_swap) not in dict(table.shown))
        assert str(scene.psu_swap) not in dict(table.shown)  # done: off the queue
    assert polled == [scene.psu_server]  # done re-polls the server to verify
    assert repaired == [(scene.psu_server, "PSU1", scene.new_psu_serial)]  # the demo's hands, before the re-poll
    with read_session(engine) as s:
        swap = s.get(Swap, scene.psu_swap)
        assert swap is not None and swap.state == "done" and swap.new_serial == scene.new_psu_serial
        assert swap.old_serial == scene.old_psu_serial
        fault = s.get(Fault, scene.psu_fault)
        assert fault is not None and fault.resolved_at == NOW
        installed = s.exec(select(Component).where(Component.server_id == scene.psu_server, Component.slot == "PSU1",
                                                   Component.removed_at == None)).one()  # noqa: E711  # fmt: skip
        assert installed.serial == scene.new_psu_serial
        stock = s.get(Stock, scene.spare_stock)
        assert stock is not None and (stock.on_hand, stock.reserved) == (1, 0)  # the scene had 2 on hand, 1 reserved


async def test_done_without_a_poller_says_so(tmp_path):
    engine, scene = scene_engine(tmp_path)
    app = make_app(engine, FrozenClock(NOW), settings=Settings(), view="queue", poll_server=None, actor="marie")
    app.poller = None  # this build may or may not have a poll_server: the message is what is under test
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#queue-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press(*"SN-NEW-9", "enter")
        await settle(pilot, app, lambda: any("not available" in n.message for n in app._notifications))
        assert any("not available" in n.message for n in app._notifications)
    with read_session(engine) as s:
        swap = s.get(Swap, scene.psu_swap)
        assert swap is not None and swap.state == "done"


async def test_a_duplicate_serial_writes_nothing(tmp_path):
    engine, scene = scene_engine(tmp_path)
    app = console(engine, view="queue")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#queue-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        await pilot.press("d")
        await pilot.pause()
        # The serial of the PSU still installed beside the failed one: a label misread.
        await pilot.press(*scene.old_psu_serial.replace("PSU1", "PSU2"), "enter")
        await settle(pilot, app, lambda: any(n.severity == "error" for n in app._notifications))
        assert any("already recorded" in n.message for n in app._notifications)
    with read_session(engine) as s:
        swap = s.get(Swap, scene.psu_swap)
        stock = s.get(Stock, scene.spare_stock)
        assert swap is not None and swap.state == "planned"
        assert stock is not None and (stock.on_hand, stock.reserved) == (2, 1)


async def test_countdowns_tick_and_only_their_cells_are_rewritten(tmp_path):
    engine, scene = scene_engine(tmp_path)
    clock = FrozenClock(NOW)
    app = make_app(engine, clock, settings=Settings(), refresh_s=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#dash-swaps", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        assert cell(app, "dash-swaps", str(scene.psu_swap), "to limit") == "3:35:00"
        written = table.cells_written
        clock.advance(timedelta(seconds=1))
        app.tick()
        await pilot.pause()
        assert cell(app, "dash-swaps", str(scene.psu_swap), "to limit") == "3:34:59"
        assert cell(app, "dash-swaps", str(scene.psu_swap), "to target") == "0:34:59"
        assert table.cells_written - written == 2  # to limit, to target; nothing else repainted


async def test_refresh_follows_the_database_and_shows_the_age(tmp_path):
    engine, scene = scene_engine(tmp_path)
    clock = FrozenClock(NOW)
    app = make_app(engine, clock, settings=Settings(), view="servers", refresh_s=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#servers-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        assert "data 0s old" in status(app)
        # Another console (or the sweep) changes the database: the next refresh shows it, cell by cell.
        with write_session(engine) as s:
            srv = s.get(Server, scene.psu_server)
            assert srv is not None
            srv.health = "ok"
            s.add(srv)
        written = table.cells_written
        await settle(pilot, app, lambda: cell(app, "servers-table", str(scene.psu_server), "health") == "ok", timeout=5)
        assert cell(app, "servers-table", str(scene.psu_server), "health") == "ok"
        assert table.cells_written - written == 1
        clock.advance(timedelta(seconds=42))
        app.tick()
        assert "data 42s old" in status(app)


async def test_views_switch_with_keys_and_colon(tmp_path):
    engine, _ = scene_engine(tmp_path)
    app = console(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        from textual.widgets import ContentSwitcher

        switcher = app.query_one(ContentSwitcher)
        assert switcher.current == "dashboard"
        for key, view in zip("234567", ("servers", "queue", "faults", "stock", "schedule", "sla"), strict=True):
            await pilot.press(key)
            assert switcher.current == view
        await pilot.press("colon", *"fa", "enter")
        assert switcher.current == "faults"
        await pilot.press("colon", *"dash", "enter")
        assert switcher.current == "dashboard"
        await pilot.press("colon", *"nope", "enter")
        assert switcher.current == "dashboard" and app.is_running


async def test_server_detail_opens_with_enter_and_closes_with_escape(tmp_path):
    engine, scene = scene_engine(tmp_path)
    app = console(engine, view="servers")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#servers-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        await pilot.press("slash", *scene.psu_server_host, "enter", "enter")
        from fleet.tui.detail import ServerScreen

        await settle(pilot, app, lambda: isinstance(app.screen, ServerScreen) and app.screen.detail is not None)
        screen = app.screen
        assert isinstance(screen, ServerScreen) and screen.server_id == scene.psu_server
        sensors = screen.query_one("#detail-sensors", LiveTable)
        assert str(sensors.shown[0][1][0]) == "critical"  # failing first, state first
        components_table = screen.query_one("#detail-components", LiveTable)
        components = dict(components_table.shown)
        assert str(components["PSU1"][1]) == scene.old_psu_serial
        # End scrolls the components to the last one.
        components_table.focus()
        await pilot.press("end")
        await pilot.pause()
        assert components_table.cursor_row == components_table.row_count - 1
        assert components_table.scroll_y == max(0, components_table.row_count + 1 - components_table.size.height)
        await pilot.press("escape")
        assert not isinstance(app.screen, ServerScreen)


async def test_opens_on_an_empty_database(tmp_path):
    engine = make_engine(str(tmp_path / "empty.db"))
    upgrade(engine)
    app = console(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert "health is not measured" in str(app.query_one("#sweep-line").render())
        for key in "234567":
            await pilot.press(key)
            await settle(pilot, app)
            assert "cannot load" not in status(app)


async def test_a_database_that_fails_is_a_status_line(tmp_path):
    engine = make_engine(str(tmp_path / "not-migrated.db"))  # no tables at all
    app = console(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: "cannot load" in status(app))
        assert status(app).startswith("cannot load dashboard: ")
        assert app.is_running


async def test_open_a_ticket_from_the_faults_view(tmp_path):
    engine, scene = scene_engine(tmp_path)
    app = console(engine, view="faults")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#faults-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        await pilot.press("t")
        await pilot.pause()
        # The dialog is prefilled with the selected fault's host and slot: the customer's words follow.
        await pilot.press(*"customer says the server rebooted", "enter")
        await settle(pilot, app, lambda: any("ticket on" in n.message for n in app._notifications))
    with read_session(engine) as s:
        tickets = s.exec(select(Ticket)).all()
        assert [(t.server_id, t.slot, t.fault_id, t.opened_by) for t in tickets] == [
            (scene.psu_server, "PSU1", scene.psu_fault, "marie")
        ]


async def test_repoll_on_demand_runs_in_a_worker_with_the_selected_server(tmp_path):
    engine, scene = scene_engine(tmp_path)
    asked: list[int] = []
    app = console(engine, view="servers", poll_server=lambda _engine, server_id: asked.append(server_id) or "ok")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#servers-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        await pilot.press("slash", *scene.psu_server_host, "enter", "p")
        await settle(pilot, app, lambda: bool(asked))
    assert asked == [scene.psu_server]


async def test_refresh_never_overlaps_a_slow_read(tmp_path, monkeypatch):
    """dolphie's pattern: the next read is booked when the last one is drawn, so a slow database never piles up."""
    engine, _ = scene_engine(tmp_path)
    from fleet.tui import views

    running, most, reads = [0], [0], [0]
    original = views.ServersView.load

    def slow_load(self, session, **kw):
        running[0] += 1
        most[0] = max(most[0], running[0])
        time.sleep(0.15)
        try:
            return original(self, session, **kw)
        finally:
            running[0] -= 1
            reads[0] += 1

    monkeypatch.setattr(views.ServersView, "load", slow_load)
    app = make_app(engine, FrozenClock(NOW), settings=Settings(), view="servers", refresh_s=0.01)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: reads[0] >= 4, timeout=10)
    assert reads[0] >= 4 and most[0] == 1


async def test_every_action_is_in_the_command_palette(tmp_path):
    engine, _ = scene_engine(tmp_path)
    app = console(engine)
    from fleet.tui.commands import commands

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        actions = {a.split("(")[0] for _, _, a in commands(app)}
        bound = {b.action.split("(")[0] for b in app.BINDINGS if hasattr(b, "action")}  # type: ignore[union-attr]
        # Every key's action is reachable without the key (clear_filter is Escape's: it closes what is open).
        assert bound - {"clear_filter", "command"} <= actions
        await pilot.press("ctrl+p", *"acknowledge")
        await pilot.pause(0.3)
        from textual.command import CommandPalette

        assert isinstance(app.screen, CommandPalette)


async def test_no_color_keeps_severity_readable(tmp_path, monkeypatch):
    engine, scene = scene_engine(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    app = console(engine, view="faults")
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#faults-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        # Without colour, the word says it: critical, minor.
        assert cell(app, "faults-table", str(scene.psu_fault), "sev") == "CRIT"
        assert cell(app, "faults-table", str(scene.disk_fault), "sev") == "minor"


async def test_whose_queue_narrows_to_one_technician(tmp_path):
    engine, _ = scene_engine(tmp_path)
    app = console(engine, view="queue")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#queue-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count == 2)
        await pilot.press("w")
        await pilot.pause()
        await pilot.press(*"Tom", "enter")  # Tom works at NYC1: the scene's swaps are all at PAR1
        await settle(pilot, app, lambda: table.row_count == 0)
        assert table.row_count == 0 and "for Tom" in status(app)


async def test_two_consoles_share_one_database(tmp_path):
    """What one technician does, the other console shows at its next refresh, without being asked."""
    engine, scene = scene_engine(tmp_path)
    other_engine = make_engine(str(tmp_path / "inv.db"))  # a second process would open its own engine
    mine = console(engine, view="faults")
    theirs = make_app(other_engine, FrozenClock(NOW), settings=Settings(), view="faults", refresh_s=0.2, actor="tom")
    async with mine.run_test(size=(80, 24)) as pilot, theirs.run_test(size=(80, 24)) as their_pilot:
        table = mine.query_one("#faults-table", LiveTable)
        await settle(pilot, mine, lambda: table.row_count > 0)
        their_table = theirs.query_one("#faults-table", LiveTable)
        await settle(their_pilot, theirs, lambda: their_table.row_count > 0)
        await pilot.press("a")
        await settle(pilot, mine, lambda: cell(mine, "faults-table", str(scene.psu_fault), "ack in") == "marie")
        await settle(
            their_pilot, theirs, lambda: cell(theirs, "faults-table", str(scene.psu_fault), "ack in") == "marie"
        )
        assert cell(theirs, "faults-table", str(scene.psu_fault), "ack in") == "marie"
    other_engine.dispose()
