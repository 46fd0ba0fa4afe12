"""The demo's story end to end, without the screen: simulated controllers break parts, a sweep opens the faults and
reserves spares, the technician swaps the parts, and one re-poll verifies the server is healthy again."""

from __future__ import annotations

from sqlmodel import select

from fleet.clock import utcnow
from fleet.sim.demo import Demo
from fleet.store.db import read_session, write_session
from fleet.store.models import Component, Fault, Rma, Server, Swap, Technician
from fleet.swaps.work import complete_swap
from fleet.sweep.run import poll_server, run_sweep


def test_fault_spare_swap_verify(tmp_path):
    with Demo(folder=tmp_path / "demo", background=False) as world:
        assert world.engine is not None and world.settings is not None
        _only_the_story(world)
        report = run_sweep(world.engine, world.settings)
        assert report.faults_opened >= 5 and report.spares_reserved >= 1
        assert report.status == 2  # the story includes a server that lost all its power supplies
        _outage_story(world, report.outages_opened)

        with read_session(world.engine) as s:
            critical = s.exec(select(Fault).where(Fault.severity == "critical", Fault.resolved_at.is_(None))).all()
            down = next(f.server_id for f in critical if f.kind == "psu")
            faults = s.exec(select(Fault).where(Fault.server_id == down, Fault.resolved_at.is_(None))).all()
            swaps = {w.fault_id: w for w in s.exec(select(Swap).where(Swap.server_id == down))}
            tech = s.exec(select(Technician)).first()
        assert {f.slot for f in faults} == {"PSU1", "PSU2"}
        assert all(swaps[f.id].critical and swaps[f.id].hard_limit_at for f in faults)

        for n, fault in enumerate(faults):
            new_serial = f"DEMO-NEW-{n}"
            with write_session(world.engine) as s:
                complete_swap(s, swaps[fault.id].id, new_serial=new_serial, technician=tech.name, now=utcnow(),
                              actor="test")  # fmt: skip
            world.repair(down, fault.slot, new_serial)  # the technician's hands

        check = poll_server(world.engine, down, settings=world.settings)
        assert check.error is None and check.still_open == 0 and check.health == "ok", str(check)
        with read_session(world.engine) as s:
            assert s.get(Server, down).health == "ok"
            installed = select(Component).where(Component.server_id == down, Component.removed_at.is_(None))
            serials = {c.slot: c.serial for c in s.exec(installed)}
            assert serials["PSU1"] == "DEMO-NEW-0" and serials["PSU2"] == "DEMO-NEW-1"
            assert len(s.exec(select(Rma).where(Rma.server_id == down, Rma.state == "open")).all()) == 2


def _only_the_story(world: Demo) -> None:
    """The servers the story is about (broken parts, the outage script) stay in service; the healthy rest of the
    sample is decommissioned, so the sweep polls a few dozen controllers, not three hundred that would show nothing."""
    with read_session(world.engine) as s:
        scripted = {x.id for x in s.exec(select(Server).where(Server.hostname.in_(list(world.outages))))}
    assert world.first and len(scripted) == 2, "the story lost its broken servers or its outages"
    keep = set(world.first) | scripted
    with write_session(world.engine) as s:
        for server in s.exec(select(Server).where(Server.id.not_in(keep))):
            server.status = "decommissioned"
            s.add(server)


def _outage_story(world: Demo, opened: int) -> None:
    """The demo's outage script: a server cut from the network 75 minutes before the start (monitored all along)
    shows as a network outage with its credit line; a web server answering 503 is a service outage, no credit."""
    from fleet.sla.report import sla_report

    assert world.engine is not None and world.settings is not None
    cut, web = world.outages
    assert opened == 1  # the failing web server; the cut server's outages were already open and stay single
    now = utcnow()
    with read_session(world.engine) as s:
        rep = sla_report(s, now.strftime("%Y-%m"), now=now, settings=world.settings)
    causes = {(o["server"], o["service"]): o["cause"] for o in rep["outages"] if o["end"] is None}
    assert causes == {(cut, "web"): "network", (cut, "dns"): "network", (web, "web"): "service"}
    (line,) = [c for c in rep["credits"]["servers"] if c["server"] == cut]
    assert line["periods"] == 1 and line["credit_cents"] > 0 and line["outages"][0]["ongoing"]
    assert web not in {c["server"] for c in rep["credits"]["servers"]}
