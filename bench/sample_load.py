"""How long loading the sample fleet takes: generating the rows, and generating plus inserting them.

    python bench/sample_load.py                      # a fresh SQLite file in a temporary folder
    python bench/sample_load.py postgresql://...     # an empty PostgreSQL database (or schema via search_path)

Prints the median of a few runs. Not a test: the suite asserts behaviour, never speed.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from fleet.sim.rows import TABLES
from fleet.sim.sample import build_sample, holds_fleet, load_sample
from fleet.store.db import make_engine, read_session
from fleet.store.migrate import upgrade

RUNS = 5


def _empty(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        for model in reversed(TABLES):
            conn.execute(text(f'DELETE FROM "{model.__tablename__}"'))


def main(argv: list[str]) -> None:
    build = []
    for _ in range(RUNS):
        t = time.perf_counter()
        build_sample()
        build.append(time.perf_counter() - t)
    print(f"build_sample: median {statistics.median(build):.2f} s over {RUNS} runs")
    with tempfile.TemporaryDirectory() as tmp:
        url = argv[0] if argv else str(Path(tmp) / "bench.db")
        engine = make_engine(url)
        upgrade(engine)
        with read_session(engine) as session:
            if holds_fleet(session):
                sys.exit("bench/sample_load.py: the database is not empty; give it a scratch one (it deletes rows)")
        loads = []
        for _ in range(RUNS):
            _empty(engine)
            t = time.perf_counter()
            message = load_sample(engine)
            loads.append(time.perf_counter() - t)
        engine.dispose()
    print(message)
    print(f"load_sample ({engine.dialect.name}): median {statistics.median(loads):.2f} s over {RUNS} runs")


if __name__ == "__main__":
    main(sys.argv[1:])
