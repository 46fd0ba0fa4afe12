"""CSV import of many servers: peak memory and wall time of `fleet import servers`, this tree against another.

    python bench/csv_import.py --rows 100000 --before /tmp/base

`--before` is a tree of fleet to compare with (e.g. `git archive 3bddfd6 fleet | tar -x -C /tmp/base`, the import
that read the whole file into memory); each tree imports the same file into a fresh database of its own schema, in
a child process whose peak RSS comes from wait4.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
HEADER = "hostname,asset_tag,serial,model,site,rack,unit,controller_host,controller_port,plan\n"
SETUP = """
import sys
from fleet.store.db import make_engine
from fleet.store.migrate import upgrade
from tests.factories import make_fleet
engine = make_engine(sys.argv[1]); upgrade(engine); make_fleet(engine, servers=1)
"""


def write_csv(path: Path, rows: int) -> None:
    with path.open("w") as fh:
        fh.write(HEADER)
        for i in range(rows):
            fh.write(f"h{i:07d}.par1,AT{i:08d},XS{i:09d},PowerEdge R640,PAR1,R{i % 40:02d},{1 + i % 40},"
                     f"127.0.0.1,623,dedicated\n")  # fmt: skip


def measure(tree: Path, csv: Path, folder: Path) -> tuple[int, float]:
    """(peak RSS in MB, wall seconds) of one import by `tree`."""
    db = folder / f"{tree.name or 'tree'}-{time.monotonic_ns()}.db"
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{HERE}"}
    subprocess.run([sys.executable, "-c", SETUP, str(db)], env=env, check=True, cwd=tree)
    t0 = time.monotonic()
    child = subprocess.Popen([sys.executable, "-m", "fleet", "import", "servers", str(csv), "--db", str(db)],
                             env=env, cwd=tree, stdout=subprocess.DEVNULL)  # fmt: skip
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{tree}: import failed")
    return usage.ru_maxrss // 1024, time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--before", type=Path, required=True, help="another fleet tree to compare with")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv = folder / "servers.csv"
        write_csv(csv, args.rows)
        now_mb, now_s = measure(HERE, csv, folder)
        before_mb, before_s = measure(args.before.resolve(), csv, folder)
    print(f"{args.rows} rows   peak RSS   wall")
    print(f"this tree    {now_mb:6d} MB  {now_s:6.1f} s")
    print(f"before       {before_mb:6d} MB  {before_s:6.1f} s")
    print(f"ratio        {before_mb / now_mb:6.1f}x    {before_s / now_s:6.1f}x")


if __name__ == "__main__":
    main()
