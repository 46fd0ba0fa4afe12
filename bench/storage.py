"""How big the database grows under the 5-minute monitoring: sweeps of the sample fleet (324 servers, simulated
controllers on loopback), measured, then scaled to a year of 1,000 servers.

    python bench/storage.py [--sweeps 10]

Only changes are stored: the latest state of each sensor (updated in place) and one row per state change, plus one
sweep_run row per sweep. The first sweep fills sensor_state; the following ones should add almost nothing.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TABLES = ("sensor_state", "sensor_change", "sweep_run", "audit", "fault")
SWEEPS_PER_YEAR = 365 * 24 * 12


def size(path: Path) -> tuple[int, dict[str, int]]:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0] - conn.execute("PRAGMA freelist_count").fetchone()[0]
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    return pages * page, counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sweeps", type=int, default=10)
    args = ap.parse_args()
    from fleet.sim.demo import Demo
    from fleet.sweep.run import run_sweep

    with Demo(background=False) as world:
        assert world.engine is not None and world.settings is not None
        path = world.folder / "inventory.db"
        before, _ = size(path)
        run_sweep(world.engine, world.settings)
        first, c1 = size(path)
        for _ in range(args.sweeps):
            run_sweep(world.engine, world.settings)
        after, c2 = size(path)
    n_servers = 324
    per_sweep = (after - first) / args.sweeps
    print(f"sample fleet, {n_servers} servers; database {before / 2**20:.2f} MiB before the first sweep")
    print(f"first sweep: +{(first - before) / 2**10:.0f} KiB; rows {c1}")
    print(
        f"next {args.sweeps} sweeps: +{(after - first) / 2**10:.0f} KiB in all, {per_sweep / 2**10:.1f} KiB per sweep"
    )
    print(f"rows added by them: { {t: c2[t] - c1[t] for t in TABLES} }")
    # What a quiet sweep adds is one sweep_run row and the re-plans of open critical swaps: per sweep, not per server.
    year = per_sweep * SWEEPS_PER_YEAR
    first_1000 = (first - before) * 1000 / n_servers
    print(
        f"a year of 5-minute sweeps of 1,000 servers: {first_1000 / 2**20:.1f} MiB of latest states "
        f"+ {year / 2**20:.0f} MiB of sweep records (and re-plans of open swaps), plus ~100 bytes per state change"
    )


if __name__ == "__main__":
    main()
