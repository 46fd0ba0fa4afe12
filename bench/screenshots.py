"""SVG screenshots of every console view, for the README: the sample fleet, a frozen clock, and one bad night on top.

    python bench/screenshots.py [OUT_DIR]        (default: screenshots/)

The night goes through the real services, in order, as the sweep would: a support ticket says a server is down
(both PSUs), another reports a failing disk; spares are reserved; swaps are planned. The console then shows the
fault -> spare -> swap chain. Same clock, same sample: the same pictures every time.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine
from sqlmodel import col, select

from fleet.clock import FrozenClock
from fleet.config import Settings
from fleet.faults import open_ticket
from fleet.faults.security import Exposure, apply_audit
from fleet.sim.history import ANCHOR
from fleet.sim.sample import load_sample
from fleet.stock.reserve import reserve_for_fault
from fleet.store.db import make_engine, write_session
from fleet.store.migrate import upgrade
from fleet.store.models import Component, Outage, Server, Site, SweepRun
from fleet.swaps.rounds import run_planning
from fleet.tui.app import FleetApp, make_app
from fleet.tui.detail import ServerScreen
from fleet.tui.views import VIEWS

NOW = ANCHOR + timedelta(hours=2, minutes=35)  # Sunday 1 November 2026, 03:35 in Paris
SIZES = {"": (120, 40), "-80x24": (80, 24)}


def _server_with(session, site: str, slot_prefix: str, plan: str = "dedicated") -> tuple[str, str, int]:
    row = session.exec(
        select(Server.hostname, Component.slot, Server.id)
        .join(Component, col(Component.server_id) == Server.id)
        .join(Site, col(Site.id) == Server.site_id)
        .where(Site.code == site, Server.plan == plan, col(Component.slot).startswith(slot_prefix),
               col(Component.removed_at).is_(None))
        .order_by(Server.hostname, Component.slot)
    ).first()  # fmt: skip
    assert row is not None, f"the sample has no {plan} server with a {slot_prefix} at {site}"
    return row


def bad_night(engine: Engine, settings: Settings) -> int:
    """Open the night's faults through the fault service, reserve spares, plan swaps. Returns the down server."""
    with write_session(engine) as s:
        down, psu, down_id = _server_with(s, "PAR1", "PSU")
        disk_host, disk, _ = _server_with(s, "PAR1", "Disk")
        fan_host, fan, _ = _server_with(s, "NYC1", "FAN")
        t1 = open_ticket(s, down, psu, "server down: both power supplies dead", critical=True,
                         at=NOW - timedelta(minutes=25), now=NOW, by="support")  # fmt: skip
        t2 = open_ticket(s, disk_host, disk, "RAID reports predictive failure on this disk", critical=False,
                         at=NOW - timedelta(hours=20), now=NOW, by="support")  # fmt: skip
        t3 = open_ticket(s, fan_host, fan, "fan at 0 RPM", critical=False, at=NOW - timedelta(hours=2), now=NOW,
                         by="support")  # fmt: skip
        ids = [t.fault.id for t in (t1, t2, t3)]
    for fault_id in ids:
        with write_session(engine) as s:
            reserve_for_fault(s, fault_id, now=NOW, settings=settings, actor="sweep")  # type: ignore[arg-type]
    with write_session(engine) as s:
        run_planning(s, now=NOW, settings=settings, actor="sweep")
    monitored_night(engine)
    return down_id


def monitored_night(engine: Engine) -> None:
    """The sweep's record of the night: a run every 5 minutes since the month began, a network outage that lasted
    85 minutes (one credit period) and one still open, and the weekly BMC audit's finding on one controller."""
    month = NOW.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with write_session(engine) as s:
        at = month
        while at <= NOW:
            s.add(SweepRun(started_at=at, finished_at=at + timedelta(seconds=40), servers=324, polled=324, status=0))
            at += timedelta(minutes=5)
        _, _, web_id = _server_with(s, "NYC1", "Disk")
        _, _, dns_id = _server_with(s, "PAR1", "FAN")
        s.add(Outage(server_id=web_id, service="web", cause="network", start_at=month + timedelta(minutes=20),
                     end_at=month + timedelta(minutes=105)))  # fmt: skip
        s.add(Outage(server_id=dns_id, service="dns", cause="network", start_at=NOW - timedelta(minutes=25)))
        bmc = s.get(Server, web_id)
        assert bmc is not None
        cipher0 = Exposure(
            "cipher-zero", True, "cipher suite 0 accepted: a session as 'admin' without its password",
            "RMCP+ Open Session with authentication none", "disable cipher suite 0 on the LAN channel",
        )  # fmt: skip
        apply_audit(s, bmc, [cipher0], {"cipher-zero"}, now=NOW - timedelta(hours=1), actor="audit")


async def _settled(app: FleetApp, pilot) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
        if app.view.data is not None and (not isinstance(app.screen, ServerScreen) or app.screen.detail):
            break
    await _measured(app, pilot)


async def _measured(app: FleetApp, pilot) -> None:
    # A table measures its columns when its rows arrive (in `sync`); one pause lets the last paint land.
    await pilot.pause(0.2)


async def shoot(engine: Engine, out: Path, settings: Settings, down_id: int) -> list[Path]:
    written = []
    for suffix, size in SIZES.items():
        for view in VIEWS:
            app = make_app(engine, FrozenClock(NOW), settings=settings, view=view.view_id, refresh_s=3600,
                           poll_server=None, actor="marie")  # fmt: skip
            async with app.run_test(size=size) as pilot:
                await _settled(app, pilot)
                path = out / f"{view.view_id}{suffix}.svg"
                app.save_screenshot(path.name, str(out))
                written.append(path)
        app = make_app(engine, FrozenClock(NOW), settings=settings, view="servers", refresh_s=3600, poll_server=None)
        async with app.run_test(size=size) as pilot:
            await _settled(app, pilot)
            app.push_screen(ServerScreen(down_id))
            await _settled(app, pilot)
            path = out / f"server{suffix}.svg"
            app.save_screenshot(path.name, str(out))
            written.append(path)
    return written


def main(argv: list[str]) -> None:
    out = Path(argv[0] if argv else "screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(str(Path(tmp) / "night.db"))
        upgrade(engine)
        load_sample(engine)
        down_id = bad_night(engine, settings)
        for path in asyncio.run(shoot(engine, out, settings, down_id)):
            print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)
        engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
