"""The simulators in a child process answer each caller its own question, also when the console asks from two
worker threads at once (the demo's palette actions run in workers)."""

from __future__ import annotations

import threading

from sqlmodel import select

from fleet.sim.process import SimProcess
from fleet.store.db import make_engine, write_session
from fleet.store.migrate import upgrade
from fleet.store.models import Server
from tests.conftest import free_port
from tests.factories import make_fleet


def test_two_threads_asking_at_once_each_get_their_own_answer(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    make_fleet(engine, servers=2, sites=("PAR1",))
    with write_session(engine) as s:
        servers = s.exec(select(Server).order_by(Server.id)).all()
        for server in servers:
            server.controller_port = free_port()
            server.controller_protocol = "ipmi"
            s.add(server)
        ports = [server.controller_port for server in servers]
    sim = SimProcess(sqlite_url, users={"admin": "pw"}, community="c", story=False, protocol="ipmi").start()
    try:
        sim.inject("127.0.0.1", "CPU1", "over-temperature", port=ports[0])
        wrong: list[str] = []

        def ask(port: int, broken: bool) -> None:
            for _ in range(300):
                answer = sim.problems("127.0.0.1", port=port)
                if bool(answer) != broken:
                    wrong.append(f"port {port}: {answer}")

        threads = [
            threading.Thread(target=ask, args=(ports[0], True)),
            threading.Thread(target=ask, args=(ports[1], False)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert wrong == []
    finally:
        sim.stop()
        engine.dispose()
