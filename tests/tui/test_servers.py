"""The first console under Textual's pilot: it starts, lists, filters and quits."""

from __future__ import annotations

import time

from textual.widgets import Static

from fleet.store.db import make_engine
from fleet.store.migrate import upgrade
from fleet.tui.app import make_app
from fleet.tui.livetable import LiveTable
from tests.factories import make_fleet


def fleet_engine(tmp_path, servers: int):
    engine = make_engine(str(tmp_path / "inv.db"))
    upgrade(engine)
    make_fleet(engine, servers=servers)
    return engine


async def wait_for_rows(pilot, table: LiveTable, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while table.row_count == 0 and time.monotonic() < deadline:
        await pilot.pause(0.05)


async def test_starts_filters_and_quits_at_80x24(tmp_path):
    app = make_app(fleet_engine(tmp_path, servers=30))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(LiveTable)
        await wait_for_rows(pilot, table)
        assert table.row_count == 30
        await pilot.press("slash", *"nyc1")
        await pilot.pause()
        sites = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert sites == ["NYC1"] * 15
        assert "15 of 30 servers" in str(app.query_one("#status", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 30
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 or app.return_code is None
    assert not app.is_running


async def test_q_typed_in_the_filter_is_a_letter_not_quit(tmp_path):
    app = make_app(fleet_engine(tmp_path, servers=5))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_rows(pilot, app.query_one(LiveTable))
        await pilot.press("slash", "q")
        await pilot.pause()
        assert app.is_running


async def test_filtering_ten_thousand_servers(tmp_path):
    app = make_app(fleet_engine(tmp_path, servers=10_000))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(LiveTable)
        await wait_for_rows(pilot, table, timeout=30)
        # Every server is a row (drawn only when on screen): End reaches the last of the 10,000.
        assert table.row_count == 10_000
        await pilot.press("2", "end")
        await pilot.pause()
        last_key, last_cells = table.shown[-1]
        assert table.selected_key == last_key and table.cursor_row == 9_999
        bottom = "".join(seg.text for seg in table.render_line(table.size.height - 1))
        assert str(last_cells[1]) in bottom
        await pilot.press("slash", *"srv0999")
        await pilot.pause()
        hosts = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        # srv09990 .. srv09999: computed from the factory's naming, not read from the screen.
        assert sorted(h.split(".")[0] for h in hosts) == [f"srv{n:05d}" for n in range(9990, 10000)]
