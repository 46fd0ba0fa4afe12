"""Under `fleet demo`, a user causes an outage from the console's command palette (cut a server's network, break its
web server, restore it) and watches it appear in the SLA view at the next service check, with its cause."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from sqlmodel import col, select
from textual.widgets import OptionList

from fleet.clock import utcnow
from fleet.collectors.dispatch import poll_jobs
from fleet.sim.demo import Demo
from fleet.store.db import read_session
from fleet.store.models import Server
from fleet.sweep.ipmi_options import ipmi_options
from fleet.sweep.outages import check_services
from fleet.sweep.run import build_jobs
from fleet.tui.app import FleetApp, make_app
from fleet.tui.livetable import LiveTable


async def settle(pilot, app: FleetApp, until, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    """Let workers finish and their messages be drawn until `until()` holds (False when it never did)."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            return False
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
    return True


async def palette(pilot, app: FleetApp, words: str) -> None:  # type: ignore[no-untyped-def]
    """Run one palette command by typing its words, as a user does (ctrl+p, words, enter)."""
    await pilot.press("ctrl+p", *words)

    def hits() -> bool:
        found = app.screen.query(OptionList)
        return bool(found) and found.first().option_count > 0

    assert await settle(pilot, app, hits)
    await pilot.press("enter")


def lines(app: FleetApp) -> list[tuple[str, ...]]:
    return [tuple(str(c) for c in row) for _, row in app.query_one("#sla-table", LiveTable).shown]


def the_next_service_check(world: Demo, servers: list[Server]) -> None:
    """What the demo's next sweep does for these servers: poll their controllers, then their web and DNS checks."""
    assert world.engine is not None and world.settings is not None
    settings = dataclasses.replace(world.settings, poll_timeout_s=2.0, service_timeout_s=2.0)
    with read_session(world.engine) as s:
        jobs, results = build_jobs(servers, s)
    results.update(poll_jobs(jobs, timeout=2.0, concurrency=len(jobs), ipmi_options=ipmi_options(settings)))
    check_services(world.engine, settings, servers, results, utcnow())


async def test_an_outage_caused_from_the_console_shows_in_the_sla_view(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Demo(folder=tmp_path / "demo", background=False) as world:
        assert world.engine is not None
        with read_session(world.engine) as s:
            cut, web = s.exec(
                select(Server)
                .where(col(Server.service_host).is_not(None), Server.plan == "dedicated", Server.status == "active",
                       Server.controller_protocol == "snmp", col(Server.hostname).not_in(list(world.outages)))
                .order_by(col(Server.id)).limit(2)
            ).all()  # fmt: skip
        app = make_app(world.engine, settings=world.settings, view="servers", actor="demo", demo=world)
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.query_one("#servers-table", LiveTable)
            assert await settle(pilot, app, lambda: table.row_count > 0)

            async def on_server(server: Server, words: str) -> None:
                table.move_cursor(row=[k for k, _ in table.shown].index(str(server.id)))
                await palette(pilot, app, words)
                assert await settle(pilot, app, lambda: any(server.hostname in n.message for n in app._notifications))

            await on_server(cut, "demo cut the network")
            await on_server(web, "demo break the web")
            await asyncio.to_thread(the_next_service_check, world, [cut, web])
            await pilot.press("7")  # the SLA view
            network, service = ("outage (network)", f"{cut.hostname} web"), ("outage (service)", f"{web.hostname} web")
            assert await settle(pilot, app, lambda: {network, service} <= {line[:2] for line in lines(app)}), lines(app)
            assert ("outage (network)", f"{cut.hostname} dns") in {line[:2] for line in lines(app)}

            await pilot.press("2")  # back to the servers, and the cut one answers again
            await on_server(cut, "demo restore")
            await asyncio.to_thread(the_next_service_check, world, [cut, web])
            await pilot.press("7")
            assert await settle(pilot, app, lambda: network not in {line[:2] for line in lines(app)}), lines(app)
            assert service in {line[:2] for line in lines(app)}  # the web server is still broken
