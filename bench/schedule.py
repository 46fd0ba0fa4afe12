"""Planning benchmark: 1,000 open critical faults over 60 technicians at 3 sites.

    python bench/schedule.py [--faults 1000] [--technicians 60] [--sites 3] [--seed 7] [--db]

Times the pure planner (best of 5) and prints the number of swaps it plans after their hard limit beside a lower
bound that no plan can beat
(fleet.swaps.planner.late_lower_bound: a capacity relaxation). With --db it also times the whole
service on a fresh SQLite file (reading faults, writing 1,000 Swap rows and their audit entries, one transaction).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fleet.config import Settings
from fleet.swaps.planner import Job, Tech, late_lower_bound, plan
from fleet.swaps.windows import expand, parse_weekly, zone

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
SITES = [("PAR1", "Europe/Paris"), ("AMS1", "Europe/Amsterdam"), ("NYC1", "America/New_York"),
         ("SIN1", "Asia/Singapore"), ("FRA1", "Europe/Berlin")]  # fmt: skip
SHIFTS = [("06:00", "14:00"), ("14:00", "22:00"), ("22:00", "06:00")]


def fleet(n_faults: int, n_techs: int, n_sites: int, seed: int, settings: Settings):  # type: ignore[no-untyped-def]
    """Technicians on one of three shifts five days a week plus on-call nights; faults notified in the last 4 h,
    a tenth waiting for a part on transfer."""
    rng = random.Random(seed)
    sites = SITES[:n_sites]
    techs_spec = []
    for i in range(n_techs):
        code, tz = sites[i % n_sites]
        start, end = SHIFTS[(i // n_sites) % 3]
        days = [(d + i) % 7 for d in range(5)]
        shifts = [{"weekday": d, "start": start, "end": end} for d in days]
        on_call = [{"weekday": (days[-1] + 1) % 7, "start": "00:00", "end": "00:00"}]
        techs_spec.append((f"tech{i}", code, tz, shifts, on_call))
    kinds = list(settings.swap_minutes)
    faults_spec = []
    for k in range(n_faults):
        code = sites[rng.randrange(n_sites)][0]
        kind = rng.choice(kinds)
        notified = NOW - timedelta(minutes=rng.randrange(0, 240))
        ready = NOW + timedelta(minutes=rng.randrange(30, 300)) if rng.random() < 0.1 else None
        faults_spec.append((k, code, kind, notified, ready))
    return techs_spec, faults_spec


def pure_inputs(techs_spec, faults_spec, settings: Settings):  # type: ignore[no-untyped-def]
    horizon = NOW + timedelta(days=7)
    techs = [Tech(name, code, expand(parse_weekly(sh) + parse_weekly(oc), zone(tz), NOW, horizon))
             for name, code, tz, sh, oc in techs_spec]  # fmt: skip
    jobs = [Job(k, code, timedelta(minutes=settings.swap_minutes[kind]), n + timedelta(minutes=60),
                n + timedelta(minutes=240), ready) for k, code, kind, n, ready in faults_spec]  # fmt: skip
    return jobs, techs


def bench_pure(args: argparse.Namespace, settings: Settings) -> None:
    techs_spec, faults_spec = fleet(args.faults, args.technicians, args.sites, args.seed, settings)
    times, cpu = [], []
    for _ in range(5):
        t0, c0 = time.perf_counter(), time.process_time()
        jobs, techs = pure_inputs(techs_spec, faults_spec, settings)  # expanding shifts is part of planning
        out = plan(jobs, techs, NOW)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    late = sum(a.late for a in out)
    bound = late_lower_bound(jobs, techs, NOW)
    in_target = sum(not a.after_target for a in out)
    print(f"pure planner: {args.faults} faults, {args.technicians} technicians, {args.sites} sites: "
          f"best {min(times) * 1000:.1f} ms, median {sorted(times)[2] * 1000:.1f} ms wall; "
          f"best {min(cpu) * 1000:.1f} ms CPU")  # fmt: skip
    print(f"  late (after the 4 h limit): {late}; lower bound {bound}; within the 1 h target: {in_target}")


def bench_db(args: argparse.Namespace, settings: Settings) -> None:
    from sqlalchemy import insert

    from fleet.store.db import make_engine, write_session
    from fleet.store.migrate import upgrade
    from fleet.store.models import Fault, PartModel, Server, ServerModel, Site, Technician, Transfer
    from fleet.swaps.plan import plan_critical

    techs_spec, faults_spec = fleet(args.faults, args.technicians, args.sites, args.seed, settings)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(os.path.join(tmp, "bench.db"))
        upgrade(engine)
        with write_session(engine) as s:
            site_ids = {}
            for code, tz in SITES[: args.sites]:
                st = Site(code=code, name=code, timezone=tz)
                s.add(st)
                s.flush()
                site_ids[code] = st.id
            s.add(ServerModel(id=1, vendor="x", name="m"))
            s.add(PartModel(id=1, part_number="p", kind="psu", vendor="x", description="p"))
            s.flush()
            for name, code, _tz, sh, oc in techs_spec:
                s.add(Technician(name=name, site_id=site_ids[code], shifts=sh, on_call=oc))
            s.execute(insert(Server), [{"hostname": f"h{k}", "asset_tag": f"a{k}", "serial": f"s{k}", "model_id": 1,
                                        "site_id": site_ids[code], "rack": "R", "unit": 1, "controller_host": "x"}
                                       for k, code, *_ in faults_spec])  # fmt: skip
            s.execute(insert(Fault), [{"server_id": k + 1, "slot": "X", "kind": kind, "problem": "failed",
                                       "severity": "critical", "detected_at": n, "notified_at": n}
                                      for k, _c, kind, n, _r in faults_spec])  # fmt: skip
            s.execute(insert(Transfer), [{"part_model_id": 1, "from_site_id": 1, "to_site_id": 1, "fault_id": k + 1,
                                          "state": "in_transit", "created_at": NOW, "eta": r}
                                         for k, _c, _kd, _n, r in faults_spec if r])  # fmt: skip
        for label in ("first plan (creates swaps)", "re-plan (nothing changed)"):
            t0, c0 = time.perf_counter(), time.process_time()
            with write_session(engine) as s:
                out = plan_critical(s, now=NOW, settings=settings)
            wall, cpu_s = time.perf_counter() - t0, time.process_time() - c0
            print(f"service on SQLite, {label}: {wall * 1000:.0f} ms wall, {cpu_s * 1000:.0f} ms CPU, "
                  f"{len(out)} swaps, {sum(p.late for p in out)} late")  # fmt: skip
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faults", type=int, default=1000)
    ap.add_argument("--technicians", type=int, default=60)
    ap.add_argument("--sites", type=int, default=3, choices=range(1, len(SITES) + 1))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--db", action="store_true", help="also time the service on SQLite")
    args = ap.parse_args()
    settings = Settings()
    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.exists() else []
    cpu = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), platform.processor())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{datetime.now(UTC):%Y-%m-%d}, nproc {os.cpu_count()}, {cpu}, Python {platform.python_version()}, "
          f"load {load:.1f}")  # fmt: skip
    bench_pure(args, settings)
    if args.db:
        bench_db(args, settings)


if __name__ == "__main__":
    main()
