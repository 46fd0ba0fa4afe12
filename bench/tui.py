"""Console benchmark with 10,000 servers: start-up to first frame, filter keystroke latency, peak memory.

    python bench/tui.py [--servers N] [--db URL]

Goals (issue 9): first frame under 1 s, a filter keystroke under 50 ms. Runs headless (Textual's test driver) on
a fresh SQLite database unless --db names a migrated, empty one. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fleet.clock import FrozenClock
from fleet.config import Settings
from fleet.store.db import make_engine
from fleet.store.migrate import upgrade
from fleet.tui.app import make_app
from fleet.tui.livetable import LiveTable
from tests.factories import T0, make_fleet

QUERY = "srv0999 par1"


async def measure(url: str, servers: int) -> dict[str, object]:
    engine = make_engine(url)
    upgrade(engine)
    make_fleet(engine, servers=servers)
    out: dict[str, object] = {"servers": servers}

    t0 = time.perf_counter()
    app = make_app(engine, FrozenClock(T0), settings=Settings(), view="servers", refresh_s=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        # run_test hands over once the screen is composed, mounted and painted: the first frame.
        out["first_frame_s"] = round(time.perf_counter() - t0, 3)
        table = app.query_one("#servers-table", LiveTable)
        while table.row_count == 0:
            await pilot.pause(0.01)
        out["servers_shown_s"] = round(time.perf_counter() - t0, 3)

        # What a keystroke costs the UI thread: the filter, the row diff and the table measuring its columns (all in
        # the view's draw, Input.Changed). Timed by wrapping it, so the pilot's own waits are not counted.
        spent = {"s": 0.0}
        draw = type(app.view).draw

        def timed_draw(self, now, query):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            draw(self, now, query)
            spent["s"] += time.perf_counter() - t

        type(app.view).draw = timed_draw  # type: ignore[method-assign]
        noop = []
        for _ in range(5):  # the pilot's round trip for a key that changes nothing
            t = time.perf_counter()
            await pilot.press("down")
            noop.append((time.perf_counter() - t) * 1000)
        await pilot.press("slash")
        key_ms, trip_ms = [], []
        for ch in QUERY + "\b" * len(QUERY):
            key = "backspace" if ch == "\b" else ("space" if ch == " " else ch)
            spent["s"] = 0.0
            t = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            trip_ms.append((time.perf_counter() - t) * 1000)
            key_ms.append(spent["s"] * 1000)
        type(app.view).draw = draw  # type: ignore[method-assign]
        out["filter_keystroke_ms"] = _stats(key_ms)
        out["pilot_round_trip_ms"] = {**_stats(trip_ms), "noop_key_median": round(statistics.median(noop), 1)}
        out["rows_loaded"] = table.row_count  # every match is a row; only those on screen are drawn
    engine.dispose()
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def _stats(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {"median": round(statistics.median(ms), 1), "p95": round(ordered[int(0.95 * (len(ms) - 1))], 1),
            "max": round(ordered[-1], 1), "keys": len(ms)}  # fmt: skip


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=10_000)
    parser.add_argument("--db", help="a migrated, empty database URL (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or str(Path(tmp) / "bench.db")
        result = asyncio.run(measure(url, args.servers))
    result["python"] = platform.python_version()
    result["machine"] = f"{platform.machine()} {platform.processor() or ''}".strip()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
