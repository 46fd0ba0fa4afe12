"""Outages to cause from the console, under `fleet demo` only: cut a server's network, stop its web server, restore.

The console knows the demo through `DemoControl`, which `fleet demo` hands to it (fleet.sim.demo.Demo is one): the
console never reaches into the simulators. After a change the demo sweeps at once, so the outage shows at the next
service check: in the SLA view as an open outage with its cause (a cut network is `network`, a stopped web server
`service`), and, after an hour of it, the credit line of a network outage.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Engine


class DemoControl(Protocol):
    def cut_network(self, server_id: int, cut: bool = True) -> str: ...

    def break_web(self, server_id: int, mode: str = "error") -> str: ...

    def restore(self, server_id: int) -> str: ...

    def sweep_now(self) -> None: ...


# what -> (palette title, help): the palette lists them only under `fleet demo`.
OUTAGES: dict[str, tuple[str, str]] = {
    "cut": ("demo: cut the network of the selected server", "its controller and its web and DNS stop answering"),
    "web": ("demo: break the selected server's web server", "its web page answers 503; the host stays up"),
    "restore": ("demo: restore the selected server", "network and services answer again"),
}


def cause_outage(engine: Engine, demo: DemoControl, what: str, server_id: int) -> str:
    """Do it (in a worker: the simulators answer over a pipe), wake the demo's sweep, and say what to watch."""
    del engine  # the console's write actions all take it; this one changes only the simulated world
    if what == "cut":
        host = demo.cut_network(server_id)
        text = f"demo: {host}'s network is cut; the next service check records a network outage (SLA view)"
    elif what == "web":
        host = demo.break_web(server_id)
        text = f"demo: {host}'s web server answers 503; the next service check records a service outage (SLA view)"
    elif what == "restore":
        host = demo.restore(server_id)
        text = f"demo: {host} answers again; the next service check closes its outages"
    else:
        raise ValueError(f"no demo action {what!r}")
    demo.sweep_now()
    return text
