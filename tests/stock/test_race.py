"""The last unit is reserved once, even when two consoles and the sweep ask in the same instant.

Several processes, each with its own engine, start every round together on a barrier; each round offers a fresh
last unit (a stock row with on hand 1) to one fault per process. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
import time

from sqlalchemy import func
from sqlmodel import Session, select

from fleet.store.db import read_session, write_session
from fleet.store.models import Component, Fault, PartCompat, PartModel, Reservation, Stock
from tests.stock import helpers as h
from tests.stock.racer import race

ROUNDS = 200
SAME_FAULT_ROUNDS = 40
RACERS = ("console-1", "console-2", "sweep")


def prepare(s: Session, prefix: str, rounds: int, units: int, n_servers: int) -> tuple[list[int], list[list[int]]]:
    """Per round a new part with `units` on the PAR1 shelf and a failed one in each of `n_servers` servers.

    Inserted in batches (a flush per table, not per row) to keep set-up out of the test's time.
    Returns the stock ids and, per round, the fault ids.
    """
    par = h.site(s, "PAR1")
    model = h.server_model(s)
    servers = [h.server(s, par, model) for _ in range(n_servers)]
    parts = [
        PartModel(part_number=f"{prefix}-{r}", kind="psu", vendor="Dell", description="psu") for r in range(rounds)
    ]
    s.add_all(parts)
    s.flush()
    stocks = [Stock(site_id=par.id, part_model_id=p.id, bin="B", on_hand=units) for p in parts]  # type: ignore[arg-type]
    s.add_all([PartCompat(part_model_id=p.id, server_model_id=model.id) for p in parts])  # type: ignore[arg-type]
    s.add_all(stocks)
    for r, p in enumerate(parts):
        for srv in servers:
            serial = f"{prefix}-{r}-{srv.id}"
            s.add(Component(server_id=srv.id, slot=f"PSU{r}", part_model_id=p.id, serial=serial))  # type: ignore[arg-type]
    faults = [
        [
            Fault(server_id=srv.id, slot=f"PSU{r}", kind="psu", problem="failed", severity="non-critical",  # type: ignore[arg-type]
                  detected_at=h.T0, notified_at=h.T0)
            for srv in servers
        ]
        for r in range(rounds)
    ]  # fmt: skip
    s.add_all([f for row in faults for f in row])
    s.flush()
    return [st.id for st in stocks], [[f.id for f in row] for row in faults]  # type: ignore[misc]


def run_racers(db_url: str, per_racer: dict[str, list[int]]) -> tuple[dict[str, list[str]], float]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(per_racer))
    results = ctx.Queue()
    procs = [ctx.Process(target=race, args=(db_url, name, ids, barrier, results)) for name, ids in per_racer.items()]
    started = time.monotonic()
    for p in procs:
        p.start()
    got = [results.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    elapsed = time.monotonic() - started
    errors = [(name, err) for name, _, err in got if err]
    assert not errors, errors
    return {name: statuses for name, statuses, _ in got}, elapsed


def test_last_unit_is_reserved_once_under_a_race(engine, db_url):
    with write_session(engine) as s:
        stock_ids, rounds = prepare(s, "RACE", ROUNDS, units=1, n_servers=len(RACERS))
    per_racer = {name: [row[i] for row in rounds] for i, name in enumerate(RACERS)}
    by_racer, elapsed = run_racers(db_url, per_racer)

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


def test_one_fault_asked_for_by_everyone_at_once_holds_one_unit(engine, db_url):
    # Two units on the shelf each round, and every racer asks for the same fault: it must end up holding one.
    with write_session(engine) as s:
        stock_ids, rounds = prepare(s, "SAME", SAME_FAULT_ROUNDS, units=2, n_servers=1)
    fault_ids = [row[0] for row in rounds]
    by_racer, _ = run_racers(db_url, {name: fault_ids for name in RACERS})
    assert all(status == "reserved" for statuses in by_racer.values() for status in statuses)

    with read_session(engine) as s:
        held = s.exec(
            select(Reservation.fault_id, func.count())
            .where(Reservation.state == "active")
            .group_by(Reservation.fault_id)
        ).all()
        reserved = [st.reserved for st in s.exec(select(Stock).where(Stock.id.in_(stock_ids))).all()]  # type: ignore[union-attr]
    assert sorted(tuple(row) for row in held) == sorted((f, 1) for f in fault_ids)
    assert reserved == [1] * SAME_FAULT_ROUNDS
