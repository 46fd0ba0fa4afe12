"""The last unit is reserved once, even when two consoles and the sweep ask in the same instant.

Several processes, each with its own engine, start every round together on a barrier; each round offers a fresh
last unit (a stock row with on hand 1) to one fault per process. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
import time

from sqlalchemy import func
from sqlmodel import select

from fleet.db import read_session, write_session
from fleet.models import Reservation, Stock
from tests.stock import helpers as h
from tests.stock.racer import race

ROUNDS = 200
RACERS = ("console-1", "console-2", "sweep")


def test_last_unit_is_reserved_once_under_a_race(engine, db_url):
    # All rounds prepared up front: round r has part RACE-r with one unit at PAR1 and one fault per racer.
    faults: dict[str, list[int]] = {name: [] for name in RACERS}
    stock_ids = []
    with write_session(engine) as s:
        par = h.site(s, "PAR1")
        model = h.server_model(s)
        servers = {name: h.server(s, par, model) for name in RACERS}
        for r in range(ROUNDS):
            part = h.part(s, f"RACE-{r}", fits=[model])
            stock_ids.append(h.stock(s, par, part, 1).id)
            for name, srv in servers.items():
                h.component(s, srv, f"PSU{r}", part)
                faults[name].append(h.fault(s, srv, f"PSU{r}").id)

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(RACERS))
    results = ctx.Queue()
    procs = [ctx.Process(target=race, args=(db_url, name, faults[name], barrier, results)) for name in RACERS]
    started = time.monotonic()
    for p in procs:
        p.start()
    got = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    elapsed = time.monotonic() - started
    errors = [(name, err) for name, _, err in got if err]
    assert not errors, errors

    by_racer = {name: statuses for name, statuses, _ in got}
    winners_per_round = [sum(by_racer[name][r] == "reserved" for name in RACERS) for r in range(ROUNDS)]
    double = sum(1 for n in winners_per_round if n > 1)
    lost = sum(1 for n in winners_per_round if n == 0)
    with read_session(engine) as s:
        rows = s.exec(select(Stock).where(Stock.id.in_(stock_ids))).all()  # type: ignore[union-attr]
        negative = sum(1 for st in rows if st.on_hand < 0 or st.reserved > st.on_hand)
        reserved_total = sum(st.reserved for st in rows)
        active = s.exec(select(func.count()).select_from(Reservation).where(Reservation.state == "active")).one()
    wins = {name: by_racer[name].count("reserved") for name in RACERS}
    print(f"\n{engine.dialect.name}: {ROUNDS} rounds x {len(RACERS)} racers in {elapsed:.1f} s, wins {wins}")

    assert double == 0, f"{double} rounds reserved the last unit twice"
    assert lost == 0, f"{lost} rounds left the last unit unreserved"
    assert negative == 0
    assert reserved_total == ROUNDS and active == ROUNDS
