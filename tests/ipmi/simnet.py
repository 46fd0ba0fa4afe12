"""Fleet's own simulated BMCs in child processes, behind bench/udprelay.py (latency, loss, dead ports): a network
of many BMCs for tests and benchmarks, on 127.0.0.1 only. The simulators run in processes of their own so that the
client under test does not share an interpreter lock with them."""

from __future__ import annotations

import contextlib
import multiprocessing
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path

from fleet.collectors.targets import IpmiTarget
from fleet.sim.layout import SimServer
from fleet.sweep.secrets import Secret

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def _serve(conn: Connection, ports: list[int], users: dict[str, str]) -> None:
    from fleet.sim.run import start_simulators

    sim = start_simulators([SimServer(HOST, p) for p in ports], users=users)
    conn.send("ready")
    try:
        conn.recv()  # anything, or the parent gone (EOF): stop
    except EOFError:
        pass
    finally:
        sim.stop()


def free_ports(n: int, taken: set[int] = frozenset()) -> list[int]:  # type: ignore[assignment]
    """n distinct UDP ports on 127.0.0.1 free right now (all held open until chosen, so none repeats)."""
    held, ports = [], []
    while len(ports) < n:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((HOST, 0))
        held.append(s)
        if s.getsockname()[1] not in taken:
            ports.append(s.getsockname()[1])
    for s in held:
        s.close()
    return ports


class SimNet:
    def __init__(
        self, live: int, *, dead: int = 0, procs: int = 1, rtt_ms: str = "20-30", loss: float = 0.0,
        password: str = "simnet-pw", more_rtt_ms: tuple[str, ...] = (),
    ) -> None:  # fmt: skip
        """`more_rtt_ms`: further relays in front of the same BMCs, each with its own latency (`targets(i)`)."""
        self.live, self.dead, self.procs, self.loss = live, dead, procs, loss
        self.rtts = (rtt_ms, *more_rtt_ms)
        self.password = password
        self.fronts: list[list[int]] = []
        self._children: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
        self._relays: list[subprocess.Popen[str]] = []

    def start(self, timeout: float = 120.0) -> SimNet:
        backs = free_ports(self.live)
        taken = set(backs)
        for _ in self.rtts:
            self.fronts.append(free_ports(self.live + self.dead, taken))
            taken |= set(self.fronts[-1])
        ctx = multiprocessing.get_context("spawn")
        try:
            for i in range(self.procs):
                parent, child = ctx.Pipe()
                proc = ctx.Process(target=_serve, args=(child, backs[i :: self.procs], {"admin": self.password}),
                                   daemon=True, name=f"simnet-{i}")  # fmt: skip
                proc.start()
                child.close()
                self._children.append((proc, parent))
            for proc, parent in self._children:
                if not parent.poll(timeout) or parent.recv() != "ready":
                    raise RuntimeError(f"simulated BMCs in {proc.name} did not start")
            for rtt, fronts in zip(self.rtts, self.fronts, strict=True):
                argv = [sys.executable, str(REPO / "bench" / "udprelay.py"), "--rtt-ms", rtt, "--loss",
                        str(self.loss), "--seconds", "3600"]  # fmt: skip
                for f, b in zip(fronts, backs, strict=False):
                    argv += ["--map", f"{f}:{b}"]
                for f in fronts[self.live :]:
                    argv += ["--dead", str(f)]
                relay = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)  # its errors, if any, on our stderr
                self._relays.append(relay)
                assert relay.stdout is not None
                if relay.stdout.readline().strip() != "ready":
                    raise RuntimeError("the relay did not start")
        except BaseException:
            self.stop()
            raise
        return self

    def targets(self, relay: int = 0) -> list[IpmiTarget]:
        return [IpmiTarget(HOST, f, "admin", Secret(self.password)) for f in self.fronts[relay]]

    def stop(self) -> None:
        for relay in self._relays:
            relay.terminate()
            relay.wait(10)
        self._relays.clear()
        for proc, parent in self._children:
            with contextlib.suppress(OSError):
                parent.send("stop")
            parent.close()
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self._children.clear()

    def __enter__(self) -> SimNet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
