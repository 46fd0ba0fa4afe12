"""Benchmark (not a test): the SNMP health poll of each recording, against net-snmp's snmpbulkwalk.

    python bench/snmp_poll.py [--repeat 5] [--devices 50]

Starts one snmpsim on a free loopback port over the shared LibreNMS recordings (../shared/corpus/snmp, or
$FLEET_SHARED/corpus/snmp) and, for each recording:
  - the collector: client CPU (process time) of a whole poll_snmp (detection GETNEXT + the profile's column
    walks + decoding), averaged over --repeat polls on the warm shared engine;
  - snmpbulkwalk: one process per column the profile walks (snmpbulkwalk takes one subtree), same -Cr, whole
    process CPU (user + sys of the children), the community given in an snmp.conf (SNMPCONFPATH), not on argv;
then --devices polls at once with poll_snmp_many, and the same walks by snmpbulkwalk, 8 processes at a time.
The simulator is a single Python process, so wall times measure snmpsim more than either client.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fleet.collectors.snmp import poll_snmp, poll_snmp_many  # noqa: E402
from fleet.collectors.snmp.engine import COUNTERS, MAX_VARBINDS, close_all  # noqa: E402
from fleet.collectors.snmp.profiles import profile_by_name  # noqa: E402
from fleet.collectors.targets import SnmpTarget  # noqa: E402
from fleet.sweep.secrets import Secret  # noqa: E402

SHARED = Path(os.environ.get("FLEET_SHARED", REPO.parent / "shared")).resolve()
CORPUS = SHARED / "corpus" / "snmp"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sim(tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    exe = Path(sys.executable).parent / "snmpsim-command-responder"
    port = free_port()
    (tmp / "cache").mkdir()
    cmd = [
        str(exe if exe.exists() else "snmpsim-command-responder"),
        f"--data-dir={CORPUS}",
        f"--cache-dir={tmp / 'cache'}",
        f"--agent-udpv4-endpoint=127.0.0.1:{port}",
        "--logging-method=null",
    ]
    proc = subprocess.Popen(cmd, env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120  # the first start indexes every recording
    error = None
    while time.monotonic() < deadline and proc.poll() is None:
        error = asyncio.run(poll_once("drac_r640", port)).error
        if error is None:
            return proc, port
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"snmpsim did not answer: {error}, exit status {proc.poll()}")


async def poll_once(name: str, port: int):  # type: ignore[no-untyped-def]
    try:
        return await poll_snmp(SnmpTarget("127.0.0.1", port, community=Secret(name)), timeout=30)
    finally:
        close_all()


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def bulkwalk(conf_dir: Path, port: int, root: tuple[int, ...]) -> int:
    """One snmpbulkwalk process over one subtree; the number of values it printed."""
    out = subprocess.run(
        ["snmpbulkwalk", "-m", "", "-On", "-Oq", f"-Cr{MAX_VARBINDS}", f"127.0.0.1:{port}", ".".join(map(str, root))],
        env={**os.environ, "SNMPCONFPATH": str(conf_dir)},
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return sum(1 for line in out.splitlines() if line and "No Such" not in line)


def conf_for(tmp: Path, community: str) -> Path:
    d = tmp / f"conf-{community}"
    d.mkdir(exist_ok=True)
    (d / "snmp.conf").write_text(f"defCommunity {community}\ndefVersion 2c\n")
    return d


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--devices", type=int, default=50)
    args = ap.parse_args()
    if not CORPUS.is_dir() or not shutil.which("snmpbulkwalk"):
        raise SystemExit(f"needs {CORPUS} and net-snmp's snmpbulkwalk")
    names = sorted(p.stem for p in CORPUS.glob("*.snmprec"))
    cpu_model = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  nproc={os.cpu_count()}  {cpu_model}")
    print(f"# python {platform.python_version()}, {' '.join(sys.argv)}")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        proc, port = start_sim(tmp)
        try:
            run(names, port, tmp, args)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def run(names: list[str], port: int, tmp: Path, args: argparse.Namespace) -> None:
    header = (
        f"{'recording':30} {'profile':13} {'walks':>5} {'values':>6} {'recv':>5} {'ours ms':>8} {'us/val':>7} "
        f"{'bulkwalk ms':>11} {'us/val':>7} {'ratio':>6}"
    )
    print(header)
    tot_ours = tot_theirs = 0.0
    per_device: dict[str, tuple[str, int]] = {}

    async def polls(name: str) -> tuple[float, int, str]:
        await poll_snmp(SnmpTarget("127.0.0.1", port, community=Secret(name)), timeout=30)  # warm the engine
        c0, v0 = time.process_time(), COUNTERS.varbinds
        vendor = ""
        for _ in range(args.repeat):
            r = await poll_snmp(SnmpTarget("127.0.0.1", port, community=Secret(name)), timeout=30)
            assert r.error is None, (name, r.error)
            vendor = r.vendor or ""
        cpu = (time.process_time() - c0) / args.repeat
        close_all()
        return cpu, (COUNTERS.varbinds - v0) // args.repeat, vendor

    for name in names:
        ours_cpu, ours_vals, vendor = asyncio.run(polls(name))
        profile = profile_by_name(vendor)
        conf = conf_for(tmp, name)
        c0 = children_cpu()
        values = 0
        for _ in range(args.repeat):
            values = sum(bulkwalk(conf, port, root) for root in profile.roots)
        theirs = (children_cpu() - c0) / args.repeat
        per_device[name] = (vendor, values)
        tot_ours += ours_cpu
        tot_theirs += theirs
        print(
            f"{name:30} {vendor:13} {len(profile.roots):5} {values:6} {ours_vals:5} {ours_cpu * 1e3:8.1f} "
            f"{ours_cpu / max(values, 1) * 1e6:7.1f} {theirs * 1e3:11.1f} {theirs / max(values, 1) * 1e6:7.1f} "
            f"{ours_cpu / theirs:6.2f}"
        )
    print(
        f"{'all 15 (sum)':30} {'':13} {'':5} {'':6} {'':5} {tot_ours * 1e3:8.1f} {'':7} {tot_theirs * 1e3:11.1f} "
        f"{'':7} "
        f"{tot_ours / tot_theirs:6.2f}"
    )

    # N devices at once: the recordings in turn.
    fleet = [names[i % len(names)] for i in range(args.devices)]
    targets = [SnmpTarget("127.0.0.1", port, community=Secret(n)) for n in fleet]

    async def many() -> tuple[float, float, int, int]:
        await poll_snmp(targets[0], timeout=30)  # engine up
        c0, w0, v0 = time.process_time(), time.monotonic(), COUNTERS.varbinds
        results = await poll_snmp_many(targets, timeout=120, concurrency=args.devices)
        cpu, wall = time.process_time() - c0, time.monotonic() - w0
        close_all()
        return cpu, wall, COUNTERS.varbinds - v0, sum(r.error is not None for r in results)

    cpu, wall, vals, errors = asyncio.run(many())
    jobs = [(conf_for(tmp, n), root) for n in fleet for root in profile_by_name(per_device[n][0]).roots]
    c0, w0 = children_cpu(), time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        bw_vals = sum(pool.map(lambda j: bulkwalk(j[0], port, j[1]), jobs))
    bw_cpu, bw_wall = children_cpu() - c0, time.monotonic() - w0
    print(
        f"\n{args.devices} devices at once: collector cpu {cpu:.2f} s ({cpu / args.devices * 1e3:.1f} ms/device, "
        f"{cpu / max(vals, 1) * 1e6:.1f} us/value, {vals} values), wall {wall:.1f} s, {errors} errors"
    )
    print(
        f"snmpbulkwalk, {len(jobs)} processes 8 at a time: cpu {bw_cpu:.2f} s ({bw_cpu / args.devices * 1e3:.1f} "
        f"ms/device, {bw_cpu / max(bw_vals, 1) * 1e6:.1f} us/value, {bw_vals} values), wall {bw_wall:.1f} s"
    )
    print(f"ratio collector/snmpbulkwalk cpu: {cpu / bw_cpu:.2f}")


if __name__ == "__main__":
    main()
