"""Benchmark: a fleet-wide sweep of N simulated BMCs behind a network that behaves like a datacenter's.

    python bench/sweep.py [--bmcs 500] [--dead 0.05] [--rtt-ms 20-30] [--loss 0.005] [--concurrency 64]
    python bench/sweep.py --sim-bmcs 5000 [--sim-procs 4]      fleet's own simulated BMCs, one sweep round

N OpenIPMI `ipmi_sim` processes on 127.0.0.1, reached through bench/udprelay.py (20-30 ms round trip, a small
loss, and a fraction of front ports with nothing behind them: dead BMCs). In the same run, over the same hosts:

- `fleet sweep` (sensors, SEL, FRU and power of every BMC, then rules, faults and planning, into SQLite);
- FreeIPMI `ipmi-sensors` with its default fanout (64), sensors only, cold and warm SDR cache;
- ipmitool `sdr elist` one host after the other, on a sample of hosts, extrapolated to N (it would take too long).

Each tool runs as a child process; wall time, CPU (the whole process tree, sampled from /proc) and peak memory (the
tree's summed RSS) are printed with ratios to FreeIPMI's warm run (the issue's table). fleet polls every BMC from
one process (the IPMI engine: one thread on pyghmi's event loop). Loopback only; everything started here is stopped
here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PASSWORD = "bench-sweep-pw"
CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(n: int, taken: set[int]) -> list[int]:
    """n distinct UDP ports free right now and not in `taken` (all held open until chosen, so none repeats)."""
    held, ports = [], []
    while len(ports) < n:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        held.append(s)
        if port not in taken:
            ports.append(port)
    for s in held:
        s.close()
    return ports


def start_sims(n: int, root: Path) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    from fleet.sim import ipmi_sim

    procs, ports, consoles = [], [], []
    for i in range(n):
        layout = ipmi_sim.LAYOUTS["2u" if i % 2 else "1u"]
        port, cport = free_port(), free_port(socket.SOCK_STREAM)
        files = ipmi_sim.write_bmc(root / f"bmc{i}", layout, i, port, cport, PASSWORD)
        procs.append(subprocess.Popen(files.argv(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))  # fmt: skip
        ports.append(port)
        consoles.append(cport)
    deadline = time.monotonic() + 120
    pending = list(consoles)
    while pending and time.monotonic() < deadline:
        still = []
        for cport in pending:
            try:
                with socket.create_connection(("127.0.0.1", cport), timeout=0.5) as s:
                    s.recv(64)
            except OSError:
                still.append(cport)
        pending = still
        if pending:
            time.sleep(0.2)
    if pending:
        raise SystemExit(f"{len(pending)} ipmi_sim did not start")
    return procs, ports


@dataclass
class Measured:
    wall: float
    cpu: float
    peak_rss_mb: float
    rc: int
    out: str


def _tree(root: int) -> dict[int, tuple[float, int]]:
    """pid -> (cpu seconds, rss bytes) for root and its descendants."""
    stats: dict[int, tuple[int, float, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ppid = int(fields[1])
        cpu = (int(fields[11]) + int(fields[12])) / CLK
        rss = int(fields[21]) * PAGE
        stats[int(entry)] = (ppid, cpu, rss)
    keep = {root}
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _, _) in stats.items():
            if ppid in keep and pid not in keep:
                keep.add(pid)
                changed = True
    return {pid: (stats[pid][1], stats[pid][2]) for pid in keep if pid in stats}


def measure(argv: list[str], env: dict[str, str] | None = None, timeout: float = 900) -> Measured:
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=REPO)  # fmt: skip
    cpu_seen: dict[int, float] = {}
    peak = 0
    out_chunks: list[bytes] = []
    os.set_blocking(proc.stdout.fileno(), False)  # type: ignore[union-attr]
    usage = None
    status = 0
    # Reap with wait4 ourselves: its rusage counts the child and every descendant it reaped (short-lived processes
    # such as one snmpbulkwalk per subtree end between two samples and would be missed by /proc alone).
    while time.monotonic() - t0 < timeout:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            usage = ru
            break
        tree = _tree(proc.pid)
        for tpid, (cpu, _rss) in tree.items():
            cpu_seen[tpid] = max(cpu_seen.get(tpid, 0.0), cpu)
        peak = max(peak, sum(rss for _cpu, rss in tree.values()))
        try:
            chunk = proc.stdout.read()  # type: ignore[union-attr]
            if chunk:
                out_chunks.append(chunk)
        except (BlockingIOError, TypeError):
            pass
        time.sleep(0.1)
    if usage is None:
        proc.kill()
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    rest = proc.stdout.read() or b""  # type: ignore[union-attr]
    out_chunks.append(rest)
    reaped = usage.ru_utime + usage.ru_stime
    sampled = sum(cpu_seen.values())
    cpu = max(reaped, sampled)
    rc = proc.returncode
    return Measured(wall, cpu, peak / 2**20, rc, b"".join(out_chunks).decode(errors="replace"))


def make_db(path: Path, hosts: list[tuple[str, int]], *, protocol: str = "ipmi", refs: list[str] | None = None) -> str:
    """A SQLite fleet of one site and one model whose servers' controllers are `hosts`; `refs` are their credential
    references (default: every server env:BENCH_BMC_PASSWORD)."""
    from sqlalchemy import insert

    from fleet.store.db import make_engine, write_session
    from fleet.store.migrate import upgrade
    from fleet.store.models import Server, ServerModel, Site

    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    refs = refs or ["env:BENCH_BMC_PASSWORD"] * len(hosts)
    with write_session(engine) as s:
        site = Site(code="BNCH", name="Bench", timezone="UTC")
        model = ServerModel(vendor="Generic", name=f"simulated {protocol}", psu_count=2)
        s.add_all([site, model])
        s.flush()
        s.execute(insert(Server), [
            {"hostname": f"{protocol}{i:04d}.bench", "asset_tag": f"B{i}", "serial": f"S{i}", "model_id": model.id,
             "site_id": site.id, "rack": "R1", "unit": 1, "controller_host": h, "controller_port": p,
             "controller_protocol": protocol, "controller_user": "admin", "credential_ref": ref}
            for i, ((h, p), ref) in enumerate(zip(hosts, refs, strict=True))
        ])  # fmt: skip
    engine.dispose()
    return url


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bmcs", type=int, default=500)
    ap.add_argument("--dead", type=float, default=0.05, help="fraction of BMCs with nothing behind them")
    ap.add_argument("--rtt-ms", default="20-30")
    ap.add_argument("--loss", type=float, default=0.005)
    ap.add_argument("--concurrency", type=int, default=64, help="fleet's --concurrency")
    ap.add_argument("--timeout", type=float, default=10.0, help="per-host deadline for fleet")
    ap.add_argument("--ipmitool-sample", type=int, default=20)
    ap.add_argument("--sim-bmcs", type=int, default=0, help="instead: one sweep of this many of fleet's own BMCs")
    ap.add_argument("--sim-procs", type=int, default=4, help="processes serving the simulated BMCs")
    ap.add_argument("--skip-peers", action="store_true", help="only fleet (for quick comparisons)")
    ap.add_argument("--repeat", type=int, default=1, help="warm runs of fleet and FreeIPMI, alternated; the table "
                    "shows each one's median (a shared machine's CPU moves by a second between two runs)")  # fmt: skip
    ap.add_argument("--profile", metavar="FILE", help="after the table, one more warm sweep sampled by py-spy "
                    "(collapsed stacks to FILE); not in the table")  # fmt: skip
    args = ap.parse_args()
    if args.sim_bmcs:
        sim_round(args)
        return
    if not shutil.which("ipmi_sim"):
        raise SystemExit("ipmi_sim not installed (Debian: openipmi)")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    root = Path(tempfile.mkdtemp(prefix="fleet-bench-sweep-"))
    n_dead = round(args.bmcs * args.dead)
    n_live = args.bmcs - n_dead
    procs: list[subprocess.Popen[bytes]] = []
    relay: subprocess.Popen[str] | None = None
    try:
        t = time.monotonic()
        procs, backend_ports = start_sims(n_live, root)
        print(f"{n_live} ipmi_sim started in {time.monotonic() - t:.1f} s; {n_dead} dead BMCs", flush=True)
        fronts = free_ports(args.bmcs, set(backend_ports))
        rng = random.Random(7)
        dead_idx = set(rng.sample(range(args.bmcs), n_dead))
        live_iter = iter(backend_ports)
        maps, dead = [], []
        for i, f in enumerate(fronts):
            if i in dead_idx:
                dead.append(f)
            else:
                maps.append(f"{f}:{next(live_iter)}")
        relay_args = [sys.executable, str(REPO / "bench" / "udprelay.py"), "--rtt-ms", args.rtt_ms,
                      "--loss", str(args.loss), "--seconds", "1800"]  # fmt: skip
        for m in maps:
            relay_args += ["--map", m]
        for d in dead:
            relay_args += ["--dead", str(d)]
        relay = subprocess.Popen(relay_args, stdout=subprocess.PIPE, text=True)
        assert relay.stdout is not None and relay.stdout.readline().strip() == "ready"
        hosts = [("127.0.0.1", f) for f in fronts]
        # fleet's SDR cache on disk, like FreeIPMI's: a first run fills it, the next (a new process) reads it.
        env = {"BENCH_BMC_PASSWORD": PASSWORD, "FLEET_SDR_CACHE_DIR": str(root / "fleet-sdr")}
        results: dict[str, Measured] = {}

        db = make_db(root / "inventory.db", hosts)
        report = root / "sweep.json"
        sweep_argv = [sys.executable, "-m", "fleet", "sweep", "--db", db, "--concurrency", str(args.concurrency),
                      "--timeout", str(args.timeout), "--json", str(report)]  # fmt: skip
        results["fleet sweep (cold SDR cache)"] = measure(sweep_argv, env)
        rep = json.loads(report.read_text()) if report.exists() else {}
        warm_runs = [measure(sweep_argv, env)]
        warm = json.loads(report.read_text()) if report.exists() else {}

        cfg = root / "freeipmi.conf"
        cfg.write_text(f"username admin\npassword {PASSWORD}\n")  # the password stays off the command line
        cfg.chmod(0o600)
        cache = root / "sdr-cache"
        cache.mkdir(mode=0o700)
        freeipmi = ["ipmi-sensors", "--config-file", str(cfg), "-h", ",".join(f"{h}:{p}" for h, p in hosts),
                    "-l", "user", "-W", "opensesspriv", "--driver-type=LAN_2_0", "-I", "3",
                    f"--sdr-cache-directory={cache}", "--always-prefix"]  # fmt: skip
        peers = bool(shutil.which("ipmi-sensors")) and not args.skip_peers
        if peers:
            results["FreeIPMI ipmi-sensors (cold SDR cache)"] = measure(freeipmi)
        peer_runs = [measure(freeipmi)] if peers else []
        for _ in range(args.repeat - 1):  # alternated, so that a busy minute weighs on both
            warm_runs.append(measure(sweep_argv, env))
            if peers:
                peer_runs.append(measure(freeipmi))
        results["fleet sweep (warm SDR cache)"] = median_run(warm_runs)
        if peers:
            results["FreeIPMI ipmi-sensors (warm SDR cache)"] = median_run(peer_runs)
        if args.repeat > 1:
            for name, runs in (("fleet warm", warm_runs), ("FreeIPMI warm", peer_runs)):
                if runs:
                    print(f"{name}, {len(runs)} runs: wall " + " ".join(f"{m.wall:.1f}" for m in runs)
                          + " s; CPU " + " ".join(f"{m.cpu:.2f}" for m in runs) + " s")  # fmt: skip
            pairs = [w.cpu / p.cpu for w, p in zip(warm_runs, peer_runs, strict=False) if p.cpu > 0]
            if pairs:
                print("CPU ratio of each pair (fleet / FreeIPMI): " + " ".join(f"{r:.2f}" for r in pairs))

        sample = [hosts[i] for i in range(args.bmcs) if i not in dead_idx][: args.ipmitool_sample]
        sample_dead = [hosts[i] for i in sorted(dead_idx)][:1]
        if shutil.which("ipmitool") and sample and not args.skip_peers:
            script = root / "ipmitool.sh"
            lines = ["#!/bin/sh"] + [
                f"ipmitool -I lanplus -H {h} -p {p} -U admin -E -C 3 -N 1 -R 3 sdr elist >/dev/null 2>&1"
                for h, p in sample + sample_dead
            ]
            script.write_text("\n".join(lines) + "\n")
            script.chmod(0o700)
            m = measure(["/bin/sh", str(script)], {"IPMI_PASSWORD": PASSWORD})
            live_share = len(sample) / (len(sample) + len(sample_dead))
            # Extrapolate to the fleet: live hosts at the sampled average, dead ones at the dead sample's cost.
            per = m.wall / (len(sample) + len(sample_dead))
            results[f"ipmitool sequential (sample of {len(sample) + len(sample_dead)}, extrapolated)"] = Measured(
                per * args.bmcs / max(live_share, 1e-9) * live_share, m.cpu * args.bmcs / (len(sample) + 1),
                m.peak_rss_mb, m.rc, m.out,
            )  # fmt: skip

        cpu_model = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                          if ln.startswith("model name")), platform.processor())  # fmt: skip
        print(f"\n{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {cpu_model}, Python {platform.python_version()}")
        print(f"{args.bmcs} BMCs ({n_dead} dead), RTT {args.rtt_ms} ms, loss {args.loss:.1%}")
        if rep:
            print(f"fleet report: {rep.get('polled')} polled, {len(rep.get('unreachable', []))} unreachable, "
                  f"poll phase {rep.get('poll_seconds', {}).get('wall')} s, status {rep.get('status')}")  # fmt: skip
        if warm:
            print(f"fleet warm: {warm.get('polled')} polled, {len(warm.get('unreachable', []))} unreachable, "
                  f"poll phase {warm.get('poll_seconds', {}).get('wall')} s")  # fmt: skip
        print_table(results)
        for name, m in results.items():
            lines = m.out.strip().splitlines()
            errors = [ln for ln in lines if "error" in ln.lower() or "timeout" in ln.lower() or "fail" in ln.lower()]
            sample = (errors or lines)[:2]
            print(f"{name}: exit {m.rc}, {len(lines)} output lines, {len(errors)} error lines; e.g. {sample}")
        if args.profile:
            profile(sweep_argv, env, Path(args.profile))
    finally:
        if relay is not None:
            relay.terminate()
            relay.wait(10)
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(root, ignore_errors=True)


def median_run(runs: list[Measured]) -> Measured:
    """Each column's median over the runs (wall, CPU and memory need not come from the same run)."""
    return Measured(
        statistics.median(m.wall for m in runs), statistics.median(m.cpu for m in runs),
        statistics.median(m.peak_rss_mb for m in runs), max(m.rc for m in runs), runs[-1].out,
    )  # fmt: skip


