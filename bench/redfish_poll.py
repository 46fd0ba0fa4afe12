"""Benchmark: the Redfish collector against curl fetching the same resources, in the same run.

    python bench/redfish_poll.py [--bmcs 200] [--rtt-ms 20] [--skip-corpus]

1. Corpus: each of the seven captured trees served by sushy-static (plain HTTP: it is a single-threaded HTTP/1.0
   server, TLS would only measure its handshakes). One steady-state poll per tree (the second one: the cursor knows
   the log paths and that the tree cannot `$expand`), client CPU and wall; then one curl process fetching exactly the
   URLs the collector requested (`--parallel --parallel-max 2`, the collector's per-BMC limit).
2. Fleet scale: N simulated Redfish BMCs (fleet.sim, TLS with a self-signed certificate) behind bench/tcprelay.py
   (one front port per BMC, `--rtt-ms` of round trip). `poll_redfish_many` polls all N at once in this process
   (pinned certificate, session login); then N curl processes at once (`xargs -P N`), each fetching the URLs the
   collector requested from that BMC, with basic auth from a config file (never a password on a command line).

CPU of this process (getrusage) for the collector; CPU of the curl process tree (wait4) for curl. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from sweep import measure  # noqa: E402

from fleet.collectors.redfish import client as rf_client  # noqa: E402
from fleet.collectors.redfish import poll_redfish, poll_redfish_many  # noqa: E402
from fleet.collectors.targets import RedfishTarget  # noqa: E402
from fleet.sweep.secrets import Secret  # noqa: E402

CORPUS = Path(os.environ.get("FLEET_SHARED", REPO.parent / "shared")) / "corpus" / "redfish"
TREES = ("csm-DL325", "csm-XL675d_A100", "csm-Gigabyte", "csm-Intel", "dmtf-public-rackmount1",
         "dmtf-public-localstorage", "dmtf-public-tower")  # fmt: skip
PASSWORD = "bench-" + os.urandom(6).hex()
CURL = "curl"


def cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def free_tcp_ports(n: int) -> list[int]:
    held, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        held.append(s)
        ports.append(s.getsockname()[1])
    for s in held:
        s.close()
    return ports


class Trace:
    """Records the requests the collector sends, per BMC port, so curl can fetch exactly the same resources."""

    def __init__(self) -> None:
        self.paths: dict[int, list[str]] = {}
        self._orig = rf_client.Client._send

    def __enter__(self) -> Trace:
        orig, paths = self._orig, self.paths

        async def send(client: Any, method: str, path: str, **kw: Any) -> Any:
            if method == "GET":
                paths.setdefault(client.target.port, []).append(path)
            return await orig(client, method, path, **kw)

        rf_client.Client._send = send  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        rf_client.Client._send = self._orig  # type: ignore[method-assign]


def curl_config(folder: Path, name: str, base: str, paths: list[str], *, tls: bool) -> Path:
    lines = [f'user = "admin:{PASSWORD}"', "silent", "globoff"] + (["insecure"] if tls else [])
    for p in paths:
        lines += [f'url = "{base}{p.replace("$", "%24")}"', 'output = "/dev/null"']
    cfg = folder / f"{name}.curl"
    cfg.write_text("\n".join(lines) + "\n")
    cfg.chmod(0o600)
    return cfg


def corpus_run(folder: Path) -> list[dict[str, Any]]:
    exe = Path(sys.executable).parent / "sushy-static"
    rows = []
    for tree in TREES:
        port = free_tcp_ports(1)[0]
        proc = subprocess.Popen([str(exe), "-m", str(CORPUS / tree / "redfish" / "v1"), "-i", "127.0.0.1", "-p",
                                 str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.1)
            target = RedfishTarget("127.0.0.1", port, "admin", Secret(PASSWORD), scheme="http")
            first = asyncio.run(poll_redfish(target, timeout=60))
            with Trace() as trace:
                c0, t0 = cpu(), time.monotonic()
                steady = asyncio.run(poll_redfish(target, timeout=60, cursor=first.cursor))
                wall, used = time.monotonic() - t0, cpu() - c0
            paths = trace.paths.get(port, [])
            cfg = curl_config(folder, tree, f"http://127.0.0.1:{port}", paths, tls=False)
            m = measure([CURL, "--parallel", "--parallel-max", "2", "-K", str(cfg)])
            rows.append({"tree": tree, "requests": len(paths), "readings": len(steady.readings),
                         "error": steady.error, "fleet_wall": wall, "fleet_cpu": used, "curl_wall": m.wall,
                         "curl_cpu": m.cpu})  # fmt: skip
        finally:
            proc.terminate()
            proc.wait()
    return rows


def _serve_sims(ports: list[int], cert: str, key: str, password: str, ready: Any, stop: Any) -> None:
    from fleet.sim.layout import Layout, SimServer
    from fleet.sim.run import start_simulators

    layout = Layout(psu_count=2, fan_count=6, disks=4, dimms=8, cpus=2, raid_battery=True)
    servers = [SimServer("127.0.0.1", p, "redfish", layout, vendor="hpe", model="DL380") for p in ports]
    fleet = start_simulators(servers, users={"admin": password}, tls=(cert, key))
    ready.set()
    stop.wait()
    fleet.stop()


def scale_run(folder: Path, n: int, rtt_ms: float) -> dict[str, Any]:
    from fleet.sim.tlscert import self_signed

    cert, key, pin = self_signed(folder)
    ports = free_tcp_ports(2 * n)  # one call: ports freed by a first call could come back from a second
    back, front = ports[:n], ports[n:]
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    sims = ctx.Process(target=_serve_sims, args=(back, str(cert), str(key), PASSWORD, ready, stop), daemon=True)
    sims.start()
    mapfile = folder / "relay.map"
    mapfile.write_text("\n".join(f"{f}:{b}" for f, b in zip(front, back, strict=True)))
    relay = subprocess.Popen([sys.executable, str(REPO / "bench" / "tcprelay.py"), "--map-file", str(mapfile),
                              "--rtt-ms", str(rtt_ms), "--seconds", "900"], stdout=subprocess.PIPE)  # fmt: skip
    try:
        if not ready.wait(120):
            sys.exit("the simulated BMCs did not start")
        assert relay.stdout is not None and relay.stdout.readline().strip() == b"ready"
        targets = [RedfishTarget("127.0.0.1", p, "admin", Secret(PASSWORD), cert_sha256=pin) for p in front]
        with Trace() as trace:
            c0, t0 = cpu(), time.monotonic()
            results = asyncio.run(poll_redfish_many(targets, timeout=60, concurrency=n))
            wall, used = time.monotonic() - t0, cpu() - c0
        errors = sorted({r.error for r in results if r.error})
        asyncio.run(rf_client.close_sessions())
        cfgs = [curl_config(folder, f"bmc{p}", f"https://127.0.0.1:{p}", trace.paths.get(p, []), tls=True)
                for p in front]  # fmt: skip
        listing = folder / "configs.txt"
        listing.write_text("\n".join(str(c) for c in cfgs) + "\n")
        m = measure(["bash", "-c", f"xargs -P {n} -I{{}} {CURL} -K {{}} < {listing}"])
        return {"bmcs": n, "rtt_ms": rtt_ms, "requests_per_bmc": len(trace.paths.get(front[0], [])),
                "errors": errors, "fleet_wall": wall, "fleet_cpu": used, "curl_wall": m.wall, "curl_cpu": m.cpu,
                "curl_rc": m.rc}  # fmt: skip
    finally:
        relay.terminate()
        relay.wait()
        stop.set()
        sims.join(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bmcs", type=int, default=200)
    ap.add_argument("--rtt-ms", type=float, default=20.0)
    ap.add_argument("--skip-corpus", action="store_true")
    args = ap.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="fleet-rf-bench-") as tmp:
        folder = Path(tmp)
        if not args.skip_corpus:
            if not CORPUS.is_dir():
                sys.exit(f"corpus not found at {CORPUS} (set FLEET_SHARED)")
            print(f"{'tree':26} {'GETs':>4} {'fleet ms':>9} {'fleet CPU ms':>12} {'curl ms':>8} {'curl CPU ms':>11}"
                  f" {'CPU ratio':>9}")  # fmt: skip
            for r in corpus_run(folder):
                ratio = r["fleet_cpu"] / r["curl_cpu"] if r["curl_cpu"] else float("nan")
                print(f"{r['tree']:26} {r['requests']:4d} {r['fleet_wall'] * 1000:9.0f} {r['fleet_cpu'] * 1000:12.0f}"
                      f" {r['curl_wall'] * 1000:8.0f} {r['curl_cpu'] * 1000:11.0f} {ratio:9.2f}"
                      + (f"  error: {r['error']}" if r["error"] else ""))  # fmt: skip
        s = scale_run(folder, args.bmcs, args.rtt_ms)
        print(f"\n{s['bmcs']} BMCs at once over TLS, {s['rtt_ms']:g} ms RTT, {s['requests_per_bmc']} GETs per BMC"
              f" (errors: {s['errors'] or 'none'}; curl exit {s['curl_rc']})")  # fmt: skip
        print(
            f"  fleet: wall {s['fleet_wall']:.2f} s, CPU {s['fleet_cpu']:.2f} s "
            f"({s['fleet_cpu'] / s['bmcs'] * 1000:.1f} ms per BMC), one process"
        )
        print(
            f"  curl:  wall {s['curl_wall']:.2f} s, CPU {s['curl_cpu']:.2f} s "
            f"({s['curl_cpu'] / s['bmcs'] * 1000:.1f} ms per BMC), {s['bmcs']} processes"
        )
        print(
            f"  ratio fleet/curl: wall {s['fleet_wall'] / s['curl_wall']:.2f}, CPU {s['fleet_cpu'] / s['curl_cpu']:.2f}"
        )


if __name__ == "__main__":
    main()
