"""A TCP relay that adds network latency on loopback: each front port forwards to one backend, every chunk delayed by
half the round trip in each direction (order kept), connection set-up by one round trip. Loopback only.

    python bench/tcprelay.py --map 20000:9000 --map 20001:9001 --rtt-ms 20 --seconds 600
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from pathlib import Path

HOST = "127.0.0.1"


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, chunk = await queue.get()
            if not chunk:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(chunk)
            await writer.drain()

    sender = asyncio.create_task(deliver())
    try:
        while chunk := await reader.read(65536):
            queue.put_nowait((time.monotonic() + delay, chunk))
    except ConnectionError:
        pass
    finally:
        queue.put_nowait((0.0, b""))
        with contextlib.suppress(ConnectionError):
            await sender
        writer.close()


def handler(backend: int, delay: float):  # type: ignore[no-untyped-def]
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(2 * delay)  # SYN / SYN-ACK over the "network"
        try:
            b_reader, b_writer = await asyncio.open_connection(HOST, backend)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pump(reader, b_writer, delay), _pump(b_reader, writer, delay))

    return handle


async def main(maps: list[tuple[int, int]], rtt_ms: float, seconds: float) -> None:
    delay = rtt_ms / 2000.0
    servers = [await asyncio.start_server(handler(back, delay), HOST, front, backlog=512) for front, back in maps]
    print("ready", flush=True)
    await asyncio.sleep(seconds)
    for s in servers:
        s.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--map", action="append", default=[], help="FRONT:BACKEND port pair on 127.0.0.1")
    ap.add_argument("--map-file", help="a file of FRONT:BACKEND lines")
    ap.add_argument("--rtt-ms", type=float, default=20.0)
    ap.add_argument("--seconds", type=float, default=600.0)
    args = ap.parse_args()
    pairs = list(args.map)
    if args.map_file:
        pairs += Path(args.map_file).read_text().split()
    asyncio.run(main([(int(a), int(b)) for a, b in (p.split(":") for p in pairs)], args.rtt_ms, args.seconds))