def profile(argv: list[str], env: dict[str, str], out: Path) -> None:
    """One more run of `argv` sampled by py-spy (idle samples left out, so the profile shows CPU, not waits)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("--profile: py-spy is not installed (pip install py-spy)")
        return
    cmd = [spy, "record", "--format", "raw", "--rate", "250", "-o", str(out), "--", *argv]
    done = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    print(f"profile: {out} (py-spy exit {done.returncode})")


def print_table(results: dict[str, Measured]) -> None:
    """The issue's table: wall, CPU, peak RSS, and each as a ratio to FreeIPMI's warm run when there is one."""
    base = next((m for name, m in results.items() if name.startswith("FreeIPMI") and "warm" in name), None)
    print("\n| tool | wall | CPU | peak RSS | wall / FreeIPMI warm | CPU / FreeIPMI warm | RSS / FreeIPMI warm |")
    print("|---|---|---|---|---|---|---|")
    for name, m in results.items():
        ratios = "| |"
        if base:
            rss = m.peak_rss_mb / max(base.peak_rss_mb, 1)
            ratios = f"{m.wall / base.wall:.2f} | {m.cpu / max(base.cpu, 1e-9):.2f} | {rss:.1f}"
        print(f"| {name} | {m.wall:.1f} s | {m.cpu:.1f} s | {m.peak_rss_mb:,.0f} MB | {ratios} |")


def sim_round(args: argparse.Namespace) -> None:
    """One `fleet sweep` of N of fleet's own simulated BMCs (in --sim-procs processes) behind the relay."""
    from tests.ipmi.simnet import SimNet

    root = Path(tempfile.mkdtemp(prefix="fleet-bench-simround-"))
    n_dead = round(args.sim_bmcs * args.dead)
    t = time.monotonic()
    net = SimNet(args.sim_bmcs - n_dead, dead=n_dead, procs=args.sim_procs, rtt_ms=args.rtt_ms, loss=args.loss,
                 password=PASSWORD).start(timeout=600)  # fmt: skip
    try:
        print(f"{args.sim_bmcs - n_dead} simulated BMCs in {args.sim_procs} processes started in "
              f"{time.monotonic() - t:.1f} s; {n_dead} dead", flush=True)  # fmt: skip
        db = make_db(root / "inventory.db", [(x.host, x.port) for x in net.targets()])
        report = root / "sweep.json"
        argv = [sys.executable, "-m", "fleet", "sweep", "--db", db, "--concurrency", str(args.concurrency),
                "--timeout", str(args.timeout), "--json", str(report)]  # fmt: skip
        env = {"BENCH_BMC_PASSWORD": PASSWORD, "FLEET_SDR_CACHE_DIR": str(root / "fleet-sdr"),
               "FLEET_IPMI_BIND": "127.0.0.1"}  # fmt: skip
        results = {"fleet sweep, first round (cold)": measure(argv, env, timeout=1800)}
        first = json.loads(report.read_text()) if report.exists() else {}
        results["fleet sweep, next round (warm)"] = measure(argv, env, timeout=1800)
        warm = json.loads(report.read_text()) if report.exists() else {}
        for name, rep in (("cold", first), ("warm", warm)):
            print(f"{name}: {rep.get('polled')} polled, {len(rep.get('unreachable', []))} unreachable, poll phase "
                  f"{rep.get('poll_seconds', {}).get('wall')} s, whole sweep {rep.get('duration_s')} s")  # fmt: skip
        print_table(results)
        for name, m in results.items():
            print(f"{name}: {m.cpu / args.sim_bmcs * 1000:.1f} ms CPU per BMC (whole sweep process)")
    finally:
        net.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
