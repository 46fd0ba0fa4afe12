"""At 80x24 every view shows its decisive columns, whole: each table chooses its columns for the width it has."""

from __future__ import annotations

import pytest

from fleet.tui.livetable import LiveTable
from tests.tui.test_flows import console, scene_engine, settle

# What the on-call engineer must see in each view (from the issue: state first; severity, deadline, state, LOW).
DECISIVE = {
    "dashboard": ("dash-swaps", ["to limit", "sev", "host", "slot", "state"]),
    "servers": ("servers-table", ["health", "host", "site"]),
    "queue": ("queue-table", ["left", "sev", "host", "slot", "state", "tech", "warning"]),
    "faults": ("faults-table", ["sev", "ack in", "limit", "state", "host", "slot", "site", "source"]),
    "stock": ("stock-levels", ["low", "site", "part", "avail"]),
    "schedule": ("schedule-slots", ["technician", "start (site time)", "host", "slot", "state"]),
    "sla": ("sla-table", ["section", "figure", "value"]),
}


@pytest.mark.parametrize("view", list(DECISIVE))
async def test_the_decisive_columns_are_on_screen_at_80_columns(tmp_path, view):
    engine, _ = scene_engine(tmp_path)
    app = console(engine, view=view)
    table_id, names = DECISIVE[view]
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(f"#{table_id}", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        header = "".join(seg.text for seg in table.render_line(0))
        shown = [table.cols[i].name for i in table.shown_cols]
        assert all(n in shown for n in names), shown
        # ... and within the 80 columns, not scrolled off to the right.
        assert len(header.rstrip()) <= table.size.width
        for n in names:
            assert n in header
        # Every cell of those columns is whole: its column is as wide as its longest value.
        for i in table.shown_cols:
            if table.cols[i].name in names:
                longest = max(len(str(cells[i])) for _, cells in table.shown)
                assert table.widths[i] >= longest


def test_sections_share_the_height_by_what_they_hold():
    from fleet.tui.views import share

    # 23 stock alerts, 1 swap, 3 sites in 30 lines: the small ones get what they need, the alerts the rest.
    assert share(30, [4, 2, 24]) == [4, 2, 24]
    assert share(20, [4, 2, 24]) == [4, 2, 14]
    # An empty table takes its header and one line, never a third of the screen.
    assert share(30, [1, 1, 40]) == [2, 2, 26]
    # Two long ones split what is left evenly.
    assert share(30, [4, 50, 50]) == [4, 13, 13]


async def test_dashboard_at_120x40_shows_every_row_it_has_room_for(tmp_path):
    engine, _ = scene_engine(tmp_path)
    app = console(engine, view="dashboard")
    async with app.run_test(size=(120, 40)) as pilot:
        tables = [app.query_one(f"#{i}", LiveTable) for i in ("dash-sites", "dash-swaps", "dash-stock")]
        await settle(pilot, app, lambda: all(t.row_count for t in tables))
        await pilot.pause(0.1)
        for t in tables:
            # All rows on screen (the scene is small), and no table padded with blank lines beyond its content.
            assert t.size.height == max(2, t.row_count + 1), (t.id, t.size.height, t.row_count)
