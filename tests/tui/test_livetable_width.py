"""A live table's cell that grows on refresh is shown whole: over a night the dashboard's counts go from 0 to 104."""

from __future__ import annotations

from textual.app import App, ComposeResult

from fleet.tui.livetable import LiveTable


class One(App[None]):
    def compose(self) -> ComposeResult:
        yield LiveTable(("site", "ok"))


async def test_a_count_that_grows_widens_its_column():
    app = One()
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.query_one(LiveTable)
        table.sync([("NYC1", ("NYC1", "0"))])
        await pilot.pause()
        table.sync([("NYC1", ("NYC1", "104"))])  # same row, one cell changed: an in-place update
        await pilot.pause()
        assert table.cells_written == 2 + 1
        line = "".join(seg.text for seg in table.render_line(1)).strip()
        assert line.split() == ["NYC1", "104"]
