"""Benchmark: client CPU per BMC of one warm poll on the engine, broken down by IPMI command. Not a test.

    python bench/ipmi_cpu.py [--bmcs 40] [--rounds 3] [--concurrency 64] [--profile out.prof]

N OpenIPMI `ipmi_sim` BMCs (fleet's 1u and 2u layouts, alternating) on 127.0.0.1, no relay: one cold round (SDR
download, first FRU read), then `--rounds` warm rounds with the cursors of the round before, as a sweep does. For
the warm rounds it prints the process's CPU (user + system, `resource.getrusage`: the engine runs in this thread,
the simulators in their own processes) per BMC, the requests sent per BMC by IPMI command (login steps included),
and the packets sent and received. `--profile` writes a cProfile of the warm rounds (`python -m pstats`); cProfile
inflates the CPU, so the figures printed come from a run without it.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ipmi_poll import PASSWORD, start_sims  # noqa: E402
from bench.sweep import free_ports  # noqa: E402

NAMES = {
    (0x06, 0x38): "Get Channel Auth Capabilities",
    (0x06, 0x3B): "Set Session Privilege Level",
    (0x06, 0x3C): "Close Session",
    (0x06, 0x01): "Get Device ID",
    (0x0A, 0x20): "Get SDR Repository Info",
    (0x0A, 0x22): "Reserve SDR Repository",
    (0x0A, 0x23): "Get SDR",
    (0x04, 0x2D): "Get Sensor Reading",
    (0x04, 0x23): "Get Sensor Reading Factors",
    (0x00, 0x01): "Get Chassis Status",
    (0x0A, 0x40): "Get SEL Info",
    (0x0A, 0x43): "Get SEL Entry",
    (0x0A, 0x10): "Get FRU Inventory Area Info",
    (0x0A, 0x11): "Read FRU Data",
}


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def install_counters() -> tuple[collections.Counter[str], collections.Counter[str]]:
    """Count requests by IPMI command and packets sent (for one extra round: the wrappers cost CPU themselves)."""
    from pyghmi.ipmi.private import session as _s

    counts: collections.Counter[str] = collections.Counter()
    packets: collections.Counter[str] = collections.Counter()
    original, send = _s.Session.raw_command, _s.Session.send_payload

    def counted(self, netfn, command, *args, **kw):  # type: ignore[no-untyped-def]
        counts[NAMES.get((netfn, command), f"netfn 0x{netfn:02x} cmd 0x{command:02x}")] += 1
        return original(self, netfn, command, *args, **kw)

    def sent(self, *args, **kw):  # type: ignore[no-untyped-def]
        packets["sent"] += 1
        return send(self, *args, **kw)

    _s.Session.raw_command, _s.Session.send_payload = counted, sent
    return counts, packets


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bmcs", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--rtt-ms", help="through bench/udprelay.py with this round trip (e.g. 20-30), no loss")
    ap.add_argument("--profile", help="write a cProfile (CPU time) of the warm rounds here")
    a = ap.parse_args()
    if not shutil.which("ipmi_sim"):
        sys.exit("needs ipmi_sim (openipmi)")
    from fleet.collectors.ipmi import poll_ipmi_many
    from fleet.collectors.targets import IpmiOptions, IpmiTarget
    from fleet.sweep.secrets import Secret

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        procs, ports = start_sims(a.bmcs, root)
        if a.rtt_ms:
            fronts = free_ports(a.bmcs, set(ports))
            argv = [sys.executable, str(REPO / "bench" / "udprelay.py"), "--rtt-ms", a.rtt_ms, "--loss", "0",
                    "--seconds", "1800"]  # fmt: skip
            for f, p in zip(fronts, ports, strict=True):
                argv += ["--map", f"{f}:{p}"]
            relay = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
            assert relay.stdout is not None and relay.stdout.readline().strip() == "ready"
            procs.append(relay)  # type: ignore[arg-type]
            ports = fronts
        try:
            options = IpmiOptions(sdr_cache_dir=str(root / "sdr"), bind="127.0.0.1")
            targets = [IpmiTarget("127.0.0.1", p, "admin", Secret(PASSWORD), cipher_suites=(3,)) for p in ports]
            t0, c0 = time.perf_counter(), _cpu()
            res = poll_ipmi_many(targets, timeout=30, concurrency=a.concurrency, options=options)
            cold_wall, cold_cpu = time.perf_counter() - t0, _cpu() - c0
            cursors = {(t.host, t.port): r.cursor for t, r in zip(targets, res, strict=True) if r.cursor}
            cold_errors = sum(r.error is not None for r in res)
            prof = cProfile.Profile(time.process_time) if a.profile else None
            errors, walls = 0, []
            c0 = _cpu()
            if prof:
                prof.enable()
            for _ in range(a.rounds):
                t0 = time.perf_counter()
                res = poll_ipmi_many(targets, timeout=30, concurrency=a.concurrency, cursors=cursors, options=options)
                walls.append(time.perf_counter() - t0)
                errors += sum(r.error is not None for r in res)
                cursors = {(t.host, t.port): r.cursor for t, r in zip(targets, res, strict=True) if r.cursor}
            if prof:
                prof.disable()
                prof.dump_stats(a.profile)
            warm_cpu = _cpu() - c0
            counts, packets = install_counters()
            poll_ipmi_many(targets, timeout=30, concurrency=a.concurrency, cursors=cursors, options=options)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait()
    polls = a.bmcs * a.rounds
    load = os.getloadavg()
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  nproc={os.cpu_count()}  "
          f"python {platform.python_version()}  load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")  # fmt: skip
    print(f"# bench/ipmi_cpu.py --bmcs {a.bmcs} --rounds {a.rounds} --concurrency {a.concurrency}"
          + (f" --rtt-ms {a.rtt_ms}" if a.rtt_ms else "") + (" (profiled)" if prof else ""))  # fmt: skip
    print(f"cold round: {cold_wall:.2f} s wall, {cold_cpu * 1000 / a.bmcs:.1f} ms CPU per BMC, {cold_errors} errors")
    print(f"warm rounds: {polls} polls, {errors} errors, wall per round {min(walls):.2f}-{max(walls):.2f} s")
    print(f"warm CPU per BMC: {warm_cpu * 1000 / polls:.2f} ms")
    total = sum(counts.values())
    print(f"requests per warm poll: {total / a.bmcs:.1f}; packets sent per poll {packets['sent'] / a.bmcs:.1f}")
    for name, n in counts.most_common():
        print(f"  {n / a.bmcs:6.1f}  {name}")


if __name__ == "__main__":
    main()
