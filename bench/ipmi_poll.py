"""Benchmark: the IPMI collector against ipmitool on N simulated BMCs (ipmi_sim, 127.0.0.1 only). Not a test.

    python bench/ipmi_poll.py [--bmcs 20] [--rounds 5] [--concurrency 4]

A "full poll" of one BMC is: every sensor, the SEL, the FRU inventory, the chassis power state. For the collector
that is `poll_ipmi` (warm: SDR cached in the process, cursor from the previous round); for ipmitool, one
`ipmitool exec` session running `sdr elist`, `sel elist`, `fru print`, `chassis power status`. Reported:
per-BMC p50/p95, reads (single IPMI request/response) over 200 ms, and ratios. The collector runs twice, with and
without the lost-wakeup fix (FLEET_PYGHMI_UNPATCHED=1), each in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PASSWORD = "bench-pw"
os.environ["FLEET_IPMI_BIND"] = "127.0.0.1"  # loopback only, for this process, its workers and subprocesses


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))] if s else float("nan")


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sims(n: int, root: Path) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    from fleet.sim import ipmi_sim

    procs, ports = [], []
    for i in range(n):
        layout = ipmi_sim.LAYOUTS["2u" if i % 2 else "1u"]
        port, cport = free_port(), free_port(socket.SOCK_STREAM)
        files = ipmi_sim.write_bmc(root / f"bmc{i}", layout, i, port, cport, PASSWORD)
        procs.append(
            subprocess.Popen(
                files.argv(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
        ports.append(port)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # ready once the console prompts and the LAN interface answers
            try:
                with socket.create_connection(("127.0.0.1", cport), timeout=1) as s:
                    if b">" in s.recv(64) and ipmi_sim.answers(port):
                        break
            except OSError:
                pass
            time.sleep(0.05)
        else:
            sys.exit(f"simulated BMC {i} did not answer on 127.0.0.1:{port}")
    return procs, ports


def worker(ports: list[int], rounds: int) -> dict[str, object]:
    """Runs in its own process: sequential full polls, every request timed."""
    from pyghmi.ipmi.private import session as pyghmi_session

    from fleet.collectors.ipmi import poll_ipmi
    from fleet.collectors.targets import IpmiTarget
    from fleet.sweep.ipmi_options import ipmi_options  # FLEET_IPMI_BIND, FLEET_PYGHMI_UNPATCHED: settings
    from fleet.sweep.secrets import Secret

    reads: list[float] = []
    original = pyghmi_session.Session.raw_command

    def timed(self, *a, **kw):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return original(self, *a, **kw)
        finally:
            reads.append(time.perf_counter() - t0)

    pyghmi_session.Session.raw_command = timed
    targets = [IpmiTarget("127.0.0.1", p, "admin", Secret(PASSWORD), cipher_suites=(3,)) for p in ports]
    options = ipmi_options()
    cursors = {t.port: poll_ipmi(t, options=options).cursor for t in targets}  # cold round: SDR download, not counted
    reads.clear()
    polls: list[float] = []
    errors = 0
    t_all = time.perf_counter()
    for _ in range(rounds):
        for t in targets:
            t0 = time.perf_counter()
            r = poll_ipmi(t, timeout=10, cursor=cursors[t.port], options=options)
            polls.append(time.perf_counter() - t0)
            errors += r.error is not None
            cursors[t.port] = r.cursor
    return {"polls": polls, "reads": reads, "errors": errors, "wall": time.perf_counter() - t_all}


def run_worker(ports: list[int], rounds: int, unpatched: bool) -> dict[str, object]:
    env = {**os.environ, "FLEET_PYGHMI_UNPATCHED": "1" if unpatched else "0"}
    argv = [sys.executable, __file__, "--worker", ",".join(map(str, ports)), "--rounds", str(rounds)]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout)


def ipmitool_session(port: int, script: Path) -> float:
    env = {**os.environ, "IPMI_PASSWORD": PASSWORD}
    argv = ["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", str(port), "-U", "admin", "-E", "-C", "3"]
    t0 = time.perf_counter()
    subprocess.run([*argv, "exec", str(script)], env=env, capture_output=True, check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bmcs", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--worker")
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(worker([int(p) for p in a.worker.split(",")], a.rounds)))
        return
    if not (shutil.which("ipmi_sim") and shutil.which("ipmitool")):
        sys.exit("needs ipmi_sim (openipmi) and ipmitool")
    from fleet.collectors.ipmi import poll_ipmi_many
    from fleet.collectors.targets import IpmiTarget
    from fleet.sweep.ipmi_options import ipmi_options
    from fleet.sweep.secrets import Secret

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        procs, ports = start_sims(a.bmcs, root)
        try:
            print(f"{a.bmcs} simulated BMCs, {a.rounds} warm rounds, concurrency {a.concurrency}")
            rows = {}
            # as shipped, most polls run into their 10 s deadline: one round is evidence enough
            rows["collector, pyghmi as shipped"] = run_worker(ports, 1, unpatched=True)
            rows["collector, wake-up fix"] = run_worker(ports, a.rounds, unpatched=False)
            script = root / "poll.ipmi"
            script.write_text("sdr elist\nsel elist\nfru print\nchassis power status\n")
            for p in ports:  # warm-up, like the collector's cold round
                ipmitool_session(p, script)
            tool = []
            t0 = time.perf_counter()
            for _ in range(a.rounds):
                tool += [ipmitool_session(p, script) for p in ports]
            tool_wall = time.perf_counter() - t0
            env = {**os.environ, "IPMI_PASSWORD": PASSWORD}
            xargs = [
                "xargs",
                "-P",
                str(a.concurrency),
                "-I{}",
                "ipmitool",
                "-I",
                "lanplus",
                "-H",
                "127.0.0.1",
                "-p",
                "{}",
            ]
            xargs += ["-U", "admin", "-E", "-C", "3", "exec", str(script)]
            t0 = time.perf_counter()
            for _ in range(a.rounds):
                subprocess.run(
                    xargs, input="\n".join(map(str, ports)), text=True, env=env, capture_output=True, check=True
                )
            xargs_wall = time.perf_counter() - t0
            targets = [IpmiTarget("127.0.0.1", p, "admin", Secret(PASSWORD), cipher_suites=(3,)) for p in ports]
            options = ipmi_options()
            # the cold round: fills the SDR cache
            res = poll_ipmi_many(targets, timeout=10, concurrency=a.concurrency, options=options)
            cursors = {(t.host, t.port): r.cursor for t, r in zip(targets, res, strict=True) if r.cursor}
            t0 = time.perf_counter()
            many_errors = 0
            for _ in range(a.rounds):
                res = poll_ipmi_many(targets, timeout=10, concurrency=a.concurrency, cursors=cursors, options=options)
                many_errors += sum(r.error is not None for r in res)
            many_wall = time.perf_counter() - t0
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait()

    n = a.bmcs * a.rounds
    print(f"\n{'':34} {'per-BMC p50':>11} {'p95':>8} {'read p95':>9} {'reads>200ms':>11} {'round wall':>10}")
    for label, r in rows.items():
        polls: list[float] = r["polls"]  # type: ignore[assignment]
        reads: list[float] = r["reads"]  # type: ignore[assignment]
        print(
            f"{label:34} {pct(polls, 50) * 1e3:9.1f}ms {pct(polls, 95) * 1e3:6.1f}ms {pct(reads, 95) * 1e3:7.2f}ms"
            f" {sum(x > 0.2 for x in reads):5d}/{len(reads):<5d} {r['wall'] / (len(polls) / a.bmcs):8.3f}s"  # type: ignore
            + (f"  errors {r['errors']}" if r["errors"] else "")  # type: ignore[index]
        )
    blank = f"{'':11} {'':8} {'':9} {'':11}"
    seq = f"{pct(tool, 50) * 1e3:9.1f}ms {pct(tool, 95) * 1e3:6.1f}ms {'':9} {'':11}"
    print(f"{'ipmitool exec, sequential':34} {seq} {tool_wall / a.rounds:8.3f}s")
    print(f"{'ipmitool exec, xargs -P ' + str(a.concurrency):34} {blank} {xargs_wall / a.rounds:8.3f}s")
    print(
        f"{'poll_ipmi_many, ' + str(a.concurrency) + ' at once':34} {blank} {many_wall / a.rounds:8.3f}s"
        + (f"  errors {many_errors}" if many_errors else "")
    )
    fixed: list[float] = rows["collector, wake-up fix"]["polls"]  # type: ignore[assignment]
    shipped: list[float] = rows["collector, pyghmi as shipped"]["polls"]  # type: ignore[assignment]
    print("\nratios:")
    print(f"  collector p50 / ipmitool p50 (sequential):   {pct(fixed, 50) / pct(tool, 50):.2f}")
    print(f"  collector p95 / ipmitool p95 (sequential):   {pct(fixed, 95) / pct(tool, 95):.2f}")
    print(f"  poll_ipmi_many wall / xargs -P wall:          {many_wall / xargs_wall:.2f}")
    print(f"  as shipped p95 / fixed p95 (per-BMC poll):    {pct(shipped, 95) / pct(fixed, 95):.2f}")
    print(f"  polls: {n} with the fix, {a.bmcs} as shipped (one round: its polls run into the deadline)")


if __name__ == "__main__":
    main()
