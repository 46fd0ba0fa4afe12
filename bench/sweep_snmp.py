"""Benchmark: a fleet-wide SNMP sweep of N simulated agents behind a datacenter-like network, against net-snmp.

    python bench/sweep_snmp.py [--agents 200] [--dead 0.05] [--rtt-ms 20-30] [--loss 0.005] [--concurrency 64]

snmpsim serves the project's own small recordings (tests/snmp/fixtures: a Dell iDRAC, an HPE iLO and a Linux host);
bench/udprelay.py gives every agent a front port of its own, with 20-30 ms of round trip, a small loss, and a fraction
of front ports with nothing behind them. In the same run, over the same agents:

- `fleet sweep` (every agent's health tables, decoded, then rules, faults and planning, into SQLite);
- net-snmp `snmpbulkwalk` over the same health subtrees, one process per subtree, `xargs -P 64` (the naive way a
  script would do it), with the community in an snmp.conf, never on the command line.

Wall time, CPU and peak memory of each process tree, and the ratios. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from sweep import free_ports, make_db, measure  # noqa: E402

FIXTURES = REPO / "tests" / "snmp" / "fixtures"
DEVICES = ("fleet-dell-small", "fleet-hpe-small", "fleet-linux-small")  # community = the recording's name


def start_snmpsim(root: Path) -> tuple[subprocess.Popen[bytes], int]:
    from fleet.collectors.snmp import poll_snmp
    from fleet.collectors.snmp.engine import close_all
    from fleet.collectors.targets import SnmpTarget
    from fleet.sweep.secrets import Secret

    data, cache = root / "data", root / "cache"
    data.mkdir()
    cache.mkdir()
    for name in DEVICES:
        shutil.copy(FIXTURES / f"{name}.snmprec", data / f"{name}.snmprec")
    exe = Path(sys.executable).parent / "snmpsim-command-responder"
    port = free_ports(1, set())[0]
    proc = subprocess.Popen(
        [str(exe if exe.exists() else "snmpsim-command-responder"), f"--data-dir={data}", f"--cache-dir={cache}",
         f"--agent-udpv4-endpoint=127.0.0.1:{port}", "--logging-method=null"],
        env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}, stdout=subprocess.DEVNULL,
    )  # fmt: skip

    async def up() -> str | None:
        try:
            r = await poll_snmp(SnmpTarget("127.0.0.1", port, community=Secret(DEVICES[0])), timeout=2)
            return r.error
        finally:
            close_all()

    for _ in range(100):
        if asyncio.run(up()) is None:
            return proc, port
    proc.kill()
    raise SystemExit("snmpsim did not answer")


def roots_of(port: int) -> dict[str, list[str]]:
    """The health subtrees fleet walks for each recording (the same ones snmpbulkwalk gets)."""
    from fleet.collectors.snmp import poll_snmp
    from fleet.collectors.snmp.engine import close_all
    from fleet.collectors.snmp.profiles import profile_by_name
    from fleet.collectors.targets import SnmpTarget
    from fleet.sweep.secrets import Secret

    async def vendor(name: str) -> str:
        try:
            r = await poll_snmp(SnmpTarget("127.0.0.1", port, community=Secret(name)), timeout=10)
            return r.vendor or ""
        finally:
            close_all()

    return {n: [".".join(map(str, r)) for r in profile_by_name(asyncio.run(vendor(n))).roots] for n in DEVICES}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", type=int, default=200)
    ap.add_argument("--dead", type=float, default=0.05)
    ap.add_argument("--rtt-ms", default="20-30")
    ap.add_argument("--loss", type=float, default=0.005)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args()
    if not shutil.which("snmpbulkwalk"):
        raise SystemExit("net-snmp's snmpbulkwalk not installed (Debian: snmp)")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    root = Path(tempfile.mkdtemp(prefix="fleet-bench-snmp-"))
    sim, relay = None, None
    try:
        sim, backend = start_snmpsim(root)
        roots = roots_of(backend)
        fronts = free_ports(args.agents, {backend})
        dead = set(random.Random(7).sample(range(args.agents), round(args.agents * args.dead)))
        relay_args = [sys.executable, str(REPO / "bench" / "udprelay.py"), "--rtt-ms", args.rtt_ms,
                      "--loss", str(args.loss), "--seconds", "1800"]  # fmt: skip
        for i, f in enumerate(fronts):
            relay_args += ["--dead", str(f)] if i in dead else ["--map", f"{f}:{backend}"]
        relay = subprocess.Popen(relay_args, stdout=subprocess.PIPE, text=True)
        assert relay.stdout is not None and relay.stdout.readline().strip() == "ready"

        env = {f"BENCH_COMMUNITY_{i}": name for i, name in enumerate(DEVICES)}
        refs = [f"env:BENCH_COMMUNITY_{i % len(DEVICES)}" for i in range(len(fronts))]
        db = make_db(root / "inventory.db", [("127.0.0.1", f) for f in fronts], protocol="snmp", refs=refs)
        report = root / "sweep.json"
        results = {
            "fleet sweep": measure(
                [
                    sys.executable,
                    "-m",
                    "fleet",
                    "sweep",
                    "--db",
                    db,
                    "--concurrency",
                    str(args.concurrency),
                    "--timeout",
                    str(args.timeout),
                    "--json",
                    str(report),
                ],
                env,
            )
        }
        rep = json.loads(report.read_text())

        lines = []
        for i, f in enumerate(fronts):
            name = DEVICES[i % len(DEVICES)]
            conf = root / f"conf-{name}"
            if not conf.exists():
                conf.mkdir()
                (conf / "snmp.conf").write_text(f"defCommunity {name}\ndefVersion 2c\n")
            lines += [f"{conf} 127.0.0.1:{f} {oid}" for oid in roots[name]]
        jobs = root / "jobs.txt"
        jobs.write_text("\n".join(lines) + "\n")
        script = root / "bulkwalk.sh"
        script.write_text(
            "#!/bin/sh\n"
            f'xargs -P 64 -L 1 sh -c \'SNMPCONFPATH=$0 snmpbulkwalk -m "" -On -Oq -Cr60 -t {args.timeout / 6:.2f} '
            f"-r 5 $1 $2 >/dev/null 2>&1; true' < {jobs}\n"
        )
        script.chmod(0o700)
        results[f"snmpbulkwalk, {len(lines)} walks, xargs -P 64"] = measure(["/bin/sh", str(script)])

        cpu_model = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                          if ln.startswith("model name")), platform.processor())  # fmt: skip
        print(f"{os.cpu_count()} cores, {cpu_model}, Python {platform.python_version()}")
        print(f"{args.agents} agents ({len(dead)} dead), RTT {args.rtt_ms} ms, loss {args.loss:.1%}")
        print(f"fleet report: {rep['polled']} polled, {len(rep['unreachable'])} unreachable, "
              f"poll phase {rep['poll_seconds'].get('wall')} s, status {rep['status']}")  # fmt: skip
        base = results["fleet sweep"]
        print(f"\n{'tool':50} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'wall x':>7} {'CPU x':>7}")
        for name, m in results.items():
            print(f"{name:50} {m.wall:8.1f} {m.cpu:8.1f} {m.peak_rss_mb:8.0f} {m.wall / base.wall:7.2f} "
                  f"{m.cpu / max(base.cpu, 1e-9):7.2f}")  # fmt: skip
    finally:
        for p in (relay, sim):
            if p is not None:
                p.terminate()
                p.wait(10)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
