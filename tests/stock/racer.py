"""A worker process for the reservation race: one console (or the sweep) asking for spares, round after round."""

from __future__ import annotations

from typing import Any

from fleet.config import Settings
from fleet.stock.reserve import reserve_for_fault
from fleet.store.db import make_engine, write_session
from tests.stock.helpers import T0


def race(db_url: str, name: str, fault_ids: list[int], barrier: Any, results: Any) -> None:
    """For each round: wait until every racer is ready, then all ask for the last unit at the same instant."""
    engine = make_engine(db_url)
    settings = Settings()
    statuses: list[str] = []
    try:
        # A first connection outside the race, so connecting is not what decides who wins.
        with engine.connect():
            pass
        for fault_id in fault_ids:
            barrier.wait(timeout=60)
            with write_session(engine) as session:
                statuses.append(reserve_for_fault(session, fault_id, now=T0, settings=settings, actor=name).status)
        results.put((name, statuses, None))
    except BaseException as exc:  # report every failure to the parent instead of dying silently
        barrier.abort()
        results.put((name, statuses, f"{type(exc).__name__}: {exc}"))
    finally:
        engine.dispose()
