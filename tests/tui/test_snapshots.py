"""Every view at 80x24 (on-call over SSH) and 120x40, on the scene with a frozen clock: the screens themselves.

Update after a deliberate change with `pytest tests/tui/test_snapshots.py --snapshot-update`, and look at the diff.
"""

from __future__ import annotations

import time

import pytest

from fleet.clock import FrozenClock
from fleet.config import Settings
from fleet.store.db import make_engine
from fleet.store.migrate import upgrade
from fleet.tui.app import make_app
from fleet.tui.detail import ServerScreen
from fleet.tui.views import VIEWS
from tests.tui.scene import NOW, build_scene

SIZES = [(80, 24), (120, 40)]


def scene_app(tmp_path, view: str):
    engine = make_engine(str(tmp_path / "inv.db"))
    upgrade(engine)
    scene = build_scene(engine)
    # A refresh far away and a frozen clock: what is drawn depends on the data only.
    app = make_app(engine, FrozenClock(NOW), settings=Settings(), view=view, refresh_s=3600, actor="marie",
                   poll_server=None)  # fmt: skip
    return app, scene


async def loaded(pilot) -> None:
    app = pilot.app
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
        if app.view.data is not None:
            break
    await measured(pilot)


async def measured(pilot) -> None:
    # A table measures its columns when its rows arrive (in `sync`); one pause lets the last paint land.
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("view", [v.view_id for v in VIEWS])
def test_view(snap_compare, tmp_path, view, size):
    app, _ = scene_app(tmp_path, view)
    assert snap_compare(app, terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_server_detail(snap_compare, tmp_path, size):
    app, scene = scene_app(tmp_path, "servers")

    async def open_detail(pilot) -> None:
        await loaded(pilot)
        pilot.app.push_screen(ServerScreen(scene.psu_server))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (
            isinstance(pilot.app.screen, ServerScreen) and pilot.app.screen.detail is not None
        ):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause(0.05)
        await measured(pilot)

    assert snap_compare(app, terminal_size=size, run_before=open_detail)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_filtered_servers(snap_compare, tmp_path, size):
    app, _ = scene_app(tmp_path, "servers")

    async def filtered(pilot) -> None:
        await loaded(pilot)
        # Enter hands the keys back to the table: no blinking cursor in the picture.
        await pilot.press("slash", *"par1 ok", "enter")
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=filtered)
