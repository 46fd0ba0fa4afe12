"""A UDP relay that makes loopback behave like a datacenter network: 20-30 ms of round-trip latency, a small
fraction of packets dropped, and some front ports with nothing behind them (dead controllers).

    python bench/udprelay.py --map 20000:9000 --map 20001:9001 --dead 20002 --rtt-ms 20-30 --loss 0.01

Each front port (127.0.0.1) forwards to its backend port on 127.0.0.1; replies come back through the same relay
socket pair. Latency is split evenly over both directions. Loopback only, and it stops by itself (--seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import random
import resource
import signal
from collections.abc import Callable, Sequence

HOST = "127.0.0.1"


class Front(asyncio.DatagramProtocol):
    """Listens on a front port; one back socket per client address keeps replies going to the right client."""

    def __init__(self, relay: Relay, backend: int | None) -> None:
        self.relay = relay
        self.backend = backend
        self.transport: asyncio.DatagramTransport | None = None
        self.backs: dict[tuple[str, int], asyncio.DatagramTransport] = {}
        self.pending: dict[tuple[str, int], list[bytes]] = {}  # packets that arrived while the back socket opens
        self.tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.backend is None or self.relay.lost():
            return  # a dead controller, or a dropped packet: the client has to time out or retry
        back = self.backs.get(addr)
        if back is None:
            if addr in self.pending:
                self.pending[addr].append(data)
                return
            self.pending[addr] = [data]
            task = asyncio.ensure_future(self._open_back(addr))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            return
        self.relay.later(lambda: back.sendto(data))

    async def _open_back(self, addr: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        back, _ = await loop.create_datagram_endpoint(
            lambda: Back(self, addr),
            remote_addr=(HOST, self.backend),  # type: ignore[arg-type]
        )
        self.backs[addr] = back
        for data in self.pending.pop(addr, []):
            self.relay.later(functools.partial(back.sendto, data))


class Back(asyncio.DatagramProtocol):
    def __init__(self, front: Front, client: tuple[str, int]) -> None:
        self.front = front
        self.client = client

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.front.relay.lost():
            return
        front = self.front.transport
        assert front is not None
        self.front.relay.later(lambda: front.sendto(data, self.client))


class Relay:
    def __init__(self, rtt_ms: tuple[float, float], loss: float, seed: int) -> None:
        self.rtt_ms = rtt_ms
        self.loss = loss
        self.rng = random.Random(seed)
        self.loop = asyncio.get_event_loop()
        self.stopped = False

    def lost(self) -> bool:
        return self.loss > 0 and self.rng.random() < self.loss

    def later(self, send: Callable[[], None]) -> None:
        one_way = self.rng.uniform(*self.rtt_ms) / 2000.0
        self.loop.call_later(one_way, self._deliver, send)

    def _deliver(self, send: Callable[[], None]) -> None:
        if not self.stopped:  # a datagram still on its way when the relay stops is lost (its transport is closed)
            send()


async def serve(maps: Sequence[tuple[int, int]], dead: Sequence[int], rtt_ms: tuple[float, float], loss: float,
                seconds: float, seed: int = 1) -> None:  # fmt: skip
    loop = asyncio.get_running_loop()
    relay = Relay(rtt_ms, loss, seed)
    relay.loop = loop
    transports = []
    for front, backend in [*maps, *((d, None) for d in dead)]:
        t, _ = await loop.create_datagram_endpoint(lambda b=backend: Front(relay, b), local_addr=(HOST, front))
        transports.append(t)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    print("ready", flush=True)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    relay.stopped = True
    for t in transports:
        t.close()


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--map", action="append", default=[], help="FRONT:BACKEND port pair")
    ap.add_argument("--map-range", help="FRONT0:BACKEND0:COUNT, a run of consecutive pairs")
    ap.add_argument("--dead", action="append", type=int, default=[], help="a front port with nothing behind it")
    ap.add_argument("--rtt-ms", default="20-30")
    ap.add_argument("--loss", type=float, default=0.01)
    ap.add_argument("--seconds", type=float, default=900.0, help="stop by itself after this long")
    args = ap.parse_args()
    maps = [tuple(int(x) for x in m.split(":")) for m in args.map]
    if args.map_range:
        f0, b0, n = (int(x) for x in args.map_range.split(":"))
        maps += [(f0 + i, b0 + i) for i in range(n)]
    lo, _, hi = args.rtt_ms.partition("-")
    raise_fd_limit()
    asyncio.run(serve(maps, args.dead, (float(lo), float(hi or lo)), args.loss, args.seconds))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
